import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { createRequire } from 'node:module';

/** A free TCP port on loopback (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function loadAverages(): string {
  return loadavg()
    .map((v) => v.toFixed(2))
    .join(' / ');
}

/** One line describing the machine and software, for the report. */
export function machineLine(): string {
  const list = cpus();
  const model = list[0]?.model.trim() ?? 'unknown CPU';
  const require = createRequire(import.meta.url);
  const tfjs = (require('@tensorflow/tfjs-node/package.json') as { version: string }).version;
  const grpcJs = (require('@grpc/grpc-js/package.json') as { version: string }).version;
  return `${list.length} cores (${model}), Node ${process.version}, @tensorflow/tfjs-node ${tfjs} on libtensorflow from tensorflow-cpu 2.21, @grpc/grpc-js ${grpcJs}`;
}

export function today(): string {
  return new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}
