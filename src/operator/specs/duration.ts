import { invalidArgument } from '../../shared/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const UNIT_US: Record<string, number> = { us: 1, ms: 1000, s: 1_000_000 };

/** Sum of `<number><unit>` terms; NaN-free or a clear INVALID_ARGUMENT naming the accepted form. */
function parseDuration(text: string, units: Record<string, number>, example: string): number {
  const re = /(\d+(?:\.\d+)?)(us|ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (units[m[2] ?? ''] ?? Number.NaN);
    end = re.lastIndex;
  }
  if (text.length === 0 || end !== text.length || !Number.isFinite(total)) {
    throw invalidArgument(`"${text}" is not a duration such as ${example}`);
  }
  return total;
}

/** Go-style duration (`30s`, `1m30s`, `500ms`) in milliseconds. */
export function parseDurationMs(text: string): number {
  return parseDuration(text, UNIT_MS, '30s or 1m30s');
}

/**
 * A short duration in us, ms or s (`500us`, `2ms`, `1.5ms`) in whole microseconds, rounded to
 * the nearest: TF Serving's batch_timeout_micros is an integer.
 */
export function parseDurationMicros(text: string): number {
  return Math.round(parseDuration(text, UNIT_US, '500us or 2ms'));
}
