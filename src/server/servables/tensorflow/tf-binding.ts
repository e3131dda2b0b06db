import { createRequire } from 'node:module';

/**
 * The parts of tfjs-node's native binding we use. We call the binding directly rather than
 * tfjs's tensor API: it lets us feed and read every TensorFlow dtype bit for bit (tfjs tensors
 * know only float32/int32/bool/string) and skip tfjs's per-call bookkeeping.
 */
export interface TensorMetadata {
  readonly id: number;
  readonly shape: number[];
  readonly dtype: number;
}

export interface OpAttr {
  readonly name: string;
  readonly type: number;
  readonly value: number | boolean | string | number[];
}

export interface TfBinding {
  createTensor(shape: readonly number[], dtype: number, data: Float32Array | Int32Array | Uint8Array | Uint8Array[]): number;
  deleteTensor(id: number): void;
  tensorDataSync(id: number): Float32Array | Int32Array | Uint8Array | BigInt64Array | Uint8Array[];
  executeOp(opName: string, attrs: OpAttr[], inputIds: number[], numOutputs: number): TensorMetadata[];
  loadSavedModel(exportDir: string, tags: string): number;
  deleteSavedModel(id: number): void;
  runSavedModel(id: number, inputIds: number[], inputNames: string, outputNames: string): TensorMetadata[];
  getNumOfTensors(): number;
  readonly TF_ATTR_TYPE: number;
  readonly TF_ATTR_BOOL: number;
  readonly TF_Version: string;
}

interface TfjsNodeModule {
  backend(): { binding: TfBinding };
  setBackend(name: string): Promise<boolean>;
}

/** Loads native TensorFlow (once per thread) and returns its binding. */
export function loadTfBinding(): TfBinding {
  const require = createRequire(import.meta.url);
  const tf = require('@tensorflow/tfjs-node') as TfjsNodeModule;
  return tf.backend().binding;
}
