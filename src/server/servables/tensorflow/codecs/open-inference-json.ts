/**
 * JSON tensors of the Open Inference Protocol (KServe's "V2" inference protocol, which Triton and
 * MLServer speak too). A tensor is `{name, shape, datatype, data}`, `data` holding the elements in
 * row-major order: a flat list, though nested lists are accepted and flattened as those servers do.
 *
 * Also Triton's binary tensor data extension, which its Python and C++ HTTP clients use by default:
 * a tensor with the parameter `binary_data_size` has its elements after the JSON (the HTTP header
 * `Inference-Header-Content-Length` says where the JSON ends), laid out as open-inference-binary.ts
 * reads and writes them.
 */
import { invalidArgument } from '../../../../shared/errors.js';
import { elementCount, type DType, type HostTensor } from '../../../core/host-tensor.js';
import { DEFAULT_SIGNATURE, type SignatureDef, type TensorInfo } from '../../../core/signature.js';
import { JsonBytes } from './json-bytes.js';
import { tensorFromJsonElements, writeFlatJsonList } from './json-tensor.js';
import { binaryOf, binarySource, binaryTensor } from './open-inference-binary.js';
import type { TensorLimits } from './tensor-proto.js';
import { ownEntry } from '../../../../shared/own-entry.js';

/** The protocol's datatype names for TensorFlow's dtypes (BF16 is Triton's extension). */
const DATATYPES: Readonly<Record<DType, string>> = {
  DT_BOOL: 'BOOL',
  DT_UINT8: 'UINT8',
  DT_UINT16: 'UINT16',
  DT_UINT32: 'UINT32',
  DT_UINT64: 'UINT64',
  DT_INT8: 'INT8',
  DT_INT16: 'INT16',
  DT_INT32: 'INT32',
  DT_INT64: 'INT64',
  DT_HALF: 'FP16',
  DT_BFLOAT16: 'BF16',
  DT_FLOAT: 'FP32',
  DT_DOUBLE: 'FP64',
  DT_STRING: 'BYTES',
};
const KNOWN_DATATYPES = new Set(Object.values(DATATYPES));

export function datatypeOf(dtype: DType): string {
  return DATATYPES[dtype];
}

/** serving_default, or a model's only signature (keys of its signatures): the protocol has no way to name one. */
export function defaultSignature(signatures: Readonly<Record<string, unknown>>): string {
  const names = Object.keys(signatures);
  return names.length === 1 && !(DEFAULT_SIGNATURE in signatures) ? names[0]! : DEFAULT_SIGNATURE;
}

/** An input as the request gives it: checked for form, not yet against the model. */
export interface RequestInput {
  readonly name: string;
  readonly shape: number[];
  readonly datatype: string;
  /** JSON elements, when the input is not binary (a typed array when read by dense-infer-body.ts). */
  readonly elements: ArrayLike<unknown>;
  readonly base64: boolean;
  /** The input's bytes after the JSON (binary extension). */
  readonly binary?: Uint8Array;
}

export interface InferRequest {
  readonly id?: string;
  /** TensorFleet's request parameter `signature_name`; the protocol itself has no signatures. */
  readonly signatureName?: string;
  /** Outputs asked for by name; empty means all of the signature's. */
  readonly outputs: string[];
  readonly inputs: readonly RequestInput[];
  /** Outputs to write as binary data: those asked so, or all with `binary_data_output`. */
  readonly binaryOutputs: ReadonlySet<string> | 'all';
}

/**
 * Checks the form of a parsed inference request body. `binary` is what followed the JSON (binary
 * extension), handed to the inputs with `binary_data_size` in their order; or, from gRPC, one
 * entry per such input. Their tensors are views into it: copied, or moved with a buffer that
 * holds only this request (message-buffers.ts), on the way to the inference thread.
 */
