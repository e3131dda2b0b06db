/**
 * JSON tensors of the Open Inference Protocol (KServe's "V2" inference protocol, which Triton and
 * MLServer speak too). A tensor is `{name, shape, datatype, data}`, `data` holding the elements in
 * row-major order: a flat list, though nested lists are accepted and flattened as those servers do.
 */
import { invalidArgument } from '../../../../shared/errors.js';
import { elementCount, type DType, type HostTensor } from '../../../core/host-tensor.js';
import type { SignatureDef, TensorInfo } from '../../../core/signature.js';
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

/** An input as the request gives it: checked for form, not yet against the model. */
interface RequestInput {
  readonly name: string;
  readonly shape: number[];
  readonly datatype: string;
  readonly elements: unknown[];
  readonly base64: boolean;
}

export interface InferRequest {
  readonly id?: string;
  /** TensorFleet's request parameter `signature_name`; the protocol itself has no signatures. */
  readonly signatureName?: string;
  /** Outputs asked for by name; empty means all of the signature's. */
  readonly outputs: string[];
  readonly inputs: readonly RequestInput[];
}

/** Checks the form of a parsed inference request body. */
export function parseInferRequest(body: Record<string, unknown>): InferRequest {
  const id = body['id'];
  if (id !== undefined && typeof id !== 'string') throw invalidArgument("'id' must be a string");
  const parameters = optionalObject(body['parameters'], "'parameters'");
  const signatureName = parameters?.['signature_name'];
  if (signatureName !== undefined && typeof signatureName !== 'string') throw invalidArgument("parameter 'signature_name' must be a string");
  const inputs = body['inputs'];
  if (!Array.isArray(inputs) || inputs.length === 0) throw invalidArgument("'inputs' must be a non-empty list of tensors");
  const parsed = inputs.map((input, i) => parseInput(input, i));
  const seen = new Set<string>();
  for (const { name } of parsed) {
    if (seen.has(name)) throw invalidArgument(`input ${name} is given more than once`);
    seen.add(name);
  }
  const outputs = body['outputs'];
  if (outputs !== undefined && !Array.isArray(outputs)) throw invalidArgument("'outputs' must be a list of {\"name\": ...}");
  const outputNames = (outputs ?? []).map((output: unknown, i) => {
    const name = optionalObject(output, `outputs[${i}]`)?.['name'];
    if (typeof name !== 'string' || name === '') throw invalidArgument(`outputs[${i}] must have a 'name'`);
    return name;
  });
  return { ...(id !== undefined ? { id } : {}), ...(signatureName !== undefined ? { signatureName } : {}), outputs: outputNames, inputs: parsed };
}

function parseInput(input: unknown, index: number): RequestInput {
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
  if (!('data' in fields!)) throw invalidArgument(`input ${name} has no 'data'`);
  const contentType = optionalObject(fields['parameters'], `input ${name}: 'parameters'`)?.['content_type'];
  const base64 = contentType === 'base64';
  if (base64 && datatype !== 'BYTES') throw invalidArgument(`input ${name}: content_type base64 is for BYTES, not ${datatype}`);
  return { name, shape: shape as number[], datatype, elements: flatten(fields['data']), base64 };
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
    if (input.elements.length !== count) {
      throw invalidArgument(`input ${input.name}: shape [${input.shape.join(',')}] has ${count} elements, but 'data' has ${input.elements.length}`);
    }
    const elements = input.base64 ? input.elements.map((e) => (typeof e === 'string' ? { b64: e } : e)) : input.elements;
    tensors[input.name] = tensorFromJsonElements(elements, dtype, input.shape, input.name);
  }
  return tensors;
}

function dtypeOfDatatype(datatype: string): DType {
  return (Object.keys(DATATYPES) as DType[]).find((dtype) => DATATYPES[dtype] === datatype)!;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** One output tensor; BYTES that are not all UTF-8 go as base64 text, marked by `content_type`. */
function outputJson(name: string, tensor: HostTensor): string {
  const head = `{"name":${JSON.stringify(name)},"datatype":"${DATATYPES[tensor.dtype]}","shape":[${tensor.shape.join(',')}]`;
  if (tensor.dtype === 'DT_STRING' && !tensor.strings.every(isUtf8)) {
    const data = tensor.strings.map((s) => JSON.stringify(Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('base64')));
    return `${head},"parameters":{"content_type":"base64"},"data":[${data.join(',')}]}`;
  }
  return `${head},"data":${flatJsonList(tensor)}}`;
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The inference response body. Outputs are written in the signature's (or the request's) order. */
export function encodeInferResponse(model: string, version: number, outputs: Readonly<Record<string, HostTensor>>, id?: string): string {
  const tensors = Object.entries(outputs).map(([name, tensor]) => outputJson(name, tensor));
  const idPart = id === undefined ? '' : `"id":${JSON.stringify(id)},`;
  return `{"model_name":${JSON.stringify(model)},"model_version":"${version}",${idPart}"outputs":[${tensors.join(',')}]}`;
}

/** Model metadata: the served versions and one signature's tensors (-1 for a dimension of any size). */
export function modelMetadata(name: string, versions: readonly number[], signature: SignatureDef): unknown {
  const tensors = (infos: Readonly<Record<string, TensorInfo>>) =>
    Object.entries(infos).map(([key, info]) => ({ name: key, datatype: DATATYPES[info.dtype], shape: info.shape ?? [-1] }));
  return { name, versions: versions.map(String), platform: 'tensorflow_savedmodel', inputs: tensors(signature.inputs), outputs: tensors(signature.outputs) };
}
