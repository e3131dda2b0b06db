/**
 * `status.versions`, the VERSIONS summary and the two conditions that depend on what the pods
 * really serve: RoutingReady (every route target is AVAILABLE) and the version-load part of
 * Degraded. Pure.
 */
import type { ConditionStatus, ServedModel, ServedVersionState, ServedVersionStatus } from '../../api/served-model-types.js';
import type { PodObservation, VersionTally } from './pod-observation.js';

export interface ConditionInput {
  readonly type: string;
  readonly status: ConditionStatus;
  readonly reason: string;
  readonly message: string;
}

export interface VersionsView {
  readonly versions: ServedVersionStatus[];
  /** For the VERSIONS column. */
  readonly summary: string;
  readonly canary?: string;
  readonly routing: ConditionInput;
  /** Degraded/VersionLoadFailed when a version failed to load on some pod. */
  readonly loadFailure?: ConditionInput;
}

interface Configured {
  labels: string[];
  percent?: number;
}

/** A version a request can be sent to by the spec (not by "newest available"). */
interface RouteTarget {
  readonly version: number;
  readonly kind: 'split' | 'shadow' | 'label';
  /** How the spec names it, e.g. `canary version 3`. */
  readonly what: string;
}

const NO_TALLY: VersionTally = { available: 0, loading: 0, failed: 0 };

/** State of one version over the `answered` pods (see ServedVersionState). */
export function versionState(tally: VersionTally, answered: number): ServedVersionState {
  if (answered === 0) return 'Configured';
  if (tally.available >= answered) return 'AVAILABLE';
  if (tally.available > 0) return 'PARTIAL';
  if (tally.loading > 0) return 'LOADING';
  if (tally.failed > 0) return 'FAILED';
  return 'NOT_LOADED';
}

function versionMessage(state: ServedVersionState, t: VersionTally, n: number): string | undefined {
  const failed = t.failed > 0 ? `failed to load on ${t.failed}/${n} pods: ${t.error ?? 'unknown error'}` : '';
  switch (state) {
    case 'PARTIAL':
      return [`available on ${t.available}/${n} pods`, t.loading > 0 ? `loading on ${t.loading}` : '', failed].filter(Boolean).join('; ');
    case 'LOADING':
      return [`loading on ${t.loading}/${n} pods`, failed].filter(Boolean).join('; ');
    case 'FAILED':
      return failed;
    case 'NOT_LOADED':
      return `none of the ${n} pods has loaded it (not in the source, or outside the version policy)`;
    default:
      return undefined;
  }
}

/** Why a target is not AVAILABLE, as a clause: "is still loading", "is available on only 1/3 pods"... */
function notAvailableClause(state: ServedVersionState, t: VersionTally, n: number): string {
  switch (state) {
    case 'PARTIAL':
      return `is available on only ${t.available}/${n} pods`;
    case 'LOADING':
      return 'is still loading';
    case 'FAILED':
      return `failed to load (${t.error ?? 'unknown error'})`;
    default:
      return 'is not loaded on any pod';
  }
}

