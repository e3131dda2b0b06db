import { invalidArgument } from '../../shared/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style duration (`30s`, `1m30s`, `500ms`) in milliseconds. */
export function parseDurationMs(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let end = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? Number.NaN);
    end = re.lastIndex;
  }
  if (text.length === 0 || end !== text.length || !Number.isFinite(total)) {
    throw invalidArgument(`"${text}" is not a duration such as 30s or 1m30s`);
  }
  return total;
}
