import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { parseModelSourceUri } from '../../api/model-source-uri.js';
import type { ServedModel } from '../../api/served-model-types.js';
import { hashOf } from '../specs/deployment.js';
import { serverRefusals } from '../specs/server-acceptance.js';
import type { RenderConfig } from '../specs/operator-config.js';
import type { ClusterAccess } from './cluster-access.js';
import { autoscalerHealth, DEFAULT_AUTOSCALING_GRACE_MS } from './autoscaler-health.js';
import { contains, firstDifference, hasPath } from './compare.js';
import { desiredObjects } from './desired.js';
import { readyPodTargets, startingPodTargets, type PodObservation, type PodObserver } from './pod-observation.js';
import { computeStatus, tlsSecretProblem, type SecretObservation } from './status.js';
import { FIELD_MANAGER, headlessServiceName, MANAGED_BY_LABEL, SERVED_MODEL_LABEL } from '../specs/owned-meta.js';

export interface ReconcilerDeps {
  readonly cluster: ClusterAccess;
  readonly config: RenderConfig;
  readonly now: () => Date;
  readonly logger: Logger;
  /** Asks the ready pods what they serve; without it status reports what was configured. */
  readonly observer?: PodObserver;
  /** Reconcile again this soon while a ServedModel has ready pods, so status follows them; default 15000. */
  readonly podStatusIntervalMs?: number;
  /** Reports, per ServedModel, whether a route target is unavailable (a metric); undefined once it is gone. */
  readonly onRouteTargets?: (namespace: string, name: string, unavailable: boolean | undefined) => void;
  /** How long spec.autoscaling's HPA may fail to scale before Degraded says so; default 180000. */
  readonly autoscalingGraceMs?: number;
}

export interface ReconcileResult {
  /** Objects applied or deleted, as `Kind/name`. */
  readonly changed: readonly string[];
  readonly statusPatched: boolean;
  /** Reconcile again after this long (pods to keep watching), if set. */
  readonly requeueAfterMs?: number;
}

export class ReconcileError extends Error {
  override readonly name = 'ReconcileError';
}

/** The informer cache can lag our own writes; etcd resource versions are increasing integers. */
function olderThan(cachedRv: string | undefined, writtenRv: string | undefined): boolean {
  if (!cachedRv || !writtenRv || !/^\d+$/.test(cachedRv) || !/^\d+$/.test(writtenRv)) return false;
  return BigInt(cachedRv) < BigInt(writtenRv);
}

function ownedBy(object: KubernetesObject, sm: ServedModel): boolean {
  return (object.metadata?.ownerReferences ?? []).some((r) => r.uid === sm.metadata.uid && r.controller === true);
}

/**
 * Made by the operator for a ServedModel of this name, and controlled by none: left behind by
 * `kubectl delete --cascade=orphan`, which keeps the pods serving while the ServedModel is
 * recreated. Taken back, as a Deployment adopts its orphaned ReplicaSets.
 */
function orphanOf(object: KubernetesObject, sm: ServedModel): boolean {
  const labels = object.metadata?.labels ?? {};
  const controlled = (object.metadata?.ownerReferences ?? []).some((r) => r.controller === true);
  return !controlled && labels[MANAGED_BY_LABEL] === FIELD_MANAGER && labels[SERVED_MODEL_LABEL] === sm.metadata.name;
}

/** The ServedModel may apply over this object: it controls it, or it adopts it. */
const mayApply = (object: KubernetesObject, sm: ServedModel): boolean => ownedBy(object, sm) || orphanOf(object, sm);

