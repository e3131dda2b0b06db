import { describe, expect, it } from 'vitest';
import { DTYPES, type DType, type HostTensor } from '../../../../../src/server/core/host-tensor.js';
import { primeTensorflow } from '../../../../../src/server/servables/tensorflow/prime-tensorflow.js';
import { TensorBridge } from '../../../../../src/server/servables/tensorflow/tensor-bridge.js';
import type { OpAttr, TensorMetadata, TfBinding } from '../../../../../src/server/servables/tensorflow/tf-binding.js';

/** Enough of the binding for the bridge: tensors are shapes and dtypes; ops record their attribute names. */
class RecordingBinding {
  readonly attrNames = new Set<string>();
  readonly live = new Map<number, { shape: number[]; dtype: number }>();
  private next = 1;
  readonly TF_ATTR_TYPE = 1;
  readonly TF_ATTR_BOOL = 2;

  createTensor(shape: readonly number[], dtype: number): number {
    this.live.set(this.next, { shape: [...shape], dtype });
    return this.next++;
  }
  deleteTensor(id: number): void {
    if (!this.live.delete(id)) throw new Error(`tensor ${id} deleted twice or never made`);
  }
  executeOp(_op: string, attrs: OpAttr[], inputIds: number[]): TensorMetadata[] {
    for (const a of attrs) this.attrNames.add(a.name);
    const input = this.live.get(inputIds[0]!)!;
    const dtype = Number(attrs.find((a) => a.name === 'type' || a.name === 'DstT')?.value ?? input.dtype);
    const id = this.createTensor(input.shape, dtype);
    return [{ id, shape: input.shape, dtype }];
  }
  tensorDataSync(id: number): Int32Array | BigInt64Array | Float32Array | Uint8Array | Uint8Array[] {
    const t = this.live.get(id)!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.dtype === DTYPES.DT_STRING.enum) return [new Uint8Array(1)];
    return t.dtype === DTYPES.DT_INT64.enum ? new BigInt64Array(n) : new Int32Array(n);
  }
}

const asBinding = (b: RecordingBinding): TfBinding => b as unknown as TfBinding;
const oneOf = (dtype: DType): HostTensor =>
  dtype === 'DT_STRING' ? { dtype, shape: [2], strings: [new Uint8Array(1), new Uint8Array(2)] } : { dtype, shape: [2, 3], bytes: new Uint8Array(6 * DTYPES[dtype].width) };

describe('primeTensorflow', () => {
  it('runs every op attribute name the bridge ever uses, and leaves no tensor behind', () => {
    const primed = new RecordingBinding();
    primeTensorflow(asBinding(primed));
    expect(primed.live.size).toBe(0);

    // Whatever shapes and dtypes later calls bring, the bridge needs no name priming has not added.
    const serving = new RecordingBinding();
    const bridge = new TensorBridge(asBinding(serving));
    for (const dtype of Object.keys(DTYPES) as DType[]) {
      const id = bridge.create(oneOf(dtype));
      bridge.read({ id, shape: [2, 3], dtype: DTYPES[dtype].enum });
    }
    expect(serving.attrNames.size).toBeGreaterThan(0);
    expect([...serving.attrNames].filter((name) => !primed.attrNames.has(name))).toEqual([]);
  });
});
