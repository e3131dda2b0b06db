import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export interface ServerOptions {
  readonly configFile: string;
  readonly grpcPort: number;
  readonly restPort: number;
  readonly inferenceThreads?: number;
  /** Extra `tensorfleet serve` flags, e.g. --enable_batching=true. */
  readonly serveArgs?: readonly string[];
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeArgs?: readonly string[];
  /** The server's stdout/stderr (pino JSON) go here. */
  readonly logFile: string;
  readonly readyTimeoutMs?: number;
}

export interface RunningServer {
  readonly grpcAddress: string;
  readonly restUrl: string;
  readonly pid: number;
  /** CPU time the server process has used so far, ms (from /proc; NaN elsewhere). */
  cpuMs(): number;
  stop(): Promise<void>;
}

const BIN = fileURLToPath(new URL('../../bin/tensorfleet.js', import.meta.url));

/** Starts `tensorfleet serve` (the built dist/) and waits until GET /readyz answers 200. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const args = [
    // As the image's ENTRYPOINT and the bin's shebang run it (docs/decisions/0005, 0006).
    '--max-semi-space-size=8',
    '--heap-growing-percent=300',
    ...(options.nodeArgs ?? []),
    BIN,
    'serve',
    `--model_config_file=${options.configFile}`,
    `--port=${options.grpcPort}`,
    `--rest_api_port=${options.restPort}`,
    '--grpc_bind_address=127.0.0.1',
    '--rest_api_bind_address=127.0.0.1',
    `--inference_threads=${options.inferenceThreads ?? 1}`,
    '--file_system_poll_wait_seconds=0',
    '--log_level=warn',
    '--shutdown_delay_seconds=0',
    ...(options.serveArgs ?? []),
  ];
  const log = createWriteStream(options.logFile);
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  const restUrl = `http://127.0.0.1:${options.restPort}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (exited !== undefined) throw new Error(`server exited with code ${exited} before it was ready; see ${options.logFile}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server not ready within ${options.readyTimeoutMs ?? 120_000} ms; see ${options.logFile}`);
    }
    try {
      const res = await fetch(`${restUrl}/readyz`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  return {
    grpcAddress: `127.0.0.1:${options.grpcPort}`,
    restUrl,
    pid: child.pid!,
    cpuMs: () => processCpuMs(child.pid!),
    stop: async () => {
      if (exited === undefined) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
      log.end();
    },
  };
}

/** utime+stime of a process (all its threads) from /proc, in ms. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}


/** CPU time per thread of a process, ms, keyed by "tid comm" (from /proc/PID/task). */
export function threadCpuMs(pid: number): Map<string, number> {
  const result = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return result;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      result.set(`${tid} ${comm}`, ((Number(fields[11]) + Number(fields[12])) * 1000) / 100);
    } catch {
      // the thread ended
    }
  }
  return result;
}

/** CPU ms a server used between two threadCpuMs snapshots: its event loop (tid = pid), TensorFlow's pools (tf_*), and its other threads. */
export interface ThreadGroupsCpu {
  readonly eventLoop: number;
  readonly tensorflow: number;
  /** Node's worker threads (inference, JSON), V8's helpers and libuv's pool: Node 20 cannot name them apart. */
  readonly otherThreads: number;
}

export function threadGroupsCpu(pid: number, before: Map<string, number>, after: Map<string, number>): ThreadGroupsCpu {
  let eventLoop = 0;
  let tensorflow = 0;
  let otherThreads = 0;
  for (const [key, ms] of after) {
    const used = ms - (before.get(key) ?? 0);
    if (key.startsWith(`${pid} `)) eventLoop += used;
    else if (key.slice(key.indexOf(' ') + 1).startsWith('tf_')) tensorflow += used;
    else otherThreads += used;
  }
  return { eventLoop, tensorflow, otherThreads };
}
