/**
 * The one in-memory tensor form shared by the codecs (TensorProto, JSON) and the TensorFlow
 * servable. Numeric data is kept as raw little-endian bytes so it can move between threads
 * without copies and reach TensorFlow bit for bit (int64 and double stay exact).
 */
export const DTYPES = {
  DT_FLOAT: { enum: 1, width: 4 },
  DT_DOUBLE: { enum: 2, width: 8 },
  DT_INT32: { enum: 3, width: 4 },
  DT_UINT8: { enum: 4, width: 1 },
  DT_INT16: { enum: 5, width: 2 },
  DT_INT8: { enum: 6, width: 1 },
  DT_STRING: { enum: 7, width: 0 },
  DT_INT64: { enum: 9, width: 8 },
  DT_BOOL: { enum: 10, width: 1 },
  DT_BFLOAT16: { enum: 14, width: 2 },
  DT_UINT16: { enum: 17, width: 2 },
  DT_HALF: { enum: 19, width: 2 },
  DT_UINT32: { enum: 22, width: 4 },
  DT_UINT64: { enum: 23, width: 8 },
} as const;

export type DType = keyof typeof DTYPES;

export interface NumericHostTensor {
  readonly dtype: Exclude<DType, 'DT_STRING'>;
  /** Dimensions; [] for a scalar. */
  readonly shape: readonly number[];
  /** elementCount(shape) * width bytes, little-endian. BOOL is one byte (0 or 1) per element. */
  readonly bytes: Uint8Array;
}

export interface StringHostTensor {
  readonly dtype: 'DT_STRING';
  readonly shape: readonly number[];
  /** One byte string per element (TensorFlow strings are bytes, not text). */
  readonly strings: readonly Uint8Array[];
}

export type HostTensor = NumericHostTensor | StringHostTensor;

/** Inclusive value ranges of the integer dtypes that travel as JS numbers. */
export const INTEGER_RANGES: Partial<Record<DType, readonly [number, number]>> = {
  DT_INT32: [-2147483648, 2147483647],
  DT_INT16: [-32768, 32767],
  DT_INT8: [-128, 127],
  DT_UINT8: [0, 255],
  DT_UINT16: [0, 65535],
  DT_UINT32: [0, 4294967295],
};

/**
 * A copy of `bytes` in a buffer of its own. Not `bytes.slice()`: tensors decoded from gRPC are
 * Node Buffers, whose `slice` returns a view of the same memory.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** TensorFlow's most dimensions for a tensor (TensorShape::MaxDimensions). */
export const MAX_RANK = 254;

export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

export function dtypeFromEnum(value: number): DType | undefined {
  for (const [name, info] of Object.entries(DTYPES)) if (info.enum === value) return name as DType;
  return undefined;
}
