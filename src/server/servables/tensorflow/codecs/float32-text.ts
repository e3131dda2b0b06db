/**
 * A float32 as TF Serving writes it in JSON: 6 significant digits when they read back as the same
 * float32, else 9 (always enough), trailing zeros dropped; JavaScript's number text otherwise.
 *
 * `toPrecision`, then parsing its text and printing the number, cost ~0.45 µs per value: 70 ms for
 * a 150k-element output. Most outputs lie in [1e-4, 1e6), where the digits come from one exact
 * scaling and a rounding, with no text round trips (float32Decimal; json-bytes.ts writes them).
 * Values within the scaling's error of a rounding tie, of a power of ten, or outside that range
 * take the reference path.
 */

// 10^0 .. 10^22: every one is a double exactly.
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** The scaled value is at most 10^9 and off by at most 10^9 * 2^-53 (~1.1e-7): nearer a tie than this is a tie. */
const TIE_MARGIN = 1e-6;

/** The reference: what TF Serving's rule gives, through JavaScript's own conversions. */
export function float32TextReference(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(value)) return String(value);
  const short = Number(value.toPrecision(6));
  return String(Math.fround(short) === value ? short : Number(value.toPrecision(9)));
}

/**
 * The decimal TF Serving's rule writes for `value`, as |value| ≈ scaled * 10^-decimals (scaled has
 * 6 or 9 digits, decimals ≥ 0); undefined where the reference must decide (see above).
 */
export function float32Decimal(value: number): { scaled: number; decimals: number } | undefined {
  const magnitude = Math.abs(value);
  if (!(magnitude >= 1e-4 && magnitude < 1e6) || Number.isInteger(value)) return undefined;
  const exponent = Math.floor(Math.log10(magnitude));
  const six = digits(magnitude, 6, exponent);
  if (six === undefined) return undefined;
  const shortest = six.scaled / POWERS_OF_TEN[six.decimals]!;
  if (Math.fround(value < 0 ? -shortest : shortest) === value) return six;
  return digits(magnitude, 9, exponent);
}

/**
 * `magnitude` rounded to `precision` significant digits, as an integer and its count of decimals
 * (what toPrecision writes); undefined near a tie or when `exponent` was off by one.
 */
function digits(magnitude: number, precision: number, exponent: number): { scaled: number; decimals: number } | undefined {
  const decimals = precision - 1 - exponent;
  // One multiplication by an exact power of ten: the product is exactly rounded.
  const product = magnitude * POWERS_OF_TEN[decimals]!;
  const floor = Math.floor(product);
  const fraction = product - floor;
  if (Math.abs(fraction - 0.5) < TIE_MARGIN) return undefined;
  const scaled = fraction > 0.5 ? floor + 1 : floor;
  if (scaled < POWERS_OF_TEN[precision - 1]! || scaled >= POWERS_OF_TEN[precision]!) return undefined;
  return { scaled, decimals };
}
