/**
 * What the model server pods report about one model, and how the reports add up. Pure: the
 * runtime finds the pods (EndpointSlices) and asks them (`GET /v1/models/<name>`); everything
 * here works on what came back.
 */
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { HTTP_PORT } from '../specs/service.js';

/** A ready pod to ask, from an EndpointSlice of the headless Service. */
export interface PodTarget {
  /** The pod's name when the slice names it, else its address (for messages). */
  readonly pod: string;
  readonly ip: string;
  /** The REST port (the slice's `http` port; the server's default otherwise). */
  readonly port: number;
}

/** One version as a model server reported it (TF Serving's ModelVersionStatus). */
export interface ServerVersionReport {
  readonly version: number;
  /** START, LOADING, AVAILABLE, UNLOADING or END. */
  readonly state: string;
  readonly errorCode: string;
  readonly errorMessage: string;
}

export type PodReport =
  /** `missing`: the server's NOT_FOUND message when it has no version of the model at all. */
  | { readonly pod: string; readonly ok: true; readonly versions: readonly ServerVersionReport[]; readonly missing?: string }
  | { readonly pod: string; readonly ok: false; readonly error: string };

/** On how many answering pods a version is in each state. */
export interface VersionTally {
  readonly available: number;
  readonly loading: number;
  readonly failed: number;
  /** One server's load error (from the first failing pod in name order, so it is stable). */
  readonly error?: string;
}

export interface PodObservation {
  /** Ready pods asked. */
  readonly asked: number;
  /** Pods whose model server answered with a model status. */
  readonly answered: number;
  readonly versions: ReadonlyMap<number, VersionTally>;
  /** Pods that did not answer usefully, with why (sorted by pod). */
  readonly unreachable: readonly { readonly pod: string; readonly error: string }[];
  /** When no answering pod has any version: the first one's (in name order) reason, e.g. a failed listing. */
  readonly noVersions?: { readonly pod: string; readonly message: string };
}

/** The pods an observer asks; the runtime implements it over HTTP. */
export interface PodObserver {
  /** `key` identifies the ServedModel (namespace/name) for caching; `model` is the served model name. */
  observe(key: string, model: string, targets: readonly PodTarget[]): Promise<PodObservation>;
  forget(key: string): void;
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const MAX_ERROR_LENGTH = 512;

type EndpointConditions = NonNullable<V1EndpointSlice['endpoints'][number]['conditions']>;

/**
 * The ready pods behind a Service, from all its EndpointSlices (whoever manages them). An
 * endpoint without a `ready` condition counts as ready, as the API defines.
 */
export function readyPodTargets(slices: readonly V1EndpointSlice[], serviceName: string): PodTarget[] {
  return podTargets(slices, serviceName, (c) => c?.ready !== false);
}

/** Pods that are not ready and not terminating: starting, or unable to serve (e.g. no version found). */
export function startingPodTargets(slices: readonly V1EndpointSlice[], serviceName: string): PodTarget[] {
  return podTargets(slices, serviceName, (c) => c?.ready === false && c.terminating !== true);
}

function podTargets(slices: readonly V1EndpointSlice[], serviceName: string, wanted: (conditions: EndpointConditions | undefined) => boolean): PodTarget[] {
  const byAddress = new Map<string, PodTarget>();
  for (const slice of slices) {
    if (slice.metadata?.labels?.[SERVICE_NAME_LABEL] !== serviceName) continue;
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const port = slice.ports?.find((p) => p.name === 'http')?.port ?? HTTP_PORT;
    for (const endpoint of slice.endpoints ?? []) {
      if (!wanted(endpoint.conditions)) continue;
      // All addresses of an endpoint belong to one pod: ask it once.
      const ip = endpoint.addresses[0];
      if (!ip) continue;
      const target = { pod: endpoint.targetRef?.name ?? ip, ip, port };
      byAddress.set(`${ip}:${port}`, target);
    }
  }
  return [...byAddress.values()].sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port));
}

/**
 * Reads the JSON of `GET /v1/models/<name>` (`{"model_version_status": [...]}`); returns a
 * sentence saying what is wrong when the body is not that.
 */
export function parseModelStatus(body: unknown): ServerVersionReport[] | string {
  const list = (body as { model_version_status?: unknown } | null)?.model_version_status;
  if (!Array.isArray(list)) return 'the response has no model_version_status list';
  const out: ServerVersionReport[] = [];
  for (const item of list as unknown[]) {
    const e = item as { version?: unknown; state?: unknown; status?: { error_code?: unknown; error_message?: unknown } } | null;
    const version = typeof e?.version === 'string' || typeof e?.version === 'number' ? Number(e.version) : NaN;
    if (!Number.isSafeInteger(version) || version < 0) return `the response names an invalid version ${JSON.stringify(e?.version)}`;
    if (typeof e?.state !== 'string') return `version ${version} has no state`;
    const code = e.status?.error_code;
    out.push({
      version,
      state: e.state,
      errorCode: typeof code === 'string' ? code : code === undefined || code === 0 ? 'OK' : JSON.stringify(code),
      errorMessage: typeof e.status?.error_message === 'string' ? e.status.error_message : '',
    });
  }
  return out;
}

type Bucket = 'available' | 'loading' | 'failed' | undefined;

/** A failed load (any non-OK error) counts as failed even while the server retries it. */
function bucketOf(r: ServerVersionReport): Bucket {
  if (r.state === 'AVAILABLE') return 'available';
  if (r.errorCode !== 'OK') return 'failed';
  if (r.state === 'START' || r.state === 'LOADING') return 'loading';
  // UNLOADING, or END without an error: on its way out or gone.
  return undefined;
}

const shorten = (text: string): string => (text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text);

/** Adds up per-pod reports. Deterministic in the order of `reports` (status must not flap). */
export function aggregatePodReports(reports: readonly PodReport[]): PodObservation {
  const sorted = [...reports].sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
  const versions = new Map<number, { available: number; loading: number; failed: number; error?: string }>();
  const unreachable: { pod: string; error: string }[] = [];
  let answered = 0;
  let noVersions: { pod: string; message: string } | undefined;
  let anyVersion = false;
  for (const report of sorted) {
    if (!report.ok) {
      unreachable.push({ pod: report.pod, error: shorten(report.error) });
      continue;
    }
    answered += 1;
    if (report.versions.length > 0) anyVersion = true;
    else if (report.missing !== undefined && noVersions === undefined) noVersions = { pod: report.pod, message: shorten(report.missing) };
    // A server lists each version once; if not, its best state counts.
    const best = new Map<number, ServerVersionReport>();
    const rank = (r: ServerVersionReport): number => {
      const bucket = bucketOf(r);
      return bucket === 'available' ? 3 : bucket === 'loading' ? 2 : bucket === 'failed' ? 1 : 0;
    };
    for (const r of report.versions) {
      const seen = best.get(r.version);
      if (!seen || rank(r) > rank(seen)) best.set(r.version, r);
    }
    for (const r of best.values()) {
      const bucket = bucketOf(r);
      if (!bucket) continue;
      let tally = versions.get(r.version);
      if (!tally) versions.set(r.version, (tally = { available: 0, loading: 0, failed: 0 }));
      tally[bucket] += 1;
      if (bucket === 'failed' && tally.error === undefined) tally.error = shorten(r.errorMessage || r.errorCode);
    }
  }
  return { asked: reports.length, answered, versions, unreachable, ...(noVersions && !anyVersion ? { noVersions } : {}) };
}