export function parseInferRequest(body: Record<string, unknown>, binary: Uint8Array | readonly Uint8Array[] = new Uint8Array(0)): InferRequest {
  const id = body['id'];
  if (id !== undefined && typeof id !== 'string') throw invalidArgument("'id' must be a string");
  const parameters = optionalObject(body['parameters'], "'parameters'");
  const signatureName = parameters?.['signature_name'];
  if (signatureName !== undefined && typeof signatureName !== 'string') throw invalidArgument("parameter 'signature_name' must be a string");
  const inputs = body['inputs'];
  if (!Array.isArray(inputs) || inputs.length === 0) throw invalidArgument("'inputs' must be a non-empty list of tensors");
  const source = binarySource(binary);
  const parsed = inputs.map((input, i) => parseInput(input, i, (size, name) => source.take(size, name)));
  source.checkAllTaken();
  const seen = new Set<string>();
  for (const { name } of parsed) {
    if (seen.has(name)) throw invalidArgument(`input ${name} is given more than once`);
    seen.add(name);
  }
  const outputs = body['outputs'];
  if (outputs !== undefined && !Array.isArray(outputs)) throw invalidArgument("'outputs' must be a list of {\"name\": ...}");
  const binaryOutputs = new Set<string>();
  const outputNames = (outputs ?? []).map((output: unknown, i) => {
    const fields = optionalObject(output, `outputs[${i}]`);
    const name = fields?.['name'];
    if (typeof name !== 'string' || name === '') throw invalidArgument(`outputs[${i}] must have a 'name'`);
    const asked = optionalObject(fields!['parameters'], `output ${name}: 'parameters'`)?.['binary_data'];
    if (asked === true || (asked === undefined && parameters?.['binary_data_output'] === true)) binaryOutputs.add(name);
    return name;
  });
  return {
    ...(id !== undefined ? { id } : {}),
    ...(signatureName !== undefined ? { signatureName } : {}),
    outputs: outputNames,
    inputs: parsed,
    binaryOutputs: parameters?.['binary_data_output'] === true && outputNames.length === 0 ? 'all' : binaryOutputs,
  };
}

function parseInput(input: unknown, index: number, take: (size: number, name: string) => Uint8Array): RequestInput {
  const fields = optionalObject(input, `inputs[${index}]`);
  const name = fields?.['name'];
  if (typeof name !== 'string' || name === '') throw invalidArgument(`inputs[${index}] must have a 'name'`);
  const shape = fields!['shape'];
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw invalidArgument(`input ${name}: 'shape' must be a list of non-negative integers`);
  }
  const datatype = fields!['datatype'];
  if (typeof datatype !== 'string' || !KNOWN_DATATYPES.has(datatype)) {
    throw invalidArgument(`input ${name}: 'datatype' must be one of ${[...KNOWN_DATATYPES].join(', ')}`);
  }
  const parameters = optionalObject(fields!['parameters'], `input ${name}: 'parameters'`);
  const binarySize = parameters?.['binary_data_size'];
  if (binarySize !== undefined) {
    if (typeof binarySize !== 'number' || !Number.isSafeInteger(binarySize) || binarySize < 0) {
      throw invalidArgument(`input ${name}: binary_data_size must be a non-negative integer`);
    }
    return { name, shape: shape as number[], datatype, elements: [], base64: false, binary: take(binarySize, name) };
  }
  if (!('data' in fields!)) throw invalidArgument(`input ${name} has no 'data' (nor binary_data_size)`);
  const data = fields['data'];
  // Counted as one element, an object got "the request gives 1" where the shape wanted more.
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) throw invalidArgument(`input ${name}: 'data' must be a list of the tensor's elements, not an object`);
  const base64 = parameters?.['content_type'] === 'base64';
  if (base64 && datatype !== 'BYTES') throw invalidArgument(`input ${name}: content_type base64 is for BYTES, not ${datatype}`);
  return { name, shape: shape as number[], datatype, elements: flatten(data), base64 };
}

function optionalObject(value: unknown, what: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidArgument(`${what} must be an object`);
  return value as Record<string, unknown>;
}

/** Elements of `data` in row-major order, however deeply nested (without recursion). */
function flatten(data: unknown): unknown[] {
  if (!Array.isArray(data)) return [data];
  const out: unknown[] = [];
  const stack: { list: unknown[]; next: number }[] = [{ list: data, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.list.length) {
      stack.pop();
      continue;
    }
    const item = top.list[top.next++];
    if (Array.isArray(item)) stack.push({ list: item, next: 0 });
    else out.push(item);
  }
  return out;
}

