import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
  type V1EndpointSlice,
} from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type ServedModel, type ServedModelStatus } from '../../api/served-model-types.js';
import type { ClusterAccess } from '../servedmodel/cluster-access.js';
import { SERVICE_NAME_LABEL } from '../servedmodel/pod-observation.js';
import type { ClaimObservation } from '../servedmodel/claim-observation.js';
import type { ConfigMapObservation, SecretObservation } from '../servedmodel/status.js';
import { FIELD_MANAGER } from '../specs/owned-meta.js';
import type { OperatorMetrics } from './metrics.js';

const statusCode = (error: unknown): number | undefined => (error as { code?: number } | undefined)?.code;

/** An API error as one line: status code and the apiserver's message. */
export function describeApiError(error: unknown): string {
  const e = error as { code?: number; body?: unknown; message?: string };
  let message = e.message ?? String(error);
  try {
    const body = typeof e.body === 'string' ? (JSON.parse(e.body) as { message?: string }) : (e.body as { message?: string } | undefined);
    if (body?.message) message = body.message;
  } catch {
    // keep the generic message
  }
  return e.code ? `HTTP ${e.code}: ${message}` : message;
}

export interface KubeClusterAccessDeps {
  readonly kubeConfig: KubeConfig;
  readonly servedModels: ObjectCache<ServedModel>;
  readonly owned: Readonly<Record<string, ObjectCache<KubernetesObject>>>;
  /** EndpointSlices of the Services the operator owns (they carry the Services' labels). */
  readonly endpointSlices?: ObjectCache<V1EndpointSlice>;
  readonly metrics: OperatorMetrics;
  readonly now: () => Date;
  /** Distinguishes this replica's Events (reportingInstance) and their names. */
  readonly identity: string;
}

/** ClusterAccess over informer caches (reads) and the API (writes, each counted). */
export class KubeClusterAccess implements ClusterAccess {
  private readonly objects: KubernetesObjectApi;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private eventSeq = 0;

  constructor(private readonly deps: KubeClusterAccessDeps) {
    this.objects = KubernetesObjectApi.makeApiClient(deps.kubeConfig);
    this.core = deps.kubeConfig.makeApiClient(CoreV1Api);
    this.custom = deps.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  getServedModel(namespace: string, name: string): ServedModel | undefined {
    return this.deps.servedModels.get(name, namespace);
  }

  getOwned(kind: string, namespace: string, name: string): KubernetesObject | undefined {
    return this.deps.owned[kind]?.get(name, namespace);
  }

  endpointSlices(namespace: string, serviceName: string): V1EndpointSlice[] {
    return (this.deps.endpointSlices?.list(namespace) ?? []).filter((s) => s.metadata?.labels?.[SERVICE_NAME_LABEL] === serviceName);
  }

  readSecret(namespace: string, name: string): Promise<SecretObservation> {
    return observe(name, () => this.core.readNamespacedSecret({ namespace, name }), (secret) => ({ state: 'found', name, keys: Object.keys(secret.data ?? {}).sort() }));
  }

  readConfigMap(namespace: string, name: string): Promise<ConfigMapObservation> {
    return observe(name, () => this.core.readNamespacedConfigMap({ namespace, name }), (map) => ({
      state: 'found',
      name,
      keys: [...Object.keys(map.data ?? {}), ...Object.keys(map.binaryData ?? {})].sort(),
    }));
  }

  readClaim(namespace: string, name: string): Promise<ClaimObservation> {
    return observe(name, () => this.core.readNamespacedPersistentVolumeClaim({ namespace, name }), (claim) => ({
      state: 'found',
      name,
      phase: claim.status?.phase ?? '',
      accessModes: claim.status?.accessModes ?? claim.spec?.accessModes ?? [],
    }));
  }

  async readLive(object: KubernetesObject): Promise<KubernetesObject | undefined> {
    const { apiVersion, kind } = object;
    const { name, namespace } = object.metadata ?? {};
    try {
      return await this.objects.read({ apiVersion, kind, metadata: { name: name ?? '', namespace: namespace ?? '' } });
    } catch (error) {
      if (statusCode(error) === 404) return undefined;
      throw new Error(`read ${kind} ${name}: ${describeApiError(error)}`, { cause: error });
    }
  }

  async apply(object: KubernetesObject): Promise<KubernetesObject> {
    this.deps.metrics.inc('tensorfleet_operator_api_writes_total', { verb: 'apply', kind: object.kind ?? '' });
    try {
      return await this.objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    } catch (error) {
      throw new Error(`apply ${object.kind} ${object.metadata?.name}: ${describeApiError(error)}`, { cause: error });
    }
  }

  async scale(deployment: KubernetesObject, replicas: number): Promise<KubernetesObject> {
    this.deps.metrics.inc('tensorfleet_operator_api_writes_total', { verb: 'scale', kind: deployment.kind ?? '' });
    const { apiVersion, kind } = deployment;
    const { name, namespace } = deployment.metadata ?? {};
    try {
      return await this.objects.patch(
        { apiVersion, kind, metadata: { name: name ?? '', namespace: namespace ?? '' }, spec: { replicas } } as KubernetesObject,
        undefined,
        undefined,
        FIELD_MANAGER,
        undefined,
        PatchStrategy.MergePatch,
      );
    } catch (error) {
      throw new Error(`scale ${kind} ${name}: ${describeApiError(error)}`, { cause: error });
    }
  }

  async delete(object: KubernetesObject): Promise<void> {
    this.deps.metrics.inc('tensorfleet_operator_api_writes_total', { verb: 'delete', kind: object.kind ?? '' });
    try {
      await this.objects.delete({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata?.name, namespace: object.metadata?.namespace } });
    } catch (error) {
      if (statusCode(error) !== 404) throw new Error(`delete ${object.kind} ${object.metadata?.name}: ${describeApiError(error)}`, { cause: error });
    }
  }

