/**
 * JSON tensors of the Open Inference Protocol (KServe's "V2" inference protocol, which Triton and
 * MLServer speak too). A tensor is `{name, shape, datatype, data}`, `data` holding the elements in
 * row-major order: a flat list, though nested lists are accepted and flattened as those servers do.
 *
 * Also Triton's binary tensor data extension, which its Python and C++ HTTP clients use by default:
 * a tensor with the parameter `binary_data_size` has its elements after the JSON (the HTTP header
 * `Inference-Header-Content-Length` says where the JSON ends), little-endian and row-major, BOOL as
 * one byte, BYTES as a 4-byte little-endian length before each element.
 */
import { invalidArgument } from '../../../../shared/errors.js';
import { DTYPES, copyBytes, elementCount, type DType, type HostTensor } from '../../../core/host-tensor.js';
import { DEFAULT_SIGNATURE, type SignatureDef, type TensorInfo } from '../../../core/signature.js';
import { flatJsonList, tensorFromJsonElements } from './json-tensor.js';
import type { TensorLimits } from './tensor-proto.js';

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
interface RequestInput {
  readonly name: string;
  readonly shape: number[];
  readonly datatype: string;
  /** JSON elements, when the input is not binary. */
  readonly elements: unknown[];
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
  const base64 = parameters?.['content_type'] === 'base64';
  if (base64 && datatype !== 'BYTES') throw invalidArgument(`input ${name}: content_type base64 is for BYTES, not ${datatype}`);
  return { name, shape: shape as number[], datatype, elements: flatten(fields['data']), base64 };
}

/** Hands out the binary data of the inputs that have some, in order, and checks none is left over. */
function binarySource(binary: Uint8Array | readonly Uint8Array[]): { take(size: number, name: string): Uint8Array; checkAllTaken(): void } {
  const parts = Array.isArray(binary) ? (binary as readonly Uint8Array[]) : undefined;
  const whole = parts === undefined ? (binary as Uint8Array) : undefined;
  const total = whole?.length ?? parts!.reduce((n, p) => n + p.length, 0);
  let offset = 0;
  let part = 0;
  return {
    take(size, name) {
      if (offset + size > total) throw invalidArgument(`input ${name}: binary_data_size ${size} goes past the ${total} bytes of binary data after the JSON`);
      const bytes = whole !== undefined ? whole.subarray(offset, offset + size) : parts![part++];
      if (bytes === undefined || bytes.length !== size) throw invalidArgument(`input ${name}: its raw contents are not ${size} bytes`);
      offset += size;
      return bytes;
    },
    checkAllTaken() {
      if (offset !== total) throw invalidArgument(`the body has ${total} bytes of binary data after the JSON, but the inputs' binary_data_size add up to ${offset}`);
    },
  };
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
    const info = signatureInputs[input.name];
    // An input the signature lacks is left to the shared check, which names every mismatch.
    const dtype = info?.dtype ?? dtypeOfDatatype(input.datatype);
    if (info !== undefined && input.datatype !== DATATYPES[info.dtype]) {
      throw invalidArgument(`input ${input.name} must be ${DATATYPES[info.dtype]}, but the request has ${input.datatype}`);
    }
    const count = elementCount(input.shape);
    if (count > limits.maxElements) throw invalidArgument(`input ${input.name} has more than ${limits.maxElements} elements (the limit)`);
    if (input.binary !== undefined) {
      tensors[input.name] = binaryTensor(input.name, dtype, input.shape, count, input.binary);
      continue;
    }
    if (input.elements.length !== count) {
      throw invalidArgument(`input ${input.name}: shape [${input.shape.join(',')}] has ${count} elements, but the request gives ${input.elements.length}`);
    }
    const elements = input.base64 ? input.elements.map((e) => (typeof e === 'string' ? { b64: e } : e)) : input.elements;
    tensors[input.name] = tensorFromJsonElements(elements, dtype, input.shape, input.name);
  }
  return tensors;
}

