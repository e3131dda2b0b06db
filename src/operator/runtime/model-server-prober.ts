/**
 * Asks model server pods what they serve: `GET http://<pod>:<rest>/v1/models/<name>` on each
 * ready pod, a few at a time, each with a short timeout and no retries (the next periodic
 * reconcile is the retry). A fresh result is reused for a moment, so the reconcile that follows
 * our own status write does not ask every pod again.
 */
import {
  aggregatePodReports,
  parseModelStatus,
  type PodObservation,
  type PodObserver,
  type PodReport,
  type PodTarget,
} from '../servedmodel/pod-observation.js';
import type { OperatorMetrics } from './metrics.js';
import type { QueueTimers } from './work-queue.js';

export type FetchLike = (url: string, init: { signal: AbortSignal; headers?: Record<string, string> }) => Promise<{
  readonly status: number;
  text(): Promise<string>;
}>;

export interface ModelServerProberOptions {
  /** Per-pod timeout (connect + response); default 2000 ms. */
  readonly timeoutMs?: number;
  /** Pods asked at once per ServedModel; default 8. */
  readonly concurrency?: number;
  /** Reuse an observation of the same pods this young; default 1000 ms. */
  readonly reuseMs?: number;
  /**
   * Base URL of a pod's REST port; default `http://<ip>:<port>`. Tests point it at a server on
   * loopback (EndpointSlices may not hold loopback addresses).
   */
  readonly baseUrl?: (ip: string, port: number) => string;
}

export interface ModelServerProberDeps {
  readonly fetch: FetchLike;
  readonly timers: QueueTimers;
  readonly now: () => number;
  readonly metrics?: OperatorMetrics;
}

const MAX_BODY = 1 << 20;

export const defaultBaseUrl = (ip: string, port: number): string => (ip.includes(':') ? `http://[${ip}]:${port}` : `http://${ip}:${port}`);

export class ModelServerProber implements PodObserver {
  private readonly recent = new Map<string, { at: number; targets: string; observation: PodObservation }>();

  constructor(
    private readonly deps: ModelServerProberDeps,
    private readonly options: ModelServerProberOptions = {},
  ) {}

  async observe(key: string, model: string, targets: readonly PodTarget[]): Promise<PodObservation> {
    const signature = `${model}|${targets.map((t) => `${t.pod}@${t.ip}:${t.port}`).join(',')}`;
    const cached = this.recent.get(key);
    if (cached && cached.targets === signature && this.deps.now() - cached.at < (this.options.reuseMs ?? 1000)) return cached.observation;

    const reports: PodReport[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < targets.length; i = next++) reports.push(await this.ask(model, targets[i]!));
    };
    const width = Math.max(1, Math.min(this.options.concurrency ?? 8, targets.length));
    await Promise.all(Array.from({ length: width }, worker));
    const observation = aggregatePodReports(reports);
    this.recent.set(key, { at: this.deps.now(), targets: signature, observation });
    return observation;
  }

  forget(key: string): void {
    this.recent.delete(key);
  }

  /** One pod, one request; never throws. */
  private async ask(model: string, target: PodTarget): Promise<PodReport> {
    const base = (this.options.baseUrl ?? defaultBaseUrl)(target.ip, target.port);
    const url = `${base}/v1/models/${encodeURIComponent(model)}`;
    const timeoutMs = this.options.timeoutMs ?? 2000;
    const abort = new AbortController();
    const timer = this.deps.timers.setTimeout(() => abort.abort(), timeoutMs);
    const fail = (error: string): PodReport => {
      this.deps.metrics?.inc('tensorfleet_operator_pod_status_queries_total', { result: 'error' });
      return { pod: target.pod, ok: false, error };
    };
    try {
      const response = await this.deps.fetch(url, { signal: abort.signal, headers: { accept: 'application/json' } });
      const text = await response.text();
      if (text.length > MAX_BODY) return fail(`GET ${url}: response larger than ${MAX_BODY} bytes`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return fail(`GET ${url}: HTTP ${response.status}, not JSON`);
      }
      // NOT_FOUND: the server runs but has no version of this model (yet): it serves nothing; its message says why.
      if (response.status === 404) {
        this.deps.metrics?.inc('tensorfleet_operator_pod_status_queries_total', { result: 'ok' });
        const message = (body as { error?: unknown } | null)?.error;
        return { pod: target.pod, ok: true, versions: [], ...(typeof message === 'string' ? { missing: message } : {}) };
      }
      if (response.status !== 200) {
        const message = (body as { error?: unknown } | null)?.error;
        return fail(`GET ${url}: HTTP ${response.status}${typeof message === 'string' ? `: ${message}` : ''}`);
      }
      const versions = parseModelStatus(body);
      if (typeof versions === 'string') return fail(`GET ${url}: ${versions}`);
      this.deps.metrics?.inc('tensorfleet_operator_pod_status_queries_total', { result: 'ok' });
      return { pod: target.pod, ok: true, versions };
    } catch (error) {
      const reason = abort.signal.aborted ? `no answer within ${timeoutMs} ms` : error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
      return fail(`GET ${url}: ${reason}`);
    } finally {
      this.deps.timers.clearTimeout(timer);
    }
  }
}
