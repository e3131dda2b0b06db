import { DTYPES, copyBytes, elementCount, type DType, type HostTensor } from '../../core/host-tensor.js';
import type { TensorMetadata, TfBinding } from './tf-binding.js';

/**
 * Moves tensors between HostTensor and TensorFlow through the binding. The binding can create
 * and read only FLOAT, INT32, INT64, BOOL, UINT8 (create) and STRING directly; every other dtype
 * crosses as raw bytes and is reinterpreted inside TensorFlow with `Bitcast`, so values stay exact.
 */
const TF = Object.fromEntries(Object.entries(DTYPES).map(([name, info]) => [name, info.enum])) as Record<DType, number>;

export function dtypeName(tfEnum: number): DType {
  for (const [name, value] of Object.entries(TF)) if (value === tfEnum) return name as DType;
  throw new Error(`TensorFlow returned dtype ${tfEnum}, which TensorFleet does not support`);
}

/** A typed view of `bytes`, copying only when the offset is not aligned for the element type. */
function alignedView<T>(bytes: Uint8Array, width: number, make: (buffer: ArrayBufferLike, offset: number, length: number) => T): T {
  const source = bytes.byteOffset % width === 0 ? bytes : copyBytes(bytes);
  return make(source.buffer, source.byteOffset, source.byteLength / width);
}

export class TensorBridge {
  constructor(private readonly binding: TfBinding) {}

  /** Creates a TensorFlow tensor; the caller deletes the returned id. */
  create(tensor: HostTensor): number {
    const { binding } = this;
    const shape = [...tensor.shape];
    if (tensor.dtype === 'DT_STRING') return binding.createTensor(shape, TF.DT_STRING, [...tensor.strings]);
    const bytes = tensor.bytes;
    switch (tensor.dtype) {
      case 'DT_FLOAT':
        return binding.createTensor(shape, TF.DT_FLOAT, alignedView(bytes, 4, (b, o, n) => new Float32Array(b, o, n)));
      case 'DT_INT32':
        return binding.createTensor(shape, TF.DT_INT32, alignedView(bytes, 4, (b, o, n) => new Int32Array(b, o, n)));
      case 'DT_INT64':
        // The binding takes int64 as pairs of int32 words: the same little-endian bytes.
        return binding.createTensor(shape, TF.DT_INT64, alignedView(bytes, 4, (b, o, n) => new Int32Array(b, o, n)));
      case 'DT_BOOL':
        return binding.createTensor(shape, TF.DT_BOOL, bytes);
      case 'DT_UINT8':
        return binding.createTensor(shape, TF.DT_UINT8, bytes);
      default:
        return this.createByBitcast(tensor.dtype, shape, bytes);
    }
  }

  private createByBitcast(dtype: DType, shape: number[], bytes: Uint8Array): number {
    const width = DTYPES[dtype].width;
    // Bitcast from uint8 to a wider type consumes a trailing dimension of `width` bytes.
    const rawShape = width === 1 ? shape : [...shape, width];
    const raw = this.binding.createTensor(rawShape, TF.DT_UINT8, bytes);
    try {
      return this.bitcast(raw, TF.DT_UINT8, TF[dtype]);
    } finally {
      this.binding.deleteTensor(raw);
    }
  }

  private bitcast(id: number, from: number, to: number): number {
    return this.runOp('Bitcast', [id], [
      { name: 'T', value: from },
      { name: 'type', value: to },
    ]);
  }

  private cast(id: number, from: number, to: number): number {
    return this.runOp('Cast', [id], [
      { name: 'SrcT', value: from },
      { name: 'DstT', value: to },
      { name: 'Truncate', value: false },
    ]);
  }

  private runOp(op: string, inputs: number[], typeAttrs: { name: string; value: number | boolean }[]): number {
    const attrs = typeAttrs.map(({ name, value }) =>
      typeof value === 'boolean'
        ? { name, type: this.binding.TF_ATTR_BOOL, value }
        : { name, type: this.binding.TF_ATTR_TYPE, value },
    );
    const [out] = this.binding.executeOp(op, attrs, inputs, 1);
    if (!out) throw new Error(`${op} returned no tensor`);
    return out.id;
  }

  /** Reads a TensorFlow tensor (and deletes it). */
  read(meta: TensorMetadata): HostTensor {
    try {
      return this.readKeep(meta);
    } finally {
      this.binding.deleteTensor(meta.id);
    }
  }

  private readKeep(meta: TensorMetadata): HostTensor {
    const dtype = dtypeName(meta.dtype);
    const shape = meta.shape.map(Number);
    if (dtype === 'DT_STRING') {
      return { dtype, shape, strings: this.binding.tensorDataSync(meta.id) as Uint8Array[] };
    }
    const width = DTYPES[dtype].width;
    switch (dtype) {
      case 'DT_FLOAT':
      case 'DT_INT32':
      case 'DT_INT64':
      case 'DT_BOOL': {
        const data = this.binding.tensorDataSync(meta.id) as Float32Array | Int32Array | BigInt64Array | Uint8Array;
        return { dtype, shape, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
      }
      default:
        return { dtype, shape, bytes: this.readRawBytes(meta.id, dtype, width, elementCount(shape)) };
    }
  }

  /** Raw bytes of a dtype the binding cannot read: reinterpret as one it can. */
  private readRawBytes(id: number, dtype: DType, width: number, count: number): Uint8Array {
    const temps: number[] = [];
    try {
      if (width === 8 || width === 4) {
        const as = width === 8 ? TF.DT_INT64 : TF.DT_INT32;
        const cast = this.bitcast(id, TF[dtype], as);
        temps.push(cast);
        const data = this.binding.tensorDataSync(cast) as BigInt64Array | Int32Array;
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      }
      // 1- and 2-byte types: view as uint8 bytes, widen each byte to int32 (readable), narrow back.
      let bytesId = id;
      if (dtype !== 'DT_UINT8') {
        bytesId = this.bitcast(id, TF[dtype], TF.DT_UINT8);
        temps.push(bytesId);
      }
      const widened = this.cast(bytesId, TF.DT_UINT8, TF.DT_INT32);
      temps.push(widened);
      const words = this.binding.tensorDataSync(widened) as Int32Array;
      const out = new Uint8Array(count * width);
      for (let i = 0; i < out.length; i++) out[i] = words[i] ?? 0;
      return out;
    } finally {
      for (const temp of temps) this.binding.deleteTensor(temp);
    }
  }
}