function binaryTensor(name: string, dtype: DType, shape: number[], count: number, bytes: Uint8Array): HostTensor {
  if (dtype === 'DT_STRING') return { dtype, shape, strings: lengthPrefixedElements(name, count, bytes) };
  const want = count * DTYPES[dtype].width;
  if (bytes.length !== want) throw invalidArgument(`input ${name}: shape [${shape.join(',')}] of ${DATATYPES[dtype]} takes ${want} bytes, but binary_data_size is ${bytes.length}`);
  if (dtype === 'DT_BOOL' && bytes.some((b) => b > 1)) throw invalidArgument(`input ${name}: BOOL elements must be bytes 0 or 1`);
  return { dtype, shape, bytes };
}

/** BYTES elements of the binary extension: each a 4-byte little-endian length, then the bytes. */
function lengthPrefixedElements(name: string, count: number, bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw invalidArgument(`input ${name}: binary BYTES data ends inside an element's 4-byte length`);
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > bytes.length) throw invalidArgument(`input ${name}: a binary BYTES element of ${length} bytes goes past the input's data`);
    elements.push(copyBytes(bytes.subarray(at, at + length)));
    at += length;
  }
  if (elements.length !== count) throw invalidArgument(`input ${name}: shape has ${count} elements, but the binary data holds ${elements.length}`);
  return elements;
}

function dtypeOfDatatype(datatype: string): DType {
  return (Object.keys(DATATYPES) as DType[]).find((dtype) => DATATYPES[dtype] === datatype)!;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** One output tensor as JSON; BYTES that are not all UTF-8 go as base64 text, marked by `content_type`. */
function outputJson(name: string, tensor: HostTensor): string {
  const head = outputHead(name, tensor);
  if (tensor.dtype === 'DT_STRING' && !tensor.strings.every(isUtf8)) {
    const data = tensor.strings.map((s) => JSON.stringify(Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('base64')));
    return `${head},"parameters":{"content_type":"base64"},"data":[${data.join(',')}]}`;
  }
  return `${head},"data":${flatJsonList(tensor)}}`;
}

function outputHead(name: string, tensor: HostTensor): string {
  return `{"name":${JSON.stringify(name)},"datatype":"${DATATYPES[tensor.dtype]}","shape":[${tensor.shape.join(',')}]`;
}

/** An output's elements as the binary extension (and gRPC's raw_output_contents) writes them. */
export function binaryOf(tensor: HostTensor): Buffer {
  if (tensor.dtype !== 'DT_STRING') return Buffer.from(tensor.bytes.buffer, tensor.bytes.byteOffset, tensor.bytes.byteLength);
  const out = Buffer.allocUnsafe(tensor.strings.reduce((n, s) => n + 4 + s.length, 0));
  let at = 0;
  for (const s of tensor.strings) {
    out.writeUInt32LE(s.length, at);
    out.set(s, at + 4);
    at += 4 + s.length;
  }
  return out;
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

/** The inference response. Outputs are written in the signature's (or the request's) order. */
export function encodeInferResponse(
  model: string,
  version: number,
  outputs: Readonly<Record<string, HostTensor>>,
  request: { readonly id?: string; readonly binaryOutputs?: ReadonlySet<string> | 'all' } = {},
): InferResponse {
  const binary: Buffer[] = [];
  const tensors = Object.entries(outputs).map(([name, tensor]) => {
    if (request.binaryOutputs !== 'all' && request.binaryOutputs?.has(name) !== true) return outputJson(name, tensor);
    const bytes = binaryOf(tensor);
    binary.push(bytes);
    return `${outputHead(name, tensor)},"parameters":{"binary_data_size":${bytes.length}}}`;
  });
  const idPart = request.id === undefined ? '' : `"id":${JSON.stringify(request.id)},`;
  return { json: `{"model_name":${JSON.stringify(model)},"model_version":"${version}",${idPart}"outputs":[${tensors.join(',')}]}`, binary };
}

/** Model metadata: the served versions and one signature's tensors (-1 for a dimension of any size). */
export function modelMetadata(name: string, versions: readonly number[], signature: SignatureDef): unknown {
  const tensors = (infos: Readonly<Record<string, TensorInfo>>) =>
    Object.entries(infos).map(([key, info]) => ({ name: key, datatype: DATATYPES[info.dtype], shape: info.shape ?? [-1] }));
  return { name, versions: versions.map(String), platform: 'tensorflow_savedmodel', inputs: tensors(signature.inputs), outputs: tensors(signature.outputs) };
}
