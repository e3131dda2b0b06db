import { describe, expect, it } from 'vitest';
import { ModelServerProber, type FetchLike } from '../../../../src/operator/runtime/model-server-prober.js';
import { OperatorMetrics } from '../../../../src/operator/runtime/metrics.js';
import type { PodTarget } from '../../../../src/operator/servedmodel/pod-observation.js';
import type { QueueTimers } from '../../../../src/operator/runtime/work-queue.js';

/** Timers that fire only when the test says so. */
class ManualTimers implements QueueTimers {
  private seq = 0;
  readonly pending = new Map<number, { fn: () => void; ms: number }>();
  setTimeout(fn: () => void, ms: number): unknown {
    this.seq += 1;
    this.pending.set(this.seq, { fn, ms });
    return this.seq;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  fireAll(): void {
    for (const [id, t] of [...this.pending]) {
      this.pending.delete(id);
      t.fn();
    }
  }
}

const target = (n: number): PodTarget => ({ pod: `pod-${n}`, ip: `10.0.0.${n}`, port: 8501 });
const json = (status: number, body: unknown) => ({ status, text: () => Promise.resolve(typeof body === 'string' ? body : JSON.stringify(body)) });
const available = (...versions: number[]) => ({
  model_version_status: versions.map((v) => ({ version: String(v), state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } })),
});

describe('ModelServerProber', () => {
  it('asks each pod on its REST port and adds up the answers, unreachable pods apart', async () => {
    const asked: string[] = [];
    const fetch: FetchLike = (url) => {
      asked.push(url);
      return Promise.resolve().then(() => answer(url));
    };
    const answer = (url: string): ReturnType<typeof json> => {
      if (url.includes('10.0.0.1')) return json(200, available(3, 2));
      if (url.includes('10.0.0.2')) return json(200, available(2));
      if (url.includes('10.0.0.3')) return json(404, { error: 'Could not find any versions of model m' });
      if (url.includes('10.0.0.4')) return json(503, { error: 'shutting down' });
      if (url.includes('10.0.0.5')) return json(200, '<html>');
      throw new Error('fetch failed', { cause: new Error('connect ECONNREFUSED 10.0.0.6:8501') });
    };
    const metrics = new OperatorMetrics();
    const prober = new ModelServerProber({ fetch, timers: new ManualTimers(), now: () => 0, metrics });
    const observation = await prober.observe('ns/m', 'm', [1, 2, 3, 4, 5, 6].map(target));
    expect(asked.sort()).toEqual([1, 2, 3, 4, 5, 6].map((n) => `http://10.0.0.${n}:8501/v1/models/m`));
    expect(observation.asked).toBe(6);
    expect(observation.answered).toBe(3);
    expect(Object.fromEntries(observation.versions)).toEqual({ 2: { available: 2, loading: 0, failed: 0 }, 3: { available: 1, loading: 0, failed: 0 } });
    expect(observation.unreachable).toEqual([
      { pod: 'pod-4', error: 'GET http://10.0.0.4:8501/v1/models/m: HTTP 503: shutting down' },
      { pod: 'pod-5', error: 'GET http://10.0.0.5:8501/v1/models/m: HTTP 200, not JSON' },
      { pod: 'pod-6', error: 'GET http://10.0.0.6:8501/v1/models/m: connect ECONNREFUSED 10.0.0.6:8501' },
    ]);
    expect(metrics.render()).toContain('tensorfleet_operator_pod_status_queries_total{result="ok"} 3');
    expect(metrics.render()).toContain('tensorfleet_operator_pod_status_queries_total{result="error"} 3');
  });

  it('gives up on a pod after the timeout and keeps at most `concurrency` requests in flight', async () => {
    const timers = new ManualTimers();
    let inFlight = 0;
    let maxInFlight = 0;
    const fetch: FetchLike = (url, init) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise((resolve, reject) => {
        const finish = (): void => {
          inFlight -= 1;
        };
        // The slow pod answers never; the others answer at once.
        if (url.includes('10.0.0.1/') || url.includes('10.0.0.1:')) {
          init.signal.addEventListener('abort', () => (finish(), reject(new Error('aborted'))));
        } else {
          setImmediate(() => (finish(), resolve(json(200, available(1)))));
        }
      });
    };
    const prober = new ModelServerProber({ fetch, timers, now: () => 0 }, { concurrency: 2, timeoutMs: 1500 });
    const pending = prober.observe('ns/m', 'm', [1, 2, 3, 4, 5].map(target));
    // Let the four fast pods finish on the second slot while the slow one holds the first.
    for (let i = 0; i < 20 && timers.pending.size > 1; i++) await new Promise((r) => setImmediate(r));
    expect([...timers.pending.values()].map((t) => t.ms)).toEqual([1500]);
    timers.fireAll();
    const observation = await pending;
    expect(maxInFlight).toBe(2);
    expect(observation.answered).toBe(4);
    expect(observation.unreachable).toEqual([{ pod: 'pod-1', error: 'GET http://10.0.0.1:8501/v1/models/m: no answer within 1500 ms' }]);
  });

  it('reuses a fresh observation of the same pods, and asks again when it is old or the pods changed', async () => {
    let calls = 0;
    let clock = 0;
    const fetch: FetchLike = () => {
      calls += 1;
      return Promise.resolve(json(200, available(calls)));
    };
    const prober = new ModelServerProber({ fetch, timers: new ManualTimers(), now: () => clock }, { reuseMs: 1000 });
    await prober.observe('ns/m', 'm', [target(1)]);
    clock = 500;
    expect([...(await prober.observe('ns/m', 'm', [target(1)])).versions.keys()]).toEqual([1]);
    expect(calls).toBe(1);
    await prober.observe('ns/m', 'm', [target(1), target(2)]);
    expect(calls).toBe(3);
    clock = 2000;
    await prober.observe('ns/m', 'm', [target(1), target(2)]);
    expect(calls).toBe(5);
    prober.forget('ns/m');
    await prober.observe('ns/m', 'm', [target(1), target(2)]);
    expect(calls).toBe(7);
  });

  it('uses the base URL hook and brackets IPv6 addresses by default', async () => {
    const asked: string[] = [];
    const fetch: FetchLike = (url) => (asked.push(url), Promise.resolve(json(200, available(1))));
    await new ModelServerProber({ fetch, timers: new ManualTimers(), now: () => 0 }).observe('a', 'my model', [{ pod: 'p', ip: 'fd00::1', port: 8501 }]);
    await new ModelServerProber({ fetch, timers: new ManualTimers(), now: () => 0 }, { baseUrl: (_ip, port) => `http://127.0.0.1:${port + 1}` }).observe('b', 'm', [target(1)]);
    expect(asked).toEqual(['http://[fd00::1]:8501/v1/models/my%20model', 'http://127.0.0.1:8502/v1/models/m']);
  });
});