function routeTargets(sm: ServedModel): RouteTarget[] {
  const routing = sm.spec.routing;
  const targets: RouteTarget[] = [];
  if (routing?.canary) targets.push({ version: routing.canary.version, kind: 'split', what: `canary version ${routing.canary.version}` });
  for (const v of routing?.abTest?.variants ?? []) targets.push({ version: v.version, kind: 'split', what: `A/B variant version ${v.version}` });
  if (routing?.shadow) targets.push({ version: routing.shadow.version, kind: 'shadow', what: `shadow version ${routing.shadow.version}` });
  for (const [label, v] of Object.entries(sm.spec.versionLabels ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    targets.push({ version: v, kind: 'label', what: `version ${v} (label "${label}")` });
  }
  return targets;
}

function routingCondition(
  sm: ServedModel,
  stateOf: (v: number) => ServedVersionState,
  tallyOf: (v: number) => VersionTally,
  pods: PodObservation | undefined,
): ConditionInput {
  const answered = pods?.answered ?? 0;
  const targets = routeTargets(sm);
  const type = 'RoutingReady';
  if (targets.length === 0) {
    return { type, status: 'True', reason: 'NoRouteTargets', message: 'No labels or routing set: requests naming no version get the newest available one' };
  }
  const firstError = pods?.unreachable[0];
  if (answered === 0 && pods && pods.asked > 0 && firstError) {
    // Most often a NetworkPolicy keeps the operator from the pods' REST port.
    return {
      type,
      status: 'Unknown',
      reason: 'PodsUnreachable',
      message: `None of the ${pods.asked} ready pods answered the model status query (${firstError.pod}: ${firstError.error}); can the operator reach their REST port?`,
    };
  }
  if (answered === 0) {
    return { type, status: 'Unknown', reason: 'NotObserved', message: 'No model server pod answered yet, so whether the route targets are loaded is unknown' };
  }
  const missing = targets.filter((t) => stateOf(t.version) !== 'AVAILABLE');
  if (missing.length === 0) {
    return { type, status: 'True', reason: 'RouteTargetsAvailable', message: `${targets.map((t) => t.what).join(', ')} available on all ${answered} pods` };
  }
  // Where a split's target cannot serve, the servers use the stable label's version if it is
  // available, else the newest available one (src/server/routing/route.ts).
  const stable = sm.spec.versionLabels?.stable;
  const fallback =
    stable !== undefined && stateOf(stable) === 'AVAILABLE'
      ? `the stable version ${stable}`
      : 'the stable version (the newest available one where the "stable" label\'s version is not loaded)';
  const sentences = missing.map((t) => {
    const clause = `${t.what} ${notAvailableClause(stateOf(t.version), tallyOf(t.version), answered)}`;
    const onSome = stateOf(t.version) === 'PARTIAL' ? 'on the other pods, ' : '';
    switch (t.kind) {
      case 'split':
        return `${clause}: ${onSome}its share of unversioned requests falls back to ${fallback}`;
      case 'shadow':
        return `${clause}: ${onSome}no shadow copies are sent`;
      case 'label':
        return `${clause}: ${onSome}requests naming the label are refused`;
    }
  });
  return { type, status: 'False', reason: 'RouteTargetUnavailable', message: sentences.join('; ') };
}

/**
 * The versions to report: those the spec names (specific versions, labels, routing) plus those
 * any pod has (loaded, loading or failed), with their state on the pods, labels and traffic share.
 */
export function servedVersions(sm: ServedModel, pods: PodObservation | undefined): VersionsView {
  const spec = sm.spec;
  const configured = new Map<number, Configured>();
  const entry = (v: number): Configured => {
    let e = configured.get(v);
    if (!e) configured.set(v, (e = { labels: [] }));
    return e;
  };
  const policy = spec.versionPolicy;
  if (policy && 'specific' in policy) for (const v of policy.specific.versions) entry(v);
  for (const [label, v] of Object.entries(spec.versionLabels ?? {}).sort(([a], [b]) => a.localeCompare(b))) entry(v).labels.push(label);
  const canary = spec.routing?.canary;
  if (canary) entry(canary.version).percent = canary.percent;
  for (const variant of spec.routing?.abTest?.variants ?? []) entry(variant.version).percent = variant.percent;
  if (spec.routing?.shadow) entry(spec.routing.shadow.version);

  const answered = pods?.answered ?? 0;
  const tallyOf = (v: number): VersionTally => pods?.versions.get(v) ?? NO_TALLY;
  const stateOf = (v: number): ServedVersionState => versionState(tallyOf(v), answered);
  const all = new Set<number>(configured.keys());
  if (answered > 0) for (const v of pods?.versions.keys() ?? []) all.add(v);

  const versions = [...all]
    .sort((a, b) => a - b)
    .map((version): ServedVersionStatus => {
      const e = configured.get(version);
      const tally = tallyOf(version);
      const state = stateOf(version);
      const message = answered > 0 ? versionMessage(state, tally, answered) : undefined;
      return {
        version,
        state,
        ...(answered > 0 ? { availableReplicas: tally.available } : {}),
        ...(e && e.labels.length > 0 ? { labels: e.labels } : {}),
        ...(e?.percent !== undefined ? { percent: e.percent } : {}),
        ...(message ? { message } : {}),
      };
    });

  let summary: string;
  if (answered > 0) {
    const serving = versions.filter((v) => (v.availableReplicas ?? 0) > 0).map((v) => v.version);
    summary = serving.length > 0 ? serving.join(',') : 'none';
  } else if (policy && 'specific' in policy) summary = [...policy.specific.versions].sort((a, b) => a - b).join(',');
  else if (policy && 'all' in policy) summary = 'all';
  else summary = `latest ${(policy && 'latest' in policy ? policy.latest.count : undefined) ?? 1}`;

  const failures = versions.filter((v) => tallyOf(v.version).failed > 0);
  const loadFailure: ConditionInput | undefined =
    failures.length > 0
      ? {
          type: 'Degraded',
          status: 'True',
          reason: 'VersionLoadFailed',
          message: failures.map((v) => `version ${v.version} failed to load on ${tallyOf(v.version).failed}/${answered} pods: ${tallyOf(v.version).error ?? 'unknown error'}`).join('; '),
        }
      : undefined;

  return {
    versions,
    summary,
    ...(canary ? { canary: `${canary.version}@${canary.percent}%` } : {}),
    routing: routingCondition(sm, stateOf, tallyOf, pods),
    ...(loadFailure ? { loadFailure } : {}),
  };
}
