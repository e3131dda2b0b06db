import type { KubernetesObject } from '@kubernetes/client-node';
import type { ServedModel } from '../../api/served-model-types.js';
import { BATCHING_PARAMETERS_KEY } from '../specs/batching-parameters.js';
import { buildConfigMap } from '../specs/config-map.js';
import { buildDeployment } from '../specs/deployment.js';
import type { RenderConfig } from '../specs/operator-config.js';
import { configMapName, headlessServiceName } from '../specs/owned-meta.js';
import { buildHorizontalPodAutoscaler } from '../specs/horizontal-pod-autoscaler.js';
import { buildPodDisruptionBudget } from '../specs/pod-disruption-budget.js';
import { buildHeadlessService, buildService } from '../specs/service.js';

/** The kinds a ServedModel owns, in apply order (config before the pods that read it). */
export const OWNED_KINDS = ['ConfigMap', 'Service', 'Deployment', 'PodDisruptionBudget', 'HorizontalPodAutoscaler'] as const;
export type OwnedKind = (typeof OWNED_KINDS)[number];

export interface OwnedSlot {
  readonly kind: OwnedKind;
  readonly name: string;
  /** Undefined when the object must not exist (e.g. a PDB with one replica). */
  readonly object: KubernetesObject | undefined;
  /**
   * Paths (e.g. `['data', 'key']`) that must not exist on the live object. "Contains" alone never
   * notices a field we stopped setting; one listed here makes the object differ, and the apply
   * then removes it (server-side apply drops what our field manager no longer sets).
   */
  readonly absent?: readonly (readonly string[])[];
}

/** Every object a ServedModel should own, and the ones it should not (to delete). Pure. */
export function desiredObjects(sm: ServedModel, config: RenderConfig): OwnedSlot[] {
  return [
    {
      kind: 'ConfigMap',
      name: configMapName(sm),
      object: buildConfigMap(sm),
      // A stale parameters file would mislead whoever reads the ConfigMap after batching is off.
      ...(sm.spec.batching ? {} : { absent: [['data', BATCHING_PARAMETERS_KEY]] }),
    },
    { kind: 'Service', name: sm.metadata.name, object: buildService(sm) },
    { kind: 'Service', name: headlessServiceName(sm), object: buildHeadlessService(sm) },
    { kind: 'Deployment', name: sm.metadata.name, object: buildDeployment(sm, config) },
    { kind: 'PodDisruptionBudget', name: sm.metadata.name, object: buildPodDisruptionBudget(sm) },
    { kind: 'HorizontalPodAutoscaler', name: sm.metadata.name, object: buildHorizontalPodAutoscaler(sm) },
  ];
}
