/**
 * A load-generator process (forked by load-runner.ts). It keeps the requested number of calls
 * outstanding against one target and records each call's latency. It sends pre-serialized
 * request bytes and does not decode responses, so its own CPU cost per call stays small.
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import type { FromLoadProcess, LoadJob, LoadResult, LoadTarget, ToLoadProcess } from './load-protocol.js';
import { rawBytesMethod } from './raw-bytes-method.js';

type Call = () => Promise<void>;

function send(message: FromLoadProcess): void {
  process.send?.(message);
}

function grpcCaller(target: Extract<LoadTarget, { kind: 'grpc' }>): { call: Call; close(): void } {
  const Client = grpc.makeGenericClientConstructor({ Call: rawBytesMethod(target.method) }, 'BenchService');
  const read = (path: string | undefined): Buffer | null => (path === undefined ? null : readFileSync(path));
  const credentials = target.tls ? grpc.credentials.createSsl(read(target.tls.ca), read(target.tls.key), read(target.tls.cert)) : grpc.credentials.createInsecure();
  const client = new Client(target.address, credentials, {
    'grpc.max_receive_message_length': 256 * 1024 * 1024,
    'grpc.max_send_message_length': 256 * 1024 * 1024,
    // grpc-js would send the IP target as the TLS server name, which Node 26 refuses; the fixture
    // certificates name localhost.
    ...(target.tls ? { 'grpc.ssl_target_name_override': 'localhost' } : {}),
  }) as unknown as grpc.Client & { Call: (req: Buffer, md: grpc.Metadata, cb: (err: grpc.ServiceError | null) => void) => void };
  const request = Buffer.from(target.requestBase64, 'base64');
  let counter = 0;
  const empty = new grpc.Metadata();
  const call: Call = () =>
    new Promise((resolve, reject) => {
      let metadata = empty;
      if (target.stickyKey) {
        metadata = new grpc.Metadata();
        metadata.set(target.stickyKey.header, `${target.stickyKey.prefix}${counter++ % target.stickyKey.keys}`);
      }
      client.Call(request, metadata, (error) => (error ? reject(error) : resolve()));
    });
  return { call, close: () => client.close() };
}

function httpCaller(target: Extract<LoadTarget, { kind: 'http' }>): { call: Call; close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const body = target.post ? Buffer.from(target.post.bodyBase64, 'base64') : undefined;
  const headers = target.post ? { ...target.post.headers, 'content-type': target.post.contentType, 'content-length': body!.length } : {};
  const call: Call = () =>
    new Promise((resolve, reject) => {
      const req = http.request(target.url, { agent, method: body ? 'POST' : 'GET', headers }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  return { call, close: () => agent.destroy() };
}

async function run(job: LoadJob, call: Call): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const recordFrom = start + job.warmupMs;
  const stopAt = recordFrom + job.durationMs;
  let cpuAtRecord: NodeJS.CpuUsage | undefined;
  const cpuTimer = setTimeout(() => (cpuAtRecord = process.cpuUsage()), job.warmupMs);

  const loop = async (): Promise<void> => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= stopAt) return;
      try {
        await call();
        const t1 = performance.now();
        // Completion-based: a call counts when it finishes inside the window. (Counting by start
        // would drop the calls still running at the end: a whole latency's worth, 10%+ at 1 s.)
        if (t1 >= recordFrom && t1 <= stopAt) latencies.push(t1 - t0);
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
      if (job.pauseMs !== undefined) await new Promise((r) => setTimeout(r, job.pauseMs));
    }
  };
  const lanes = job.pauseMs !== undefined ? 1 : job.concurrency;
  await Promise.all(Array.from({ length: lanes }, loop));
  clearTimeout(cpuTimer);
  const cpu = process.cpuUsage(cpuAtRecord);
  return { latenciesMs: latencies, errors, firstError, windowMs: job.durationMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

let job: LoadJob | undefined;
let caller: { call: Call; close(): void } | undefined;

process.on('message', (message: ToLoadProcess) => {
  void (async () => {
    try {
      if (message.type === 'job') {
        job = message.job;
        caller = job.target.kind === 'grpc' ? grpcCaller(job.target) : httpCaller(job.target);
        // Connect and warm the connection before the driver starts the clock.
        await caller.call();
        send({ type: 'ready' });
      } else if (message.type === 'go') {
        if (!job || !caller) throw new Error('go before job');
        send({ type: 'result', result: await run(job, caller.call) });
      } else {
        caller?.close();
        process.exit(0);
      }
    } catch (error) {
      send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    }
  })();
});
