import type { V1PodDisruptionBudget } from '@kubernetes/client-node';
import type { ServedModel } from '../../api/served-model-types.js';
import { ownedMeta, selectorLabels } from './owned-meta.js';

/** A PDB only makes sense with more than one replica; with one it would block every drain. */
export function buildPodDisruptionBudget(sm: ServedModel): V1PodDisruptionBudget | undefined {
  if ((sm.spec.replicas ?? 1) <= 1) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: ownedMeta(sm, sm.metadata.name),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(sm) } },
  };
}
