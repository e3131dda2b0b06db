import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ECHO_SERVER = fileURLToPath(new URL('./echo-server.ts', import.meta.url));

export interface EchoServer {
  readonly grpcAddress: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts the bare grpc-js Predict server (echo-server.ts) answering with `response`. */
export function startEchoServer(response: Buffer): Promise<EchoServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', ECHO_SERVER, response.toString('base64')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`echo server exited with code ${code}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const port = /listening (\d+)/.exec(out)?.[1];
      if (port)
        resolve({
          grpcAddress: `127.0.0.1:${port}`,
          pid: child.pid!,
          stop: async () => {
            child.kill('SIGTERM');
            await exited;
          },
        });
    });
  });
}
