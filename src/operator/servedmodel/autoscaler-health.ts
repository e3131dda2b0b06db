import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { ConditionInput } from './served-versions.js';

export interface AutoscalerHealth {
  /** A Degraded condition once the autoscaler has been unable to work for the whole grace period. */
  readonly problem?: ConditionInput;
  /** Look again this soon: the autoscaler is failing, but not yet for the grace period. */
  readonly recheckAfterMs?: number;
}

/** Default grace: a new pod has no CPU samples until the metrics server scraped it once or twice. */
export const DEFAULT_AUTOSCALING_GRACE_MS = 180_000;

/**
 * Whether the ServedModel's HPA can do its job. ScalingActive False means it cannot compute a
 * replica count (no metrics server, no CPU request, an adapter that does not serve the metric),
 * AbleToScale False that it cannot read or write the scale; ScalingDisabled is the user's own
 * `replicas: 0`. Pods just started have no metrics yet, so a failure counts only after `graceMs`.
 */
export function autoscalerHealth(hpa: V2HorizontalPodAutoscaler | undefined, now: Date, graceMs: number): AutoscalerHealth {
  const conditions = hpa?.status?.conditions ?? [];
  const failing = conditions.find(
    (c) => c.status === 'False' && (c.type === 'AbleToScale' || (c.type === 'ScalingActive' && c.reason !== 'ScalingDisabled')),
  );
  if (!failing) return {};
  const since = failing.lastTransitionTime ? new Date(failing.lastTransitionTime).getTime() : now.getTime();
  const waited = now.getTime() - since;
  if (waited < graceMs) return { recheckAfterMs: graceMs - waited };
  return {
    problem: {
      type: 'Degraded',
      status: 'True',
      reason: 'AutoscalingInactive',
      message: `HorizontalPodAutoscaler ${hpa?.metadata?.name ?? ''} ${failing.type}=False (${failing.reason ?? 'no reason'}): ${failing.message ?? ''}`.trim(),
    },
  };
}