/** Why an object of the name the ServedModel needs is left alone: who has it. */
function notOwned(kind: string, name: string, object: KubernetesObject, sm: ServedModel): string {
  const owner = (object.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  if (owner?.kind === sm.kind && owner.name === sm.metadata.name) {
    return `${kind} ${name} still belongs to a deleted ServedModel of this name: it is replaced once garbage collection has removed it`;
  }
  const holder = owner ? `is controlled by ${owner.kind} ${owner.name}` : 'was not created by the operator for this ServedModel';
  return `${kind} ${name} already exists and ${holder}: it is left alone (delete or rename it, or give the ServedModel another name)`;
}

/**
 * Where a ServedModel's records in `written` start. The '|' (no name holds one) keeps `a`'s
 * records apart from `a-b`'s and from those of another ServedModel's objects.
 */
const recordPrefix = (namespace: string, name: string): string => `${namespace}/${name}|`;

interface Written {
  readonly hash: string;
  readonly resourceVersion: string | undefined;
  readonly at: number;
  /** The cache has shown this write (or a later version) at least once. */
  seen: boolean;
}

/** What a spec the model server would refuse must not change: what its pods read at start and poll. */
const HELD_ON_REFUSAL: ReadonlySet<string> = new Set(['ConfigMap', 'Deployment']);

/** How long a write may stay invisible in the cache before we stop trusting our record of it. */
const CACHE_LAG_GRACE_MS = 10_000;
/** How soon to read a source's credentials Secret, CA ConfigMap or claim, or the TLS Secret, again while it is missing, incomplete or not bound. */
const SOURCE_RECHECK_MS = 30_000;
/** Pods that are not ready asked at once, when none is: one reason is enough, a few guard against one that is only starting. */
const MAX_STARTING_PODS_ASKED = 3;

/**
 * Level-triggered reconcile of one ServedModel: read the cache, build the desired objects,
 * apply only those that differ, delete the ones no longer wanted, then patch status only when
 * it changed. Reconciling a converged ServedModel writes nothing.
 */
export class ServedModelReconciler {
  /** What we last wrote per object, to recognise a cache that has not caught up yet. */
  private readonly written = new Map<string, Written>();

  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(namespace: string, name: string): Promise<ReconcileResult> {
    const { cluster, logger } = this.deps;
    const sm = cluster.getServedModel(namespace, name);
    if (!sm || sm.metadata.deletionTimestamp) {
      // Garbage collection removes what it owned (ownerReferences).
      this.forget(namespace, name);
      return { changed: [], statusPatched: false };
    }
    const log = logger.child({ servedModel: `${namespace}/${name}` });
    const changed: string[] = [];
    const failures: string[] = [];
    let deployment: V1Deployment | undefined;
    const refusals = serverRefusals(sm);
    // Pods given a spec their server refuses would crash-loop in place of the ones serving now.
    const specRefusal =
      refusals.length > 0
        ? `The model server would refuse this spec, so its ConfigMap and Deployment are left as they were: ${refusals.join('; ')}`
        : undefined;

    for (const slot of desiredObjects(sm, this.deps.config)) {
      const key = `${recordPrefix(namespace, name)}${slot.kind}/${slot.name}`;
      const current = cluster.getOwned(slot.kind, namespace, slot.name);
      if (specRefusal && HELD_ON_REFUSAL.has(slot.kind)) {
        if (slot.kind === 'Deployment' && current && ownedBy(current, sm)) {
          deployment = current;
          // Scaling needs no new pods and nothing the server reads: kubectl scale and the autoscaler keep working.
          try {
            deployment = await this.scaleHeld(key, current, sm.spec.replicas ?? 1);
            if (deployment !== current) changed.push(`Deployment/${slot.name} (replicas)`);
          } catch (error) {
            failures.push(`${slot.kind} ${slot.name}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        continue;
      }
      try {
        if (current && !mayApply(current, sm)) {
          failures.push(notOwned(slot.kind, slot.name, current, sm));
          continue;
        }
        if (!slot.object) {
          if (current) {
            await cluster.delete(current);
            this.written.delete(key);
            changed.push(`${slot.kind}/${slot.name}`);
          }
          continue;
        }
        const hash = hashOf(slot.object);
        const last = this.written.get(key);
        if (last && current && !olderThan(current.metadata?.resourceVersion, last.resourceVersion)) last.seen = true;
        // The cache lags our own writes: an object we just wrote may be missing or older there.
        const cacheLagging =
          last !== undefined &&
          last.hash === hash &&
          (current === undefined
            ? !last.seen && this.deps.now().getTime() - last.at < CACHE_LAG_GRACE_MS
            : olderThan(current.metadata?.resourceVersion, last.resourceVersion));
        const stale = current === undefined ? undefined : slot.absent?.find((path) => hasPath(current, path));
        const upToDate = (current !== undefined && stale === undefined && contains(current, slot.object)) || cacheLagging;
        if (upToDate) {
          if (slot.kind === 'Deployment') deployment = (current) ?? deployment;
          continue;
        }
        if (current === undefined) {
          // The cache holds only labelled objects: one of this name made by someone else would be taken over.
          const live = await cluster.readLive(slot.object);
          if (live && !mayApply(live, sm)) {
            failures.push(notOwned(slot.kind, slot.name, live, sm));
            continue;
          }
        }
        if (current) {
          const difference = stale ? `.${stale.join('.')}: want none` : firstDifference(current, slot.object);
          log.debug({ object: `${slot.kind}/${slot.name}`, difference }, 'found drift');
        }
        const stored = await cluster.apply(slot.object);
        this.written.set(key, { hash, resourceVersion: stored.metadata?.resourceVersion, at: this.deps.now().getTime(), seen: false });
        if (slot.kind === 'Deployment') deployment = stored;
        changed.push(`${slot.kind}/${slot.name}`);
      } catch (error) {
        failures.push(`${slot.kind} ${slot.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (changed.length > 0) {
      log.info({ changed }, 'applied owned objects');
      await cluster.event(sm, 'Normal', 'Applied', `Applied ${changed.join(', ')}`);
    }

    const secretRef = sm.spec.source.credentialsSecretRef;
    const secret: SecretObservation = secretRef ? await cluster.readSecret(namespace, secretRef.name) : { state: 'not-referenced' };
    const source = parseModelSourceUri(sm.spec.source.uri);
    const claim = source.kind === 'pvc' ? await cluster.readClaim(namespace, source.claimName) : undefined;
    const caBundleRef = sm.spec.source.caBundleRef;
    const caBundle = caBundleRef ? await cluster.readConfigMap(namespace, caBundleRef.name) : undefined;
    const tlsSecret = sm.spec.tls ? await cluster.readSecret(namespace, sm.spec.tls.secretName) : undefined;
    const applyError = failures.length > 0 ? failures.join('; ') : undefined;
    // Only our headless Service's: a ServedModel named <name>-headless has a ClusterIP Service of that name.
    const slices = cluster.endpointSlices(namespace, headlessServiceName(sm)).filter((s) => s.metadata?.labels?.[SERVED_MODEL_LABEL] === name);
    const targets = readyPodTargets(slices, headlessServiceName(sm));
    // With no ready pod, a few of the others are asked why (a server that cannot list its source says so).
    const starting = targets.length === 0 ? startingPodTargets(slices, headlessServiceName(sm)).slice(0, MAX_STARTING_PODS_ASKED) : [];
    let pods: PodObservation | undefined;
    let startingPods: PodObservation | undefined;
    if (this.deps.observer && targets.length > 0) {
      pods = await this.deps.observer.observe(`${namespace}/${name}`, name, targets);
      if (pods.unreachable.length > 0) log.debug({ unreachable: pods.unreachable }, 'found model server pods that did not answer');
    } else if (this.deps.observer && starting.length > 0) {
      startingPods = await this.deps.observer.observe(`${namespace}/${name}`, name, starting);
    }
    const autoscaler = sm.spec.autoscaling
      ? autoscalerHealth(cluster.getOwned('HorizontalPodAutoscaler', namespace, name), this.deps.now(), this.deps.autoscalingGraceMs ?? DEFAULT_AUTOSCALING_GRACE_MS)
      : {};
    const status = computeStatus(
      sm,
      {
        deployment,
        secret,
        ...(claim ? { claim } : {}),
        ...(caBundle ? { caBundle } : {}),
        ...(tlsSecret ? { tlsSecret } : {}),
        ...(applyError ? { applyError } : {}),
        ...(specRefusal ? { specRefusal } : {}),
        ...(pods ? { pods } : {}),
        ...(startingPods ? { startingPods } : {}),
        ...(autoscaler.problem ? { autoscalingProblem: autoscaler.problem } : {}),
      },
      this.deps.now(),
    );
    const routing = status.conditions?.find((c) => c.type === 'RoutingReady');
    this.deps.onRouteTargets?.(namespace, name, routing?.status === 'False');

    const statusKey = `${recordPrefix(namespace, name)}status`;
    const statusHash = hashOf(status);
    const lastStatus = this.written.get(statusKey);
    const statusCurrent =
      hashOf(sm.status ?? {}) === statusHash ||
      (lastStatus?.hash === statusHash && olderThan(sm.metadata.resourceVersion, lastStatus.resourceVersion));
    let statusPatched = false;
    if (!statusCurrent) {
      const rv = await cluster.patchStatus(sm, status);
      this.written.set(statusKey, { hash: statusHash, resourceVersion: rv, at: this.deps.now().getTime(), seen: false });
      statusPatched = true;
      const before = new Map((sm.status?.conditions ?? []).map((c) => [c.type, c]));
      // Degraded repeats a source problem: one Event for both.
      const warned = new Set<string>();
      for (const c of status.conditions ?? []) {
        const bad =
          (c.type === 'Degraded' && c.status === 'True') || ((c.type === 'SourceReady' || c.type === 'RoutingReady') && c.status === 'False');
        const flipped = before.get(c.type)?.status !== c.status;
        // A new problem while another one stood (Degraded True before and after) is news too.
        if (bad && (flipped || before.get(c.type)?.reason !== c.reason)) {
          if (warned.has(`${c.reason}\n${c.message}`)) continue;
          warned.add(`${c.reason}\n${c.message}`);
          if (c.type === 'RoutingReady') log.warn({ reason: c.reason, detail: c.message }, 'found route targets the pods cannot serve');
          await cluster.event(sm, 'Warning', c.reason, c.message);
        } else if (c.type === 'RoutingReady' && c.status === 'True' && flipped && before.get(c.type)?.status === 'False') {
          log.info({ reason: c.reason }, 'found every route target available again');
          await cluster.event(sm, 'Normal', c.reason, c.message);
        }
      }
    }
    if (applyError) throw new ReconcileError(applyError);
    const podRecheckMs = targets.length + starting.length > 0 && this.deps.observer ? (this.deps.podStatusIntervalMs ?? 15_000) : undefined;
    // Nothing else announces a Secret or claim that appears or binds later: look again.
    const referenceMissing = status.conditions?.some((c) => c.type === 'SourceReady' && c.status !== 'True') || tlsSecretProblem(sm, tlsSecret) !== undefined;
    const sourceRecheckMs = referenceMissing ? SOURCE_RECHECK_MS : undefined;
    const rechecks = [podRecheckMs, autoscaler.recheckAfterMs, sourceRecheckMs].filter((ms): ms is number => ms !== undefined);
    const requeueAfterMs = rechecks.length > 0 ? Math.min(...rechecks) : undefined;
    return { changed, statusPatched, ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}) };
  }

  /** A held Deployment with spec.replicas set to `replicas` (scaled unless it has, or our last scale is not yet cached). */
  private async scaleHeld(key: string, current: KubernetesObject, replicas: number): Promise<KubernetesObject> {
    const scaleKey = `${key}/replicas`;
    const last = this.written.get(scaleKey);
    const cached = (current as V1Deployment).spec?.replicas === replicas;
    const lagging = last?.hash === String(replicas) && olderThan(current.metadata?.resourceVersion, last.resourceVersion);
    if (cached || lagging) return current;
    const stored = await this.deps.cluster.scale(current, replicas);
    this.written.set(scaleKey, { hash: String(replicas), resourceVersion: stored.metadata?.resourceVersion, at: this.deps.now().getTime(), seen: false });
    return stored;
  }

  private forget(namespace: string, name: string): void {
    this.deps.observer?.forget(`${namespace}/${name}`);
    this.deps.onRouteTargets?.(namespace, name, undefined);
    const prefix = recordPrefix(namespace, name);
    for (const key of this.written.keys()) if (key.startsWith(prefix)) this.written.delete(key);
  }
}
