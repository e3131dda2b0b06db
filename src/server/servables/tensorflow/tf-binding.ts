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

/** The file of tfjs-node's native addon, once loadTfBinding() loaded it on this thread. */
export function tfBindingAddonPath(): string | undefined {
  const require = createRequire(import.meta.url);
  return Object.keys(require.cache).find((file) => /[\\/]tfjs-node[\\/].*\.node$/.test(file));
}

let pinned = false;

/**
 * Keeps tfjs-node's addon (and the TensorFlow it links) loaded until the process exits, from any
 * thread. Otherwise the last inference thread to stop unloads it, and if no SavedModel was ever
 * loaded, exiting then crashes in an exit handler of the unloaded code (SIGSEGV, e.g. when startup
 * fails on a port in use). A second handle that is never closed is enough; opening it runs the
 * addon's initialisation once more on this thread (about 0.4 ms and 0.4 MB).
 */
export function pinTfBindingAddon(addonPath: string | undefined): void {
  if (pinned || addonPath === undefined) return;
  pinned = true;
  process.dlopen({ exports: {} }, addonPath);
}
