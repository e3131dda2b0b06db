/**
 * Decoding a numeric HostTensor's raw little-endian bytes into numbers, for comparisons.
 * 64-bit integers decode to BigInt so that values beyond 2^53 stay exact.
 */
import { DTYPES, elementCount, type NumericHostTensor } from '../core/host-tensor.js';

export type DecodedNumbers =
  | { readonly kind: 'float'; readonly values: Float64Array }
  | { readonly kind: 'bigint'; readonly values: BigInt64Array | BigUint64Array };

/** Decodes every element; throws a plain Error when the byte length does not match the shape. */
export function decodeNumbers(tensor: NumericHostTensor): DecodedNumbers {
  const count = elementCount(tensor.shape);
  const width = DTYPES[tensor.dtype].width;
  const bytes = tensor.bytes;
  if (bytes.length !== count * width) {
    throw new Error(
      `has ${bytes.length} bytes, ${count * width} expected for ${tensor.dtype} [${tensor.shape.join(',')}]`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (tensor.dtype === 'DT_INT64' || tensor.dtype === 'DT_UINT64') {
    const signed = tensor.dtype === 'DT_INT64';
    const values = signed ? new BigInt64Array(count) : new BigUint64Array(count);
    for (let i = 0; i < count; i++) {
      values[i] = signed ? view.getBigInt64(i * 8, true) : view.getBigUint64(i * 8, true);
    }
    return { kind: 'bigint', values };
  }
  const values = new Float64Array(count);
  const read = reader(tensor.dtype, view);
  for (let i = 0; i < count; i++) values[i] = read(i);
  return { kind: 'float', values };
}

function reader(dtype: Exclude<NumericHostTensor['dtype'], 'DT_INT64' | 'DT_UINT64'>, view: DataView): (i: number) => number {
  switch (dtype) {
    case 'DT_FLOAT':
      return (i) => view.getFloat32(i * 4, true);
    case 'DT_DOUBLE':
      return (i) => view.getFloat64(i * 8, true);
    case 'DT_INT32':
      return (i) => view.getInt32(i * 4, true);
    case 'DT_UINT32':
      return (i) => view.getUint32(i * 4, true);
    case 'DT_INT16':
      return (i) => view.getInt16(i * 2, true);
    case 'DT_UINT16':
      return (i) => view.getUint16(i * 2, true);
    case 'DT_INT8':
      return (i) => view.getInt8(i);
    case 'DT_UINT8':
      return (i) => view.getUint8(i);
    case 'DT_BOOL':
      return (i) => (view.getUint8(i) !== 0 ? 1 : 0);
    case 'DT_HALF':
      return (i) => halfToNumber(view.getUint16(i * 2, true));
    case 'DT_BFLOAT16':
      return (i) => bfloat16ToNumber(view.getUint16(i * 2, true));
  }
}

/** IEEE 754 binary16 bits to a number (subnormals, infinities and NaN included). */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const scratch = new DataView(new ArrayBuffer(4));

/** bfloat16 bits (the top half of a float32) to a number. */
export function bfloat16ToNumber(bits: number): number {
  scratch.setUint32(0, (bits & 0xffff) << 16);
  return scratch.getFloat32(0);
}
