/**
 * Reads a SavedModel's tag sets and signatures from saved_model.pb without loading TensorFlow.
 * Our meta_graph.proto declares no graph_def, so decoding skips the graph's bytes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DTYPES, type DType } from '../../core/host-tensor.js';
import type { SignatureDef, SignatureMap, TensorInfo } from '../../core/signature.js';
import { ServingError } from '../../../shared/errors.js';
import { protoType } from './proto-root.js';

export const SERVE_TAG = 'serve';

/** A TensorInfo as stored (decoded with enum names and int64 as strings). */
export interface StoredTensorInfo {
  name?: string;
  coo_sparse?: { values_tensor_name?: string; indices_tensor_name?: string; dense_shape_tensor_name?: string } | null;
  dtype?: string | number;
  tensor_shape?: { dim?: Array<{ size?: string | number; name?: string }>; unknown_rank?: boolean } | null;
}

/** A SignatureDef as stored; what TF Serving returns in GetModelMetadata. */
export interface StoredSignatureDef {
  inputs?: Record<string, StoredTensorInfo>;
  outputs?: Record<string, StoredTensorInfo>;
  method_name?: string;
  defaults?: Record<string, unknown>;
}

export interface SavedModelSignatures {
  /** Tag set of every meta graph in the file, in file order. */
  readonly tags: string[][];
  /** Servable signatures of the meta graph whose tag set is exactly `tags` (default ["serve"]). */
  readonly signatures: SignatureMap;
  /** The same meta graph's signatures exactly as stored (including ones we cannot serve). */
  readonly storedSignatures: Readonly<Record<string, StoredSignatureDef>>;
  /** Signatures left out of `signatures`, with why (unsupported dtype, sparse input, ...). */
  readonly skipped: ReadonlyArray<{ readonly name: string; readonly reason: string }>;
}

const INIT_OP_SIGNATURE = '__saved_model_init_op';

/** Parses `<savedModelDir>/saved_model.pb`. */
export async function readSignatures(
  savedModelDir: string,
  tags: readonly string[] = [SERVE_TAG],
): Promise<SavedModelSignatures> {
  const file = join(savedModelDir, 'saved_model.pb');
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new ServingError('FAILED_PRECONDITION', `cannot read SavedModel file ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseSavedModel(bytes, file, tags);
}

/** Parses saved_model.pb bytes; `file` only names the source in errors. */
export function parseSavedModel(bytes: Uint8Array, file: string, tags: readonly string[] = [SERVE_TAG]): SavedModelSignatures {
  let model: { meta_graphs?: Array<{ meta_info_def?: { tags?: string[] } | null; signature_def?: Record<string, StoredSignatureDef> }> };
  try {
    const type = protoType('tensorflow.SavedModel');
    model = type.toObject(type.decode(bytes), { longs: String, enums: String, defaults: true, oneofs: true });
  } catch (error) {
    throw new ServingError('FAILED_PRECONDITION', `${file} is not a valid SavedModel protobuf: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const metaGraphs = model.meta_graphs ?? [];
  const allTags = metaGraphs.map((graph) => [...(graph.meta_info_def?.tags ?? [])]);
  const wanted = new Set(tags);
  const index = allTags.findIndex((set) => set.length === wanted.size && set.every((tag) => wanted.has(tag)));
  if (index < 0) {
    const found = allTags.map((set) => `{${set.join(',')}}`).join(', ') || 'none';
    throw new ServingError(
      'FAILED_PRECONDITION',
      `${file} has no meta graph tagged {${[...wanted].join(',')}} (tag sets found: ${found})`,
    );
  }
  const storedSignatures = metaGraphs[index]?.signature_def ?? {};
  const signatures: Record<string, SignatureDef> = {};
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const [name, stored] of Object.entries(storedSignatures)) {
    // TF1 exports record their init op as a signature; it is no model function (TF Serving hides it too).
    if (name === INIT_OP_SIGNATURE) continue;
    try {
      signatures[name] = {
        methodName: stored.method_name ?? '',
        inputs: tensorInfos(stored.inputs ?? {}, 'input'),
        outputs: tensorInfos(stored.outputs ?? {}, 'output'),
      };
    } catch (error) {
      skipped.push({ name, reason: (error as Error).message });
    }
  }
  return { tags: allTags, signatures, storedSignatures, skipped };
}

function tensorInfos(infos: Record<string, StoredTensorInfo>, kind: string): Record<string, TensorInfo> {
  const out: Record<string, TensorInfo> = {};
  for (const [alias, info] of Object.entries(infos)) {
    if (info.name === undefined || info.name === '') throw new Error(`${kind} ${alias} is not a dense tensor`);
    const dtype = typeof info.dtype === 'number' ? `enum value ${info.dtype}` : (info.dtype ?? 'DT_INVALID');
    if (!(dtype in DTYPES)) throw new Error(`${kind} ${alias} has unsupported dtype ${dtype}`);
    const shape = info.tensor_shape;
    out[alias] = {
      name: info.name,
      dtype: dtype as DType,
      shape: shape === null || shape === undefined || shape.unknown_rank === true ? undefined : (shape.dim ?? []).map((d) => Number(d.size ?? 0)),
    };
  }
  return out;
}

/** tensorflow.TensorInfo in the loaded-proto object shape. */
export interface TensorInfoMessage {
  name: string;
  dtype: DType;
  tensor_shape: { dim: Array<{ size: number }> } | { unknown_rank: true };
}

/** tensorflow.serving.SignatureDefMap in the loaded-proto object shape. */
export interface SignatureDefMapMessage {
  signature_def: Record<
    string,
    { method_name: string; inputs: Record<string, TensorInfoMessage>; outputs: Record<string, TensorInfoMessage> }
  >;
}

/**
 * The GetModelMetadata "signature_def" payload built from a SignatureMap (unknown dimensions as
 * -1, unknown rank as unknown_rank). Prefer storedSignatures when you have them: that is what
 * TF Serving returns, including signatures we cannot serve.
 */
export function signatureDefMapOf(signatures: SignatureMap): SignatureDefMapMessage {
  const message: SignatureDefMapMessage = { signature_def: {} };
  for (const [name, def] of Object.entries(signatures)) {
    message.signature_def[name] = {
      method_name: def.methodName,
      inputs: tensorInfoMessages(def.inputs),
      outputs: tensorInfoMessages(def.outputs),
    };
  }
  return message;
}

function tensorInfoMessages(infos: Readonly<Record<string, TensorInfo>>): Record<string, TensorInfoMessage> {
  const out: Record<string, TensorInfoMessage> = {};
  for (const [alias, info] of Object.entries(infos)) {
    out[alias] = {
      name: info.name,
      dtype: info.dtype,
      tensor_shape: info.shape === undefined ? { unknown_rank: true } : { dim: info.shape.map((size) => ({ size })) },
    };
  }
  return out;
}

/** The stored signatures as a SignatureDefMap message, ready for packAny. */
export function storedSignatureDefMap(stored: Readonly<Record<string, StoredSignatureDef>>): {
  signature_def: Readonly<Record<string, StoredSignatureDef>>;
} {
  return { signature_def: stored };
}