/** Decodes the request's inputs against the signature that will run them. */
export function decodeInferInputs(request: InferRequest, signatureInputs: Readonly<Record<string, TensorInfo>>, limits: TensorLimits): Record<string, HostTensor> {
  const tensors: Record<string, HostTensor> = {};
  for (const input of request.inputs) {
    const info = ownEntry(signatureInputs, input.name);
    // An input the signature lacks is left to the shared check, which names every mismatch.
    const dtype = info?.dtype ?? dtypeOfDatatype(input.datatype);
    if (info !== undefined && input.datatype !== DATATYPES[info.dtype]) {
      throw invalidArgument(`input ${input.name} must be ${DATATYPES[info.dtype]}, but the request has ${input.datatype}`);
    }
    const count = elementCount(input.shape);
    if (count > limits.maxElements) throw invalidArgument(`input ${input.name} has more than ${limits.maxElements} elements (the limit)`);
    if (input.binary !== undefined) {
      tensors[input.name] = binaryTensor(input.name, dtype, input.shape, count, input.binary, DATATYPES[dtype]);
      continue;
    }
    if (input.elements.length !== count) {
      throw invalidArgument(`input ${input.name}: shape [${input.shape.join(',')}] has ${count} elements, but the request gives ${input.elements.length}`);
    }
    const elements = input.base64 ? Array.from(input.elements, (e) => (typeof e === 'string' ? { b64: e } : e)) : input.elements;
    tensors[input.name] = tensorFromJsonElements(elements, dtype, input.shape, input.name);
  }
  return tensors;
}

export function dtypeOfDatatype(datatype: string): DType {
  return (Object.keys(DATATYPES) as DType[]).find((dtype) => DATATYPES[dtype] === datatype)!;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** One output tensor as JSON; BYTES that are not all UTF-8 go as base64 text, marked by `content_type`. */
function writeOutputJson(out: JsonBytes, name: string, tensor: HostTensor): void {
  const head = outputHead(name, tensor);
  if (tensor.dtype === 'DT_STRING' && !tensor.strings.every(isUtf8)) {
    const data = tensor.strings.map((s) => JSON.stringify(Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('base64')));
    out.text(`${head},"parameters":{"content_type":"base64"},"data":[${data.join(',')}]}`);
    return;
  }
  out.text(`${head},"data":`);
  writeFlatJsonList(out, tensor);
  out.ascii('}');
}

function outputHead(name: string, tensor: HostTensor): string {
  return `{"name":${JSON.stringify(name)},"datatype":"${DATATYPES[tensor.dtype]}","shape":[${tensor.shape.join(',')}]`;
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export interface InferResponse {
  readonly json: string;
  /** The binary outputs' bytes, to follow the JSON in the body; empty when none is binary. */
  readonly binary: readonly Buffer[];
}

/** The inference response, its JSON as text (encodeInferResponseBytes decoded). */
export function encodeInferResponse(
  model: string,
  version: number,
  outputs: Readonly<Record<string, HostTensor>>,
  request: { readonly id?: string; readonly binaryOutputs?: ReadonlySet<string> | 'all' } = {},
): InferResponse {
  const { json, binary } = encodeInferResponseBytes(model, version, outputs, request);
  return { json: utf8.decode(json), binary };
}

/** The inference response, its JSON as UTF-8. Outputs are written in the signature's (or the request's) order. */
export function encodeInferResponseBytes(
  model: string,
  version: number,
  outputs: Readonly<Record<string, HostTensor>>,
  request: { readonly id?: string; readonly binaryOutputs?: ReadonlySet<string> | 'all' } = {},
): { readonly json: Uint8Array<ArrayBuffer>; readonly binary: readonly Buffer[] } {
  const binary: Buffer[] = [];
  let elements = 0;
  for (const tensor of Object.values(outputs)) elements += elementCount(tensor.shape);
  const out = new JsonBytes(256 + 10 * elements);
  out.text(`{"model_name":${JSON.stringify(model)},"model_version":"${version}",${request.id === undefined ? '' : `"id":${JSON.stringify(request.id)},`}"outputs":[`);
  Object.entries(outputs).forEach(([name, tensor], i) => {
    if (i > 0) out.ascii(',');
    if (request.binaryOutputs !== 'all' && request.binaryOutputs?.has(name) !== true) {
      writeOutputJson(out, name, tensor);
      return;
    }
    const bytes = binaryOf(tensor);
    binary.push(bytes);
    out.text(`${outputHead(name, tensor)},"parameters":{"binary_data_size":${bytes.length}}}`);
  });
  out.ascii(']}');
  return { json: out.bytes(), binary };
}

/** Model metadata: the served versions and one signature's tensors (-1 for a dimension of any size). */
export function modelMetadata(name: string, versions: readonly number[], signature: SignatureDef): unknown {
  const tensors = (infos: Readonly<Record<string, TensorInfo>>) =>
    Object.entries(infos).map(([key, info]) => ({ name: key, datatype: DATATYPES[info.dtype], shape: info.shape ?? [-1] }));
  return { name, versions: versions.map(String), platform: 'tensorflow_savedmodel', inputs: tensors(signature.inputs), outputs: tensors(signature.outputs) };
}
