import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './build-check.js';

const run = promisify(execFile);

/** Triton's perf_analyzer launcher; fetched and cached on first use (scripts/python/ensure-perf-analyzer.sh). */
export async function perfAnalyzerPath(): Promise<string> {
  const setup = await run('bash', [join(REPO_ROOT, 'scripts', 'python', 'ensure-perf-analyzer.sh')], { maxBuffer: 16 * 1024 * 1024, timeout: 900_000 }).catch(
    (error: Error & { stderr?: string }) => {
      throw new Error(
        `could not set up perf_analyzer (scripts/python/ensure-perf-analyzer.sh says how to provide its parts; TENSORFLEET_SKIP_PERF_ANALYZER_TESTS=1 skips its test):\n${error.stderr ?? error.message}`,
      );
    },
  );
  return setup.stdout.trim().split('\n').at(-1)!;
}

export interface PerfAnalyzerRun {
  /** perf_analyzer's exit code: 0 when every request succeeded. */
  readonly code: number;
  readonly output: string;
  /** Requests per second it reports for the measured concurrency, or undefined. */
  readonly throughput: number | undefined;
  /** Its "Server:" section, read from the server's statistics (Open Inference Protocol only). */
  readonly server: { readonly requests: number; readonly executions: number; readonly computeInferUs: number } | undefined;
}

/**
 * One short measurement at concurrency 2: windows of 100 requests, and any spread accepted (this
 * checks that the tool works against the server, not how fast; bench/ measures speed).
 */
export async function runPerfAnalyzer(launcher: string, args: readonly string[]): Promise<PerfAnalyzerRun> {
  const fixed = ['--concurrency-range', '2', '--measurement-mode', 'count_windows', '--measurement-request-count', '100', '--stability-percentage', '999', '--max-trials', '3'];
  const result = await run(launcher, [...args, ...fixed], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, output: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
  );
  const throughput = /Concurrency: 2, throughput: ([\d.]+) infer\/sec/.exec(result.output)?.[1];
  const requests = /Successful request count: (\d+)/.exec(result.output)?.[1];
  const executions = /Execution count: (\d+)/.exec(result.output)?.[1];
  const computeInfer = /compute infer (\d+) usec/.exec(result.output)?.[1];
  const server = requests && executions && computeInfer ? { requests: Number(requests), executions: Number(executions), computeInferUs: Number(computeInfer) } : undefined;
  return { ...result, throughput: throughput === undefined ? undefined : Number(throughput), server };
}
