/**
 * Validation of a routing config: every problem, each naming its field, so the config loader (and
 * the operator, for the ServedModel spec) can reject a bad config before it reaches route().
 */
import type { RoutingConfig } from '../config/model-config.js';

/** Sums of A/B percents within this of 100 count as 100 (fractional percents add up inexactly). */
const SUM_SLACK = 1e-6;
/** An HTTP header name (RFC 9110 token) that is also a valid gRPC metadata key once lowercased. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export function routingProblems(routing: RoutingConfig, path = 'routing'): string[] {
  const problems: string[] = [];
  const version = (value: number, at: string): void => {
    if (!Number.isSafeInteger(value) || value < 0) problems.push(`${at} must be an integer >= 0, got ${value}`);
  };
  const percent = (value: number, at: string): void => {
    if (!(Number.isFinite(value) && value >= 0 && value <= 100)) problems.push(`${at} must be a number from 0 to 100, got ${value}`);
  };

  const { canary, abTest, shadow } = routing;
  if (canary !== undefined && abTest !== undefined) {
    problems.push(`${path}: set either canary or abTest, not both (a canary is a two-way split without a key)`);
  }
  if (canary !== undefined) {
    version(canary.version, `${path}.canary.version`);
    percent(canary.percent, `${path}.canary.percent`);
  }
  if (abTest !== undefined) {
    const at = `${path}.abTest`;
    if (!HEADER_NAME.test(abTest.keyHeader)) {
      problems.push(`${at}.keyHeader must be an HTTP header name such as x-user-id, got "${abTest.keyHeader}"`);
    } else if (abTest.keyHeader.toLowerCase().endsWith('-bin')) {
      problems.push(`${at}.keyHeader must not end in -bin (gRPC binary metadata cannot be a text key), got "${abTest.keyHeader}"`);
    }
    if (abTest.variants.length === 0) problems.push(`${at}.variants must list at least one variant`);
    const seen = new Set<number>();
    let sum = 0;
    abTest.variants.forEach((variant, i) => {
      version(variant.version, `${at}.variants[${i}].version`);
      percent(variant.percent, `${at}.variants[${i}].percent`);
      if (seen.has(variant.version)) problems.push(`${at}.variants[${i}].version ${variant.version} is listed twice`);
      seen.add(variant.version);
      sum += variant.percent;
    });
    if (abTest.variants.length > 0 && Number.isFinite(sum) && Math.abs(sum - 100) > SUM_SLACK) {
      problems.push(`${at}.variants percents must add up to 100, got ${sum}`);
    }
  }
  if (shadow !== undefined) {
    version(shadow.version, `${path}.shadow.version`);
    percent(shadow.percent, `${path}.shadow.percent`);
    if (!(shadow.tolerance >= 0)) problems.push(`${path}.shadow.tolerance must be a number >= 0, got ${shadow.tolerance}`);
  }
  return problems;
}
