/** Whether to copy a routed request to the shadow version, and to which one. Pure. */
import type { RoutingConfig } from '../config/model-config.js';

export interface ShadowContext {
  readonly availableVersions: readonly number[];
  /** The version serving the caller (from route()). */
  readonly primaryVersion: number;
  /** Uniform on [0, 1); drawn once only when a copy is possible at all. */
  readonly rng: () => number;
}

/**
 * The version to send a copy of this request to, or undefined. A copy goes with probability
 * shadow.percent / 100, never to the version already serving the request (that would compare
 * a version with itself) and never to a version that is not available (a shadow must not turn
 * into errors anywhere).
 */
export function shadowDecision(routing: RoutingConfig, ctx: ShadowContext): number | undefined {
  const shadow = routing.shadow;
  if (shadow === undefined) return undefined;
  if (shadow.version === ctx.primaryVersion || !ctx.availableVersions.includes(shadow.version)) return undefined;
  return ctx.rng() * 100 < shadow.percent ? shadow.version : undefined;
}
