import { pino } from 'pino';
import { runOperator, type OperatorOptions } from '../../../src/operator/main.js';

export interface RunningOperator {
  readonly port: number;
  readonly done: Promise<void>;
  /** Sum of a metric over its label sets, scraped from /metrics. */
  metric(name: string): Promise<number>;
  stop(): Promise<void>;
}

/** Runs the operator in this process, as the CLI would, with fast timings for tests. */
export async function startOperator(options: Partial<OperatorOptions> & { kubeconfig: string }): Promise<RunningOperator> {
  const controller = new AbortController();
  let resolvePort: (port: number) => void = () => {};
  const listening = new Promise<number>((resolve) => (resolvePort = resolve));
  const done = runOperator(
    {
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      leaderElectionNamespace: 'tensorfleet-system',
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 500,
      logger: pino({ level: process.env.TENSORFLEET_TEST_LOG_LEVEL ?? 'silent' }),
      onListening: resolvePort,
      ...options,
    },
    controller.signal,
  );
  const port = await Promise.race([listening, done.then(() => Promise.reject(new Error('operator exited before listening')))]);
  return {
    port,
    done,
    async metric(name) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      }
      return sum;
    },
    async stop() {
      controller.abort();
      await done.catch(() => undefined);
    },
  };
}
