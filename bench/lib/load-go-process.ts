/**
 * Drives one bench/load-go process (the native gRPC load generator): builds it once through
 * scripts/bench/ensure-grpc-load.sh, starts it with a job, waits for "ready", starts its clock on
 * cue and parses its JSON result.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LoadJob } from './load-protocol.js';

const ENSURE = fileURLToPath(new URL('../../scripts/bench/ensure-grpc-load.sh', import.meta.url));

let binary: string | undefined;

/** Path of the built load generator; builds it on first use (about a minute, cached by source hash). */
export function grpcLoadBinary(): string {
  binary ??= execFileSync('bash', [ENSURE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return binary;
}

export interface GoLatencyStats {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
}

/** The JSON object bench/load-go prints (see result.go). */
export interface GoLoadResult {
  readonly count: number;
  readonly rps: number;
  readonly windowMs: number;
  readonly latencyMs: GoLatencyStats;
  /** With -socket-timestamps: start of each call -> the kernel's receive time of its answer. */
  readonly socketLatencyMs?: GoLatencyStats;
  readonly errors: number;
  readonly firstError?: string;
  /** CPU (user+system, all threads) the process used inside the window, ms. */
  readonly cpuMs: number;
  readonly connections: number;
  readonly concurrency: number;
}

/** The command-line flags for a job: `connections` HTTP/2 connections, `concurrency` calls in total. */
export function goLoadArgs(job: LoadJob, requestFile: string, connections: number, concurrency: number): string[] {
  const target = job.target;
  if (target.kind !== 'grpc') throw new Error(`the Go load generator speaks gRPC only, not ${target.kind}`);
  const args = [
    `-addr=${target.address}`,
    `-method=${target.method}`,
    `-request=${requestFile}`,
    `-connections=${connections}`,
    `-concurrency=${concurrency}`,
    `-warmup=${job.warmupMs}ms`,
    `-duration=${job.durationMs}ms`,
    // One scheduler thread: the client needs well under a core here, and a second P mostly adds
    // spinning between wake-ups (~20-35% more CPU per call measured against the floor server).
    '-procs=1',
    '-wait-go',
  ];
  if (job.pauseMs !== undefined) args.push(`-pause=${job.pauseMs}ms`);
  if (job.socketTimestamps) args.push('-socket-timestamps');
  if (target.tls) args.push(`-tls-ca=${target.tls.ca}`, ...(target.tls.cert && target.tls.key ? [`-tls-cert=${target.tls.cert}`, `-tls-key=${target.tls.key}`] : []));
  if (target.stickyKey)
    args.push(`-sticky-header=${target.stickyKey.header}`, `-sticky-prefix=${target.stickyKey.prefix}`, `-sticky-keys=${target.stickyKey.keys}`);
  return args;
}

export class GoLoadProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly dir: string;
  private readonly lines: string[] = [];
  private waiting: { resolve(line: string): void; reject(e: Error): void } | undefined;
  private stderr = '';
  private exitError: Error | undefined;

  constructor(job: LoadJob, connections: number, concurrency: number) {
    if (job.target.kind !== 'grpc') throw new Error(`the Go load generator speaks gRPC only, not ${job.target.kind}`);
    this.dir = mkdtempSync(join(tmpdir(), 'tensorfleet-grpc-load-'));
    const requestFile = join(this.dir, 'request.bin');
    writeFileSync(requestFile, Buffer.from(job.target.requestBase64, 'base64'));
    this.child = spawn(grpcLoadBinary(), goLoadArgs(job, requestFile, connections, concurrency), { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (w) w.resolve(line);
      else this.lines.push(line);
    });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.on('exit', (code, signal) => {
      // stdout may still hold the last line: settle on 'close' of the streams instead of here.
      this.exitError = new Error(`Go load generator exited (${signal ?? `code ${code}`}): ${this.stderr.trim() || 'no message'}`);
    });
    this.child.on('close', () => {
      this.waiting?.reject(this.exitError ?? new Error('Go load generator closed its output'));
      this.waiting = undefined;
    });
    this.child.on('error', (error) => {
      this.exitError = error;
      this.waiting?.reject(error);
      this.waiting = undefined;
    });
  }

  private nextLine(): Promise<string> {
    const buffered = this.lines.shift();
    if (buffered !== undefined) return Promise.resolve(buffered);
    if (this.exitError && this.child.stdout.readableEnded) return Promise.reject(this.exitError);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /** Resolves once every connection is up and has answered one call. */
  async ready(): Promise<void> {
    const line = await this.nextLine();
    if (line !== 'ready') throw new Error(`Go load generator said ${JSON.stringify(line)} instead of ready`);
  }

  /** Starts the clock (warm-up, then the window) and resolves with the result. */
  async run(): Promise<GoLoadResult> {
    this.child.stdin.write('go\n');
    return JSON.parse(await this.nextLine()) as GoLoadResult;
  }

  close(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
