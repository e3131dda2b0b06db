import type { V2HorizontalPodAutoscaler, V2MetricSpec } from '@kubernetes/client-node';
import { API_VERSION, DEFAULT_TARGET_CPU_UTILIZATION, KIND, type ServedModel } from '../../api/served-model-types.js';
import { hashOf } from './deployment.js';
import { ownedMeta } from './owned-meta.js';

/**
 * Hash of the HPA's spec. The reconciler applies only when the live object lacks what it wants, and
 * the apiserver fills in behavior's defaults, so a removed behavior field would go unnoticed; the
 * hash changes with any edit.
 */
export const AUTOSCALING_HASH_ANNOTATION = 'tensorfleet.dev/autoscaling-hash';

function cpuMetric(averageUtilization: number): V2MetricSpec {
  return { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization } } };
}

/**
 * The HPA of spec.autoscaling. It targets the ServedModel itself (its scale subresource), not the
 * Deployment: the operator keeps applying spec.replicas to the Deployment, so an HPA on the
 * Deployment would fight it, and the PDB and status read spec.replicas too.
 */
export function buildHorizontalPodAutoscaler(sm: ServedModel): V2HorizontalPodAutoscaler | undefined {
  const autoscaling = sm.spec.autoscaling;
  if (!autoscaling) return undefined;
  const cpuTarget = autoscaling.targetCPUUtilization ?? (autoscaling.metrics ? undefined : DEFAULT_TARGET_CPU_UTILIZATION);
  const metrics = [...(cpuTarget !== undefined ? [cpuMetric(cpuTarget)] : []), ...((autoscaling.metrics ?? []) as readonly unknown[] as V2MetricSpec[])];
  const spec: V2HorizontalPodAutoscaler['spec'] = {
    scaleTargetRef: { apiVersion: API_VERSION, kind: KIND, name: sm.metadata.name },
    minReplicas: autoscaling.minReplicas ?? 1,
    maxReplicas: autoscaling.maxReplicas,
    metrics,
    ...(autoscaling.behavior ? { behavior: autoscaling.behavior } : {}),
  };
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { ...ownedMeta(sm, sm.metadata.name), annotations: { [AUTOSCALING_HASH_ANNOTATION]: hashOf(spec) } },
    spec,
  };
}
