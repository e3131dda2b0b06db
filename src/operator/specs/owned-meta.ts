import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { API_VERSION, KIND, type ServedModel } from '../../api/served-model-types.js';

export const FIELD_MANAGER = 'tensorfleet-operator';
export const SERVED_MODEL_LABEL = 'tensorfleet.dev/served-model';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** Label selector that matches every object the operator owns (informers filter on it). */
export const OWNED_SELECTOR = `${MANAGED_BY_LABEL}=${FIELD_MANAGER}`;

/** Labels that select a ServedModel's pods. Immutable once a Deployment exists: keep them small. */
export function selectorLabels(sm: ServedModel): Record<string, string> {
  return { 'app.kubernetes.io/name': 'tensorfleet', [SERVED_MODEL_LABEL]: sm.metadata.name };
}

export function ownedLabels(sm: ServedModel): Record<string, string> {
  return {
    ...selectorLabels(sm),
    'app.kubernetes.io/instance': sm.metadata.name,
    'app.kubernetes.io/component': 'model-server',
    [MANAGED_BY_LABEL]: FIELD_MANAGER,
  };
}

export function ownerReference(sm: ServedModel): V1OwnerReference {
  if (!sm.metadata.uid) throw new Error(`ServedModel ${sm.metadata.namespace}/${sm.metadata.name} has no uid`);
  return { apiVersion: API_VERSION, kind: KIND, name: sm.metadata.name, uid: sm.metadata.uid, controller: true, blockOwnerDeletion: true };
}

export function ownedMeta(sm: ServedModel, name: string): V1ObjectMeta {
  return { name, namespace: sm.metadata.namespace, labels: ownedLabels(sm), ownerReferences: [ownerReference(sm)] };
}

export const configMapName = (sm: ServedModel): string => `${sm.metadata.name}-models`;
export const headlessServiceName = (sm: ServedModel): string => `${sm.metadata.name}-headless`;
