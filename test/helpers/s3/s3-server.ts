import { CreateBucketCommand, PutObjectCommand, DeleteObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { mkdir, mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../../..');
export const ENSURE_SCRIPT = 'scripts/s3/ensure-s3-server.sh';
export const ACCESS_KEY = 'tensorfleet-test';
export const SECRET_KEY = 'tensorfleet-test-secret';

/**
 * The versitygw binary that scripts/s3/ensure-s3-server.sh built (cached outside the checkout).
 * Fails with a message naming the script when it is missing; never builds from a test.
 */
export function versitygwBinary(): string {
  const cache = process.env.TENSORFLEET_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/root', '.cache'), 'tensorfleet');
  const script = readFileSyncSafe(join(REPO, ENSURE_SCRIPT));
  const version = /^VERSITYGW_VERSION=(\S+)$/m.exec(script)?.[1];
  const bin = join(cache, 's3', `versitygw-${version}`, 'bin', 'versitygw');
  if (!existsSync(bin)) throw new Error(`the S3 test server is not built: run 'bash ${ENSURE_SCRIPT}' (expected ${bin})`);
  return bin;
}

function readFileSyncSafe(path: string): string {
  return execFileSync('cat', [path], { encoding: 'utf8' });
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = net.createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => res(port));
    });
  });
}

/** PEM files for an S3 test server over TLS; the certificate must name localhost. */
export interface S3TestTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
}

/**
 * A real S3-compatible server (versitygw, posix backend) on loopback, with its data in a temp
 * directory. stop()/start() keep the data and the port, to simulate an outage.
 */
export class S3TestServer {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly bin: string,
    private readonly tls: S3TestTls | undefined,
  ) {}

  /** http://127.0.0.1:PORT, or https://localhost:PORT with TLS (the name the test certificate carries). */
  get endpoint(): string {
    return this.tls ? `https://localhost:${this.port}` : `http://127.0.0.1:${this.port}`;
  }

  static async start(options: { tls?: S3TestTls } = {}): Promise<S3TestServer> {
    const bin = versitygwBinary();
    const dataDir = await mkdtemp(join(tmpdir(), 'tensorfleet-s3-'));
    await mkdir(join(dataDir, 'gw'));
    await mkdir(join(dataDir, 'meta'));
    const server = new S3TestServer(await freePort(), dataDir, bin, options.tls);
    await server.resume();
    return server;
  }

  /** Starts (again) on the same port and data. */
  async resume(): Promise<void> {
    if (this.child !== undefined && this.child.exitCode === null) return;
    const child = spawn(
      this.bin,
      [
        '--access', ACCESS_KEY, '--secret', SECRET_KEY, '--port', `127.0.0.1:${this.port}`, '--quiet',
        ...(this.tls ? ['--cert', this.tls.certFile, '--key', this.tls.keyFile] : []),
        'posix', '--sidecar', join(this.dataDir, 'meta'), join(this.dataDir, 'gw'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
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

  /** Stops the process (the data stays). */
  async pause(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((res) => {
      child.once('exit', () => res());
      child.kill('SIGKILL');
    });
  }

  async close(): Promise<void> {
    await this.pause();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  client(credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(this.tls ? { requestHandler: { httpsAgent: new https.Agent({ ca: readFileSync(this.tls.caFile) }) } } : {}),
    });
  }
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      res(true);
    });
    socket.once('error', () => res(false));
  });
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

export async function putObject(client: S3Client, bucket: string, key: string, body: Buffer | string): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

/** Uploads a local directory's files under `prefix` (keys use '/'); `skip` filters relative paths. */
export async function uploadDirectory(client: S3Client, bucket: string, dir: string, prefix: string, skip: (rel: string) => boolean = () => false): Promise<string[]> {
  const keys: string[] = [];
  const walk = async (abs: string): Promise<void> => {
    for (const name of (await readdir(abs)).sort()) {
      const child = join(abs, name);
      if ((await stat(child)).isDirectory()) await walk(child);
      else {
        const rel = relative(dir, child).split('\\').join('/');
        if (skip(rel)) continue;
        await putObject(client, bucket, `${prefix}${rel}`, await readFile(child));
        keys.push(`${prefix}${rel}`);
      }
    }
  };
  await walk(dir);
  return keys;
}

export async function deletePrefix(client: S3Client, bucket: string, prefix: string): Promise<void> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  for (const o of page.Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
}

/** Writes the test server's keys as a credentials directory (`--s3_credentials_dir`) under `parent`; returns its path. */
export function writeCredentialsDir(parent: string): string {
  const dir = join(parent, 'creds');
  mkdirSync(dir);
  writeFileSync(join(dir, 'accessKeyId'), ACCESS_KEY);
  writeFileSync(join(dir, 'secretAccessKey'), SECRET_KEY);
  return dir;
}
