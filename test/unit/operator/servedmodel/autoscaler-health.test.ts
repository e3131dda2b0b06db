import type { V2HorizontalPodAutoscaler, V2HorizontalPodAutoscalerCondition } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { autoscalerHealth } from '../../../../src/operator/servedmodel/autoscaler-health.js';

const NOW = new Date('2030-01-01T00:10:00Z');
const GRACE_MS = 180_000;

const hpa = (...conditions: V2HorizontalPodAutoscalerCondition[]): V2HorizontalPodAutoscaler => ({
  metadata: { name: 'mnist' },
  spec: { scaleTargetRef: { kind: 'ServedModel', name: 'mnist' }, maxReplicas: 4 },
  status: { desiredReplicas: 2, conditions },
});
const condition = (type: string, status: string, reason: string, secondsAgo: number, message = `${reason} happened`): V2HorizontalPodAutoscalerCondition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: new Date(NOW.getTime() - secondsAgo * 1000),
});
const scaling = condition('AbleToScale', 'True', 'SucceededGetScale', 600);

describe('autoscalerHealth', () => {
  it('finds nothing wrong with an HPA that scales, one not created or observed yet, or one disabled by replicas: 0', () => {
    expect(autoscalerHealth(hpa(scaling, condition('ScalingActive', 'True', 'ValidMetricFound', 600)), NOW, GRACE_MS)).toEqual({});
    expect(autoscalerHealth(undefined, NOW, GRACE_MS)).toEqual({});
    expect(autoscalerHealth(hpa(), NOW, GRACE_MS)).toEqual({});
    expect(autoscalerHealth(hpa(scaling, condition('ScalingActive', 'False', 'ScalingDisabled', 600)), NOW, GRACE_MS)).toEqual({});
  });

  it('waits out the grace period of a new failure, then reports it with the HPA reason and message', () => {
    const young = hpa(scaling, condition('ScalingActive', 'False', 'FailedGetResourceMetric', 60, 'unable to get metrics for resource cpu'));
    expect(autoscalerHealth(young, NOW, GRACE_MS)).toEqual({ recheckAfterMs: 120_000 });
    const old = hpa(scaling, condition('ScalingActive', 'False', 'FailedGetResourceMetric', 181, 'unable to get metrics for resource cpu'));
    expect(autoscalerHealth(old, NOW, GRACE_MS)).toEqual({
      problem: {
        type: 'Degraded',
        status: 'True',
        reason: 'AutoscalingInactive',
        message: 'HorizontalPodAutoscaler mnist ScalingActive=False (FailedGetResourceMetric): unable to get metrics for resource cpu',
      },
    });
  });

  it('reports an HPA that cannot read or write the scale, and reads times as the watch delivers them (strings)', () => {
    const failed = { ...condition('AbleToScale', 'False', 'FailedGetScale', 0), lastTransitionTime: '2030-01-01T00:00:00Z' as unknown as Date };
    expect(autoscalerHealth(hpa(failed), NOW, GRACE_MS).problem?.message).toMatch(/AbleToScale=False \(FailedGetScale\)/);
    expect(autoscalerHealth(hpa(failed), NOW, 0).problem?.reason).toBe('AutoscalingInactive');
  });
});
