import { describe, expect, it } from 'vitest';
import type { AutoscalingSpec } from '../../../../src/api/served-model-types.js';
import { AUTOSCALING_HASH_ANNOTATION, buildHorizontalPodAutoscaler } from '../../../../src/operator/specs/horizontal-pod-autoscaler.js';
import { servedModel } from '../fixtures.js';

const cpu = (averageUtilization: number): unknown => ({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization } } });
const inferenceUtilization = {
  type: 'Pods',
  pods: { metric: { name: 'tensorfleet_inference_utilization' }, target: { type: 'AverageValue', averageValue: '600m' } },
};

describe('buildHorizontalPodAutoscaler', () => {
  it('exists only with spec.autoscaling', () => {
    expect(buildHorizontalPodAutoscaler(servedModel({ replicas: 3 }))).toBeUndefined();
  });

  it('scales the ServedModel itself, owned by it, on CPU at 80% by default', () => {
    const hpa = buildHorizontalPodAutoscaler(servedModel({ autoscaling: { maxReplicas: 5 } }));
    expect(hpa).toMatchObject({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'mnist', namespace: 'ml', ownerReferences: [{ kind: 'ServedModel', name: 'mnist', uid: 'uid-1', controller: true }] },
      spec: { scaleTargetRef: { apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', name: 'mnist' }, minReplicas: 1, maxReplicas: 5, metrics: [cpu(80)] },
    });
    expect(hpa?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('tensorfleet-operator');
    expect(hpa?.spec?.behavior).toBeUndefined();
  });

  it.each([
    ['a CPU target', { targetCPUUtilization: 60 }, [cpu(60)]],
    ['metrics only', { metrics: [inferenceUtilization] }, [inferenceUtilization]],
    ['a CPU target and metrics', { targetCPUUtilization: 60, metrics: [inferenceUtilization] }, [cpu(60), inferenceUtilization]],
  ])('takes %s', (_what, fields, metrics) => {
    expect(buildHorizontalPodAutoscaler(servedModel({ autoscaling: { minReplicas: 2, maxReplicas: 8, ...fields } }))?.spec).toMatchObject({ minReplicas: 2, maxReplicas: 8, metrics });
  });

  it('passes behavior as given', () => {
    const behavior = { scaleDown: { stabilizationWindowSeconds: 600, policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] } };
    expect(buildHorizontalPodAutoscaler(servedModel({ autoscaling: { maxReplicas: 3, behavior } }))?.spec?.behavior).toEqual(behavior);
  });

  it('stamps a hash of its spec that changes with any edit, behavior removed included', () => {
    const hash = (autoscaling: AutoscalingSpec): string | undefined =>
      buildHorizontalPodAutoscaler(servedModel({ autoscaling }))?.metadata?.annotations?.[AUTOSCALING_HASH_ANNOTATION];
    const base = { maxReplicas: 3, behavior: { scaleDown: { stabilizationWindowSeconds: 600 } } };
    expect(hash(base)).toMatch(/^[0-9a-f]{16}$/);
    expect(hash({ ...base })).toBe(hash(base));
    expect(hash({ maxReplicas: 3 })).not.toBe(hash(base));
    expect(hash({ ...base, maxReplicas: 4 })).not.toBe(hash(base));
  });
});
