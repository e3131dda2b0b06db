/**
 * The per-request routing decision for a request that names neither a version nor a label
 * (those go exactly where they say, before this is asked). Pure: the caller passes what is
 * available, the stable version, the request's key and a random source.
 */
import type { RoutingConfig } from '../config/model-config.js';
import { ServingError } from '../../shared/errors.js';
import { rendezvousPick, weightedRandomPick } from './rendezvous.js';

export interface RouteContext {
  /** The versions that can serve right now, in any order. */
  readonly availableVersions: readonly number[];
  /**
   * The version that serves when routing says nothing: the `stable` label's version if set, else
   * undefined (or the highest available; the two mean the same here).
   */
  readonly stableVersion: number | undefined;
  /** The A/B key (header / metadata value) of this request; undefined or '' when it has none. */
  readonly requestKey: string | undefined;
  /** Uniform on [0, 1). Canary and unkeyed A/B draw exactly one number; other rules draw none. */
  readonly rng: () => number;
}

/** Which part of the routing config decided: none set (`default`), `canary` or `abTest`. */
export type RouteRule = 'default' | 'canary' | 'abTest';

export interface RouteFallback {
  /** The version routing chose, which could not serve. */
  readonly wanted: number;
  /** One sentence for logs and status, naming both versions. */
  readonly reason: string;
}

export interface RouteDecision {
  /** The version to serve this request; always one of the available versions. */
  readonly version: number;
  /**
   * A stable name for metrics and logs: `stable` or `canary` under a canary, `v<version>` for an
   * A/B variant, `stable` when no routing is set or when the decision fell back.
   */
  readonly variant: string;
  readonly rule: RouteRule;
  /** Present when routing chose a version that is not available and the stable one served. */
  readonly fallback?: RouteFallback;
}

interface Stable {
  readonly version: number;
  readonly fallback?: RouteFallback;
}

/**
 * Routes one request. Precedence inside the routing config: `abTest` if set, else `canary`, else
 * the stable version (a config with both is rejected by routingProblems; A/B wins here so a
 * running server never fails requests over it). Throws UNAVAILABLE only when no version at all
 * is available.
 */
export function route(routing: RoutingConfig, ctx: RouteContext): RouteDecision {
  const stable = resolveStable(ctx);

  const ab = routing.abTest;
  if (ab !== undefined && ab.variants.length > 0) {
    const choices = ab.variants.map((v) => ({ version: v.version, weight: v.percent }));
    const key = ctx.requestKey;
    const chosen =
      key !== undefined && key !== '' ? rendezvousPick(choices, key) : weightedRandomPick(choices, ctx.rng);
    if (chosen === undefined) return { version: stable.version, variant: 'stable', rule: 'abTest', ...fb(stable) };
    return arm('abTest', `v${chosen.version}`, chosen.version, `A/B variant version ${chosen.version}`, stable, ctx);
  }

  const canary = routing.canary;
  if (canary !== undefined) {
    // rng() < 1, so percent 100 always takes the canary and percent 0 never does.
    if (ctx.rng() * 100 < canary.percent) {
      return arm('canary', 'canary', canary.version, `canary version ${canary.version}`, stable, ctx);
    }
    return { version: stable.version, variant: 'stable', rule: 'canary', ...fb(stable) };
  }

  return { version: stable.version, variant: 'stable', rule: 'default', ...fb(stable) };
}

/** The stable version, falling back to the highest available one when it cannot serve. */
function resolveStable(ctx: RouteContext): Stable {
  const available = ctx.availableVersions;
  if (available.length === 0) throw new ServingError('UNAVAILABLE', 'no version of the model is available');
  let highest = available[0]!;
  for (const v of available) if (v > highest) highest = v;
  const wanted = ctx.stableVersion;
  if (wanted === undefined || available.includes(wanted)) return { version: wanted ?? highest };
  return {
    version: highest,
    fallback: {
      wanted,
      reason: `stable version ${wanted} is not available; served the highest available version ${highest}`,
    },
  };
}

function arm(
  rule: RouteRule,
  variant: string,
  version: number,
  what: string,
  stable: Stable,
  ctx: RouteContext,
): RouteDecision {
  if (ctx.availableVersions.includes(version)) return { version, variant, rule };
  const stableWhat = stable.fallback
    ? `the highest available version ${stable.version} (stable version ${stable.fallback.wanted} is not available either)`
    : `the stable version ${stable.version}`;
  return {
    version: stable.version,
    variant: 'stable',
    rule,
    fallback: { wanted: version, reason: `${what} is not available; served ${stableWhat}` },
  };
}

const fb = (stable: Stable): { fallback?: RouteFallback } =>
  stable.fallback === undefined ? {} : { fallback: stable.fallback };
