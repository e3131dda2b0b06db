/**
 * Fixture tensors as TF Serving REST JSON text (row `instances` and columnar `inputs`), and REST
 * outputs back in the fixture form. Built as text so int64 values beyond 2^53 stay exact.
 */
import type { DType } from '../../../src/server/core/host-tensor.js';
import { datatypeOf } from '../../../src/server/servables/tensorflow/codecs/open-inference-json.js';
import type { FixtureTensor, FixtureValue } from './fixture-tensors.js';

function literal(dtype: string, value: FixtureValue): string {
  switch (dtype) {
    case 'DT_STRING': return JSON.stringify({ b64: String(value) });
    case 'DT_INT64':
    case 'DT_UINT64': return String(value);
    case 'DT_BOOL': return value ? 'true' : 'false';
    default: return JSON.stringify(Number(value));
  }
}

/** Nested-array JSON of the elements [offset, offset + product(shape)). */
function nested(tensor: FixtureTensor, shape: readonly number[], offset: number): string {
  if (shape.length === 0) return literal(tensor.dtype, tensor.values[offset]!);
  const [size, ...rest] = shape as [number, ...number[]];
  const stride = rest.reduce((a, b) => a * b, 1);
  return `[${Array.from({ length: size }, (_, i) => nested(tensor, rest, offset + i * stride)).join(',')}]`;
}

export function columnarBody(inputs: Record<string, FixtureTensor>, signatureName?: string): string {
  const sig = signatureName ? `"signature_name":${JSON.stringify(signatureName)},` : '';
  const names = Object.keys(inputs);
  const value = (t: FixtureTensor): string => nested(t, t.shape, 0);
  if (names.length === 1) return `{${sig}"inputs":${value(inputs[names[0]!]!)}}`;
  return `{${sig}"inputs":{${names.map((n) => `${JSON.stringify(n)}:${value(inputs[n]!)}`).join(',')}}}`;
}

/** Row form; every input needs the same batch dimension. */
export function rowBody(inputs: Record<string, FixtureTensor>, signatureName?: string): string {
  const sig = signatureName ? `"signature_name":${JSON.stringify(signatureName)},` : '';
  const names = Object.keys(inputs);
  const batch = inputs[names[0]!]!.shape[0]!;
  const rows = Array.from({ length: batch }, (_, row) => {
    const cell = (t: FixtureTensor): string => {
      const rest = t.shape.slice(1);
      return nested(t, rest, row * rest.reduce((a, b) => a * b, 1));
    };
    if (names.length === 1) return cell(inputs[names[0]!]!);
    return `{${names.map((n) => `${JSON.stringify(n)}:${cell(inputs[n]!)}`).join(',')}}`;
  });
  return `{${sig}"instances":[${rows.join(',')}]}`;
}

/** JSON.parse that keeps integers of 16+ digits as strings (exact int64). */
export function parseExactJson(text: string): unknown {
  return JSON.parse(text.replace(/([[,:]\s*)(-?\d{16,})(?=\s*[\]},])/g, '$1"$2"'));
}

function flatten(value: unknown, out: unknown[]): unknown[] {
  if (Array.isArray(value)) for (const v of value) flatten(v, out);
  else out.push(value);
  return out;
}

const decoder = new TextDecoder();

/** A REST output value (nested arrays) as fixture values of `dtype` (shape is not checked here). */
export function restValues(dtype: string, value: unknown): FixtureValue[] {
  return flatten(value, []).map((v): FixtureValue => {
    if (dtype === 'DT_STRING') {
      // TF Serving writes strings as text, or {"b64": ...} for outputs named *_bytes; compare as base64.
      if (v && typeof v === 'object' && 'b64' in v) return String((v as { b64: string }).b64);
      return Buffer.from(String(v), 'utf8').toString('base64');
    }
    if (dtype === 'DT_INT64' || dtype === 'DT_UINT64') return String(v);
    return v as FixtureValue;
  });
}

/** What a REST text output should look like for expected bytes (invalid UTF-8 becomes U+FFFD). */
export function expectedRestString(base64: string): string {
  return Buffer.from(decoder.decode(Buffer.from(base64, 'base64')), 'utf8').toString('base64');
}

/** The Open Inference Protocol's JSON infer body (BYTES as base64), naming the signature. */
export function inferJsonBody(inputs: Record<string, FixtureTensor>, signature: string): string {
  const tensor = ([name, t]: [string, FixtureTensor]): string => {
    const datatype = datatypeOf(t.dtype as DType);
    const data = t.values.map((v) => (t.dtype === 'DT_STRING' ? JSON.stringify(v) : t.dtype === 'DT_BOOL' ? String(Boolean(v)) : String(v)));
    const base64 = t.dtype === 'DT_STRING' ? ',"parameters":{"content_type":"base64"}' : '';
    return `{"name":${JSON.stringify(name)},"datatype":"${datatype}","shape":[${t.shape.join(',')}]${base64},"data":[${data.join(',')}]}`;
  };
  return `{"parameters":{"signature_name":${JSON.stringify(signature)}},"inputs":[${Object.entries(inputs).map(tensor).join(',')}]}`;
}