  async patchStatus(sm: ServedModel, status: ServedModelStatus): Promise<string | undefined> {
    this.deps.metrics.inc('tensorfleet_operator_api_writes_total', { verb: 'status', kind: 'ServedModel' });
    // A merge patch keeps keys it does not mention: null out the ones that disappeared.
    const body: Record<string, unknown> = { ...status };
    for (const key of Object.keys(sm.status ?? {})) if (!(key in body)) body[key] = null;
    try {
      const stored = (await this.custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace: sm.metadata.namespace, plural: PLURAL, name: sm.metadata.name, body: { status: body } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )) as ServedModel;
      return stored.metadata.resourceVersion;
    } catch (error) {
      throw new Error(`patch status of ServedModel ${sm.metadata.name}: ${describeApiError(error)}`, { cause: error });
    }
  }

  async event(sm: ServedModel, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    this.deps.metrics.inc('tensorfleet_operator_api_writes_total', { verb: 'event', kind: 'Event' });
    const now = this.deps.now();
    this.eventSeq += 1;
    const name = `${sm.metadata.name}.${now.getTime().toString(16)}${this.eventSeq.toString(16)}`;
    try {
      await this.core.createNamespacedEvent({
        namespace: sm.metadata.namespace,
        body: {
          metadata: { name, namespace: sm.metadata.namespace },
          involvedObject: {
            apiVersion: sm.apiVersion,
            kind: sm.kind,
            name: sm.metadata.name,
            namespace: sm.metadata.namespace,
            uid: sm.metadata.uid,
            resourceVersion: sm.metadata.resourceVersion,
          },
          type,
          reason,
          message: message.slice(0, 1024),
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: FIELD_MANAGER },
          reportingComponent: FIELD_MANAGER,
          reportingInstance: this.deps.identity,
        },
      });
    } catch {
      // Events are best effort: a lost Event must never fail a reconcile.
    }
  }
}

/** Reads an object the spec references: found (as `found` describes it), missing (404), or unreadable. */
async function observe<T, O>(name: string, read: () => Promise<T>, found: (object: T) => O): Promise<O | { state: 'missing'; name: string } | { state: 'unreadable'; name: string; message: string }> {
  let object: T;
  try {
    object = await read();
  } catch (error) {
    if (statusCode(error) === 404) return { state: 'missing', name };
    return { state: 'unreadable', name, message: describeApiError(error) };
  }
  return found(object);
}
