/**
 * tf.Example for Classify/Regress: TF Serving's REST JSON form -> Input message objects, and
 * Input message objects (from JSON or gRPC) -> serialized tf.Example bytes, the DT_STRING input
 * of classify/regress signatures.
 *
 * JSON feature rules follow TF Serving: a feature is a value or a flat list of values; strings
 * and {"b64": ...} make a bytes_list, numbers written with a fraction or exponent make a
 * float_list, integer literals and booleans make an int64_list; kinds cannot be mixed.
 */
import { invalidArgument } from '../../../../shared/errors.js';
import { protoType } from '../proto-root.js';
import { JsonDouble, parseJson } from './exact-json.js';

export interface FeatureObject {
  bytes_list?: { value?: Uint8Array[] } | null;
  float_list?: { value?: number[] } | null;
  int64_list?: { value?: Array<string | number | bigint> } | null;
}

export interface ExampleObject {
  features?: { feature?: Record<string, FeatureObject> } | null;
}

/** tensorflow.serving.Input in the loaded-proto object shape. */
export interface InputObject {
  example_list?: { examples?: ExampleObject[] } | null;
  example_list_with_context?: { examples?: ExampleObject[]; context?: ExampleObject | null } | null;
}

const utf8 = new TextEncoder();
const FLOAT_MAX = 3.4028234663852886e38;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Parses a classify/regress REST body: `{"signature_name"?, "context"?, "examples": [...]}`.
 * Number literals keep their written form (1.0 is a float feature, 1 an int64 one).
 */
export function parseClassifyRegressJson(text: string): { signatureName: string | undefined; input: InputObject } {
  const body = parseJson(text, { markDoubles: true });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidArgument('JSON request body must be an object');
  const record = body as Record<string, unknown>;
  const signatureName = record['signature_name'];
  if (signatureName !== undefined && typeof signatureName !== 'string') throw invalidArgument("'signature_name' must be a string");
  const list = record['examples'];
  if (list === undefined) throw invalidArgument("request is missing 'examples'");
  if (!Array.isArray(list)) throw invalidArgument("'examples' must be a list");
  if (list.length === 0) throw invalidArgument("'examples' is an empty list");
  const examples = list.map((value, i) => exampleFromJson(value, `examples[${i}]`));
  const input: InputObject =
    'context' in record
      ? { example_list_with_context: { examples, context: exampleFromJson(record['context'], 'context') } }
      : { example_list: { examples } };
  return { signatureName, input };
}

/** One JSON example object (parsed with markDoubles) as an Example message object. */
export function exampleFromJson(value: unknown, where: string): ExampleObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof JsonDouble) {
    throw invalidArgument(`${where} must be a JSON object of features`);
  }
  const feature: Record<string, FeatureObject> = {};
  for (const [name, content] of Object.entries(value as Record<string, unknown>)) {
    feature[name] = featureFromJson(Array.isArray(content) ? content : [content], `${where}.${name}`);
  }
  return { features: { feature } };
}

type Kind = 'bytes' | 'float' | 'int64';

function featureFromJson(values: unknown[], where: string): FeatureObject {
  let kind: Kind | undefined;
  const bytes: Uint8Array[] = [];
  const floats: number[] = [];
  const ints: string[] = [];
  const use = (k: Kind): void => {
    if (kind !== undefined && kind !== k) throw invalidArgument(`feature ${where} mixes ${kind} and ${k} values`);
    kind = k;
  };
  for (const v of values) {
    if (typeof v === 'string') {
      use('bytes');
      bytes.push(utf8.encode(v));
    } else if (typeof v === 'boolean') {
      use('int64');
      ints.push(v ? '1' : '0');
    } else if (v instanceof JsonDouble || (typeof v === 'number' && !Number.isFinite(v))) {
      const x = v instanceof JsonDouble ? v.value : v;
      use('float');
      if (Number.isFinite(x) && Math.abs(x) > FLOAT_MAX) throw invalidArgument(`feature ${where} value ${x} does not fit a float`);
      floats.push(x);
    } else if (typeof v === 'number' || typeof v === 'bigint') {
      use('int64');
      const b = BigInt(v);
      if (b < INT64_MIN || b > INT64_MAX) throw invalidArgument(`feature ${where} value ${b} does not fit an int64`);
      ints.push(b.toString());
    } else if (isB64(v)) {
      use('bytes');
      bytes.push(new Uint8Array(Buffer.from(v.b64, 'base64')));
    } else {
      throw invalidArgument(`feature ${where} has a value of unexpected JSON type (${v === null ? 'null' : Array.isArray(v) ? 'nested list' : 'object'})`);
    }
  }
  if (kind === 'bytes') return { bytes_list: { value: bytes } };
  if (kind === 'float') return { float_list: { value: floats } };
  if (kind === 'int64') return { int64_list: { value: ints } };
  return {};
}

function isB64(v: unknown): v is { b64: string } {
  return (
    typeof v === 'object' && v !== null && Object.keys(v).length === 1 && typeof (v as Record<string, unknown>)['b64'] === 'string'
  );
}

/** Serializes an Example message object. */
export function encodeExample(example: ExampleObject): Uint8Array {
  const type = protoType('tensorflow.Example');
  return type.encode(type.fromObject(withStringInt64(example))).finish();
}

/** protobufjs' fromObject does not take bigint for int64 fields: hand it decimal strings. */
function withStringInt64(example: ExampleObject): ExampleObject {
  const feature = example.features?.feature;
  if (feature === undefined) return example;
  const out: Record<string, FeatureObject> = {};
  for (const [name, f] of Object.entries(feature)) {
    const values = f.int64_list?.value;
    out[name] = values?.some((v) => typeof v === 'bigint') === true ? { int64_list: { value: values.map((v) => v.toString()) } } : f;
  }
  return { features: { feature: out } };
}

/**
 * The serialized examples of an Input, one per example. With a context, each result is the
 * context's bytes followed by the example's: protobuf merges concatenated messages, so the
 * example's features are added to (and override) the context's, as TF Serving does it.
 */
export function serializeInputExamples(input: InputObject): Uint8Array[] {
  if (input.example_list_with_context) {
    const { examples = [], context } = input.example_list_with_context;
    if (examples.length === 0) throw invalidArgument('Input has an empty example list');
    const prefix = context ? encodeExample(context) : new Uint8Array(0);
    return examples.map((example) => {
      const body = encodeExample(example);
      const bytes = new Uint8Array(prefix.length + body.length);
      bytes.set(prefix, 0);
      bytes.set(body, prefix.length);
      return bytes;
    });
  }
  const examples = input.example_list?.examples ?? [];
  if (examples.length === 0) throw invalidArgument('Input has no examples');
  return examples.map(encodeExample);
}

/** The serialized examples of a Classify/Regress request's `input`, which must be present. */
export function examplesOfInput(input: InputObject | null | undefined): Uint8Array[] {
  if (!input) throw invalidArgument('input is required (example_list or example_list_with_context)');
  return serializeInputExamples(input);
}
