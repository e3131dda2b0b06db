/**
 * Whether the live object already holds everything we would apply. The apiserver adds defaults
 * and other managers' fields, so "contains" rather than "equals"; resource quantities compare by
 * value because the apiserver canonicalises them ("1000m" comes back as "1").
 */
const SUFFIX: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

export function quantityValue(q: string | number): number | undefined {
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$/.exec(q);
  if (!m) return undefined;
  const suffix = m[2] ?? '';
  if (/^[eE]/.test(suffix)) return Number(`${m[1]}${suffix}`);
  const factor = SUFFIX[suffix];
  return factor === undefined ? undefined : Number(m[1]) * factor;
}

function scalarEqual(desired: unknown, actual: unknown): boolean {
  if (desired === actual) return true;
  if ((typeof desired === 'string' || typeof desired === 'number') && (typeof actual === 'string' || typeof actual === 'number')) {
    const a = quantityValue(desired);
    const b = quantityValue(actual);
    return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-12;
  }
  if (desired instanceof Date || actual instanceof Date) return String(new Date(desired as string)) === String(new Date(actual as string));
  return false;
}

export function contains(actual: unknown, desired: unknown): boolean {
  if (desired === undefined) return true;
  if (Array.isArray(desired)) {
    // The apiserver drops empty lists (omitempty).
    if (desired.length === 0 && actual === undefined) return true;
    return Array.isArray(actual) && actual.length === desired.length && desired.every((d, i) => contains(actual[i], d));
  }
  if (desired !== null && typeof desired === 'object' && !(desired instanceof Date)) {
    if (actual === null || typeof actual !== 'object') return false;
    const a = actual as Record<string, unknown>;
    return Object.entries(desired as Record<string, unknown>).every(([k, v]) => contains(a[k], v));
  }
  return scalarEqual(desired, actual);
}

/** The first path where `actual` does not contain `desired` (for logs explaining a write). */
export function firstDifference(actual: unknown, desired: unknown, path = ''): string | undefined {
  if (contains(actual, desired)) return undefined;
  if (desired !== null && typeof desired === 'object' && !(desired instanceof Date) && actual !== null && typeof actual === 'object') {
    if (Array.isArray(desired) && (!Array.isArray(actual) || actual.length !== desired.length)) return `${path} (length)`;
    for (const [k, v] of Object.entries(desired as Record<string, unknown>)) {
      const found = firstDifference((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
      if (found) return found;
    }
  }
  return `${path}: want ${JSON.stringify(desired)}, have ${JSON.stringify(actual)}`;
}

/** Whether `object` has a value at `path` (a field we may have set earlier and must drop). */
export function hasPath(object: unknown, path: readonly string[]): boolean {
  let node: unknown = object;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return false;
    node = (node as Record<string, unknown>)[key];
  }
  return node !== undefined;
}
