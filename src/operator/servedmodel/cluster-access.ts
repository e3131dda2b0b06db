import type { KubernetesObject, V1EndpointSlice } from '@kubernetes/client-node';
import type { ServedModel, ServedModelStatus } from '../../api/served-model-types.js';
import type { ClaimObservation } from './claim-observation.js';
import type { ConfigMapObservation, SecretObservation } from './status.js';

/** What the reconciler reads and writes; the runtime implements it over informers and the API. */
export interface ClusterAccess {
  /** From the informer cache. */
  getServedModel(namespace: string, name: string): ServedModel | undefined;
  /** From the informer cache. */
  getOwned(kind: string, namespace: string, name: string): KubernetesObject | undefined;
  /** From the informer cache: the EndpointSlices of one Service (label kubernetes.io/service-name), any manager's. */
  endpointSlices(namespace: string, serviceName: string): V1EndpointSlice[];
  readSecret(namespace: string, name: string): Promise<SecretObservation>;
  readClaim(namespace: string, name: string): Promise<ClaimObservation>;
  /** A ConfigMap the spec references (not one the operator owns): which keys it has. */
  readConfigMap(namespace: string, name: string): Promise<ConfigMapObservation>;
  /**
   * From the API, not the cache: the object of this kind, namespace and name, whoever made it.
   * The informers see only objects with the operator's label, so one of the same name created by
   * someone else is missing from the cache; a forced apply would take it over.
   */
  readLive(object: KubernetesObject): Promise<KubernetesObject | undefined>;
  /** Server-side apply under the operator's field manager; returns the stored object. */
  apply(object: KubernetesObject): Promise<KubernetesObject>;
  /**
   * Sets a Deployment's spec.replicas alone (a merge patch), leaving the rest as it is; returns the
   * stored object. The next server-side apply takes the field back.
   */
  scale(deployment: KubernetesObject, replicas: number): Promise<KubernetesObject>;
  delete(object: KubernetesObject): Promise<void>;
  /** Replaces the status; `previous` lets fields that disappeared be removed. Returns the new resourceVersion. */
  patchStatus(sm: ServedModel, status: ServedModelStatus): Promise<string | undefined>;
  event(sm: ServedModel, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}
