import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, assertBuildFresh } from './build-check.js';

/** One pino JSON line from the server's stdout (non-JSON lines keep their text in `msg`). */
export interface LogLine {
  readonly level?: number;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export interface ServerProcessOptions {
  /** Model config file contents (YAML or JSON); written to a temp file. */
  readonly config?: string;
  /** An existing model config file (e.g. the fixtures' model-config.yaml). */
  readonly configFile?: string;
  /** More `serve` flags, e.g. ['--max_tensor_elements=100']. */
  readonly args?: readonly string[];
  /** Wait until every model has an available version (default true); otherwise only until listening. */
  readonly waitReady?: boolean;
  readonly startTimeoutMs?: number;
  /** More environment variables for the server. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ExitResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  readonly pid: number;
  readonly grpcPort: number;
  readonly restPort: number;
  /** host:port for gRPC clients. */
  readonly grpcTarget: string;
  /** http://127.0.0.1:PORT */
  readonly restUrl: string;
  /** The config file the server reads (rewrite it to test config polling). */
  readonly configPath: string;
  readonly logs: readonly LogLine[];
  readonly stderr: () => string;
  /** Resolves with the first log line (past or future) matching `match`. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  readonly exited: Promise<ExitResult>;
  /** SIGTERM, then waits for the exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<ExitResult>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A TCP port that was free a moment ago (the server's REST port must be given explicitly). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts `tensorfleet serve` from dist/ as a child process on loopback: gRPC on a port the
 * server picks (--port=0, read from its "server started" log), REST on a free port.
 */
export async function startServer(options: ServerProcessOptions): Promise<ServerProcess> {
  assertBuildFresh();
  // The free REST port can be taken between probing and binding: try again on a new one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}

async function startOnce(options: ServerProcessOptions): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'tensorfleet-server-'));
  let configPath = options.configFile;
  if (configPath === undefined) {
    if (options.config === undefined) throw new Error('startServer needs config or configFile');
    configPath = join(dir, 'model-config.yaml');
    writeFileSync(configPath, options.config);
  }
  const restPort = await freePort();
  const args = [
    join(REPO_ROOT, 'bin', 'tensorfleet.js'),
    'serve',
    `--model_config_file=${configPath}`,
    '--port=0',
    '--grpc_bind_address=127.0.0.1',
    `--rest_api_port=${restPort}`,
    '--rest_api_bind_address=127.0.0.1',
    '--file_system_poll_wait_seconds=1',
    ...(options.args ?? []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', ...options.env };
  // Tests that run inside a Kubernetes pod would otherwise get the pod's 5 s shutdown delay.
  if (options.env?.KUBERNETES_SERVICE_HOST === undefined) delete env.KUBERNETES_SERVICE_HOST;
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
  running.add(child);
  const logs: LogLine[] = [];
  const waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const text = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      logs.push(line);
      for (const waiter of waiters) {
        if (waiter.match(line)) {
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    }
  });
  let stderrText = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderrText = (stderrText + chunk).slice(-20_000)));
  const exited = new Promise<ExitResult>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal });
    }),
  );
  const describe = (): string => `\n--- stdout (last lines) ---\n${logs.slice(-15).map((l) => JSON.stringify(l)).join('\n')}\n--- stderr ---\n${stderrText.slice(-3000)}`;

  const waitForLog = (match: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (line: LogLine) => (clearTimeout(timer), resolve(line)) };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`server log line not seen within ${timeoutMs} ms${describe()}`));
      }, timeoutMs);
      waiters.add(waiter);
      void exited.then((exit) => {
        if (!waiters.delete(waiter)) return;
        clearTimeout(timer);
        reject(new Error(`server exited (code ${exit.code}, signal ${exit.signal}) before the expected log line${describe()}`));
      });
    });
  };

  const stop = async (timeoutMs = 40_000): Promise<ExitResult> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };

  const timeoutMs = options.startTimeoutMs ?? 60_000;
  try {
    const started = await waitForLog((l) => l.msg === 'server started', timeoutMs);
    if (options.waitReady ?? true) await waitForLog((l) => l.msg === 'all models available', timeoutMs);
    const grpcPort = Number(started.grpcPort);
    return {
      pid: child.pid!,
      grpcPort,
      restPort,
      grpcTarget: `127.0.0.1:${grpcPort}`,
      restUrl: `http://127.0.0.1:${restPort}`,
      configPath,
      logs,
      stderr: () => stderrText,
      waitForLog,
      exited,
      stop,
    };
  } catch (error) {
    await stop(5000);
    throw error;
  }
}
