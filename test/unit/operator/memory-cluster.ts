/** A ClusterAccess over in-memory objects, for reconciler tests without an apiserver (writes counted, Events kept). */
import type { KubernetesObject, V1EndpointSlice } from '@kubernetes/client-node';
import type { ServedModel, ServedModelStatus } from '../../../src/api/served-model-types.js';
import type { ClaimObservation } from '../../../src/operator/servedmodel/claim-observation.js';
import type { ClusterAccess } from '../../../src/operator/servedmodel/cluster-access.js';
import type { SecretObservation } from '../../../src/operator/servedmodel/status.js';

export class MemoryCluster implements ClusterAccess {
  private rv = 1;
  readonly objects = new Map<string, KubernetesObject>();
  /** Objects in the namespace that the informers do not see (no operator label): made by someone else. */
  readonly unlabelled = new Map<string, KubernetesObject>();
  readonly events: string[] = [];
  writes = 0;
  slices: V1EndpointSlice[] = [];
  claim: ClaimObservation | undefined;

  constructor(public sm: ServedModel) {}

  getServedModel(): ServedModel | undefined {
    return this.sm;
  }
  getOwned(kind: string, namespace: string, name: string): KubernetesObject | undefined {
    return this.objects.get(`${kind}/${namespace}/${name}`);
  }
  endpointSlices(): V1EndpointSlice[] {
    return this.slices;
  }
  /** Secrets by name; one not here is missing. */
  readonly secrets = new Map<string, readonly string[]>();
  readSecret(_namespace: string, name: string): Promise<SecretObservation> {
    const keys = this.secrets.get(name);
    return Promise.resolve(keys ? { state: 'found', name, keys } : { state: 'missing', name });
  }
  readConfigMap(): never {
    throw new Error('no ConfigMap referenced');
  }
  readClaim(): Promise<ClaimObservation> {
    if (!this.claim) throw new Error('no claim referenced');
    return Promise.resolve(this.claim);
  }
  readLive(object: KubernetesObject): Promise<KubernetesObject | undefined> {
    const key = `${object.kind}/${object.metadata?.namespace}/${object.metadata?.name}`;
    return Promise.resolve(this.objects.get(key) ?? this.unlabelled.get(key));
  }
  apply(object: KubernetesObject): Promise<KubernetesObject> {
    this.writes += 1;
    this.rv += 1;
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(this.rv) } };
    this.objects.set(`${object.kind}/${object.metadata?.namespace}/${object.metadata?.name}`, stored);
    return Promise.resolve(stored);
  }
  scale(deployment: KubernetesObject, replicas: number): Promise<KubernetesObject> {
    this.writes += 1;
    this.rv += 1;
    const key = `${deployment.kind}/${deployment.metadata?.namespace}/${deployment.metadata?.name}`;
    const live: (KubernetesObject & { spec?: Record<string, unknown> }) | undefined = this.objects.get(key);
    if (!live) return Promise.reject(new Error(`scale ${key}: not found`));
    const stored = { ...live, metadata: { ...live.metadata, resourceVersion: String(this.rv) }, spec: { ...live.spec, replicas } };
    this.objects.set(key, stored);
    return Promise.resolve(stored);
  }
  delete(): Promise<void> {
    this.writes += 1;
    return Promise.resolve();
  }
  patchStatus(_sm: ServedModel, status: ServedModelStatus): Promise<string> {
    this.writes += 1;
    this.rv += 1;
    this.sm = { ...this.sm, metadata: { ...this.sm.metadata, resourceVersion: String(this.rv) }, status };
    return Promise.resolve(String(this.rv));
  }
  event(_sm: ServedModel, type: string, reason: string): Promise<void> {
    this.events.push(`${type}/${reason}`);
    return Promise.resolve();
  }
}
