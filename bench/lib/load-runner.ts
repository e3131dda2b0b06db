import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { GoLoadProcess, type GoLatencyStats, type GoLoadResult } from './load-go-process.js';
import type { FromLoadProcess, LoadJob, LoadResult, ToLoadProcess } from './load-protocol.js';
import { summarize, type LatencySummary } from './stats.js';

/**
 * Which program generates the load. `grpc-js`: Node processes (load-process.ts), one HTTP/2
 * connection each; about 280 µs of client CPU per small call. `go`: one bench/load-go process
 * (grpc-go, pass-through codec), several times leaner; gRPC targets only.
 */
export type LoadClient = 'grpc-js' | 'go';

/**
 * One kind of traffic: `processes` × `job.concurrency` calls outstanding over `processes` HTTP/2
 * connections. grpc-js runs that many processes; the Go client runs one process with that many
 * connections, so switching `client` keeps connections and concurrency the same.
 */
export interface LoadGroup {
  readonly job: LoadJob;
  readonly processes: number;
  /** Default grpc-js. */
  readonly client?: LoadClient;
}

export interface GroupResult extends LatencySummary {
  /** Recorded calls per second over the window, summed over the group's processes. */
  readonly rps: number;
  readonly errors: number;
  readonly firstError?: string;
  /** CPU the group's load processes used, in cores (1 = one core busy for the whole window). */
  readonly clientCores: number;
  /** With `job.socketTimestamps`: latency to the kernel's receive time of each answer. */
  readonly toSocket?: LatencySummary;
}

const LOAD_PROCESS = fileURLToPath(new URL('./load-process.ts', import.meta.url));

class LoadProcess {
  private readonly child: ChildProcess;
  private waiting: { resolve(m: FromLoadProcess): void; reject(e: Error): void } | undefined;

  constructor() {
    this.child = fork(LOAD_PROCESS, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: FromLoadProcess) => {
      const w = this.waiting;
      this.waiting = undefined;
      if (m.type === 'failed') w?.reject(new Error(`load process failed: ${m.message}`));
      else w?.resolve(m);
    });
    this.child.on('exit', (code) => {
      this.waiting?.reject(new Error(`load process exited with code ${code}`));
      this.waiting = undefined;
    });
  }

  request(message: ToLoadProcess): Promise<FromLoadProcess> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.child.send(message);
    });
  }

  close(): void {
    if (this.child.connected) this.child.send({ type: 'exit' } satisfies ToLoadProcess);
  }
}

/**
 * Runs the groups at the same time: every process connects and makes one call, then all start
 * their clocks together. Resolves with one merged result per group, in order.
 */
export async function runLoad(groups: readonly LoadGroup[]): Promise<GroupResult[]> {
  const members = groups.map(member);
  try {
    await Promise.all(members.map((m) => m.ready()));
    return await Promise.all(members.map((m) => m.run()));
  } finally {
    for (const m of members) m.close();
  }
}

/** The processes of one group, behind one ready/run/close. */
interface GroupMember {
  ready(): Promise<void>;
  run(): Promise<GroupResult>;
  close(): void;
}

function member(group: LoadGroup): GroupMember {
  if (group.client === 'go') {
    const p = new GoLoadProcess(group.job, group.processes, group.processes * group.job.concurrency);
    return { ready: () => p.ready(), run: async () => fromGo(await p.run()), close: () => p.close() };
  }
  const ps = Array.from({ length: group.processes }, () => new LoadProcess());
  return {
    ready: async () => void (await Promise.all(ps.map((p) => p.request({ type: 'job', job: group.job })))),
    run: async () => merge(await Promise.all(ps.map(async (p) => ((await p.request({ type: 'go' })) as { result: LoadResult }).result)), group.job),
    close: () => ps.forEach((p) => p.close()),
  };
}

function fromGo(r: GoLoadResult): GroupResult {
  return {
    ...goLatencies(r.count, r.latencyMs),
    ...(r.socketLatencyMs ? { toSocket: goLatencies(r.count, r.socketLatencyMs) } : {}),
    rps: r.rps,
    errors: r.errors,
    firstError: r.firstError,
    clientCores: r.cpuMs / r.windowMs,
  };
}

function goLatencies(count: number, l: GoLatencyStats): LatencySummary {
  const none = count === 0; // JSON has no NaN: Go reports zeros for an empty window
  const value = (v: number): number => (none ? Number.NaN : v);
  return { count, p50: value(l.p50), p90: value(l.p90), p99: value(l.p99), mean: value(l.mean), max: value(l.max) };
}

function merge(results: readonly LoadResult[], job: LoadJob): GroupResult {
  const latencies = results.flatMap((r) => r.latenciesMs);
  const seconds = job.durationMs / 1000;
  return {
    ...summarize(latencies),
    rps: latencies.length / seconds,
    errors: results.reduce((n, r) => n + r.errors, 0),
    firstError: results.find((r) => r.firstError !== undefined)?.firstError,
    clientCores: results.reduce((n, r) => n + r.cpuMs, 0) / job.durationMs,
  };
}
