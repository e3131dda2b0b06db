/**
 * The benchmark's S3 server: versitygw (posix backend) on loopback, like the tests' S3TestServer,
 * but restartable on the same data with HTTP keep-alive on or off. versitygw closes every
 * connection after one response unless started with `--keep-alive`; AWS S3 and most stores keep
 * connections open, so the benchmark measures both.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCESS_KEY, SECRET_KEY, freePort, versitygwBinary } from '../../test/helpers/s3/s3-server.js';

export class BenchGateway {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly dataDir: string,
    public keepAlive: boolean,
  ) {}

  static async start(keepAlive: boolean): Promise<BenchGateway> {
    const dataDir = mkdtempSync(join(tmpdir(), 'tensorfleet-s3-bench-gw-'));
    mkdirSync(join(dataDir, 'gw'));
    mkdirSync(join(dataDir, 'meta'));
    const gw = new BenchGateway(await freePort(), dataDir, keepAlive);
    await gw.launch();
    return gw;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Restarts on the same data and port with keep-alive set as asked. */
  async restart(keepAlive: boolean): Promise<void> {
    await this.stop();
    this.keepAlive = keepAlive;
    await this.launch();
  }

  /** CPU seconds (user + system) the running server process has used. */
  cpuSeconds(): number {
    const pid = this.child?.pid;
    if (pid === undefined) return Number.NaN;
    return cpuOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'), 'self');
  }

  client(): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    const args = ['--access', ACCESS_KEY, '--secret', SECRET_KEY, '--port', `127.0.0.1:${this.port}`, '--quiet'];
    if (this.keepAlive) args.push('--keep-alive');
    args.push('posix', '--sidecar', join(this.dataDir, 'meta'), join(this.dataDir, 'gw'));
    const child = spawn(versitygwBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    this.child = child;
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`versitygw exited (${child.exitCode}): ${stderr}`);
      if (await canConnect(this.port)) return;
      if (Date.now() > deadline) throw new Error(`versitygw did not listen on ${this.port}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((res) => {
      child.once('exit', () => res());
      child.kill('SIGTERM');
    });
  }
}

/**
 * CPU seconds from a /proc/<pid>/stat line: the process's own (utime + stime) or its reaped
 * children's (cutime + cstime). Clock ticks are 100 per second on Linux.
 */
export function cpuOfStat(stat: string, whose: 'self' | 'children'): number {
  // Fields after "(comm) " start at field 3 (state); utime is field 14, cutime field 16.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = whose === 'self' ? 11 : 13;
  return (Number(fields[at]) + Number(fields[at + 1])) / 100;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      res(true);
    });
    socket.once('error', () => res(false));
  });
}
