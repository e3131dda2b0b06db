import type { FixtureCase } from './fixture-tensors.js';

/** A tf.Example as the gRPC client's proto objects take it. */
export interface Example {
  features: { feature: Record<string, { float_list?: { value: number[] }; int64_list?: { value: string[] }; bytes_list?: { value: Buffer[] } }> };
}

/** A classify/regress fixture case's tf.Examples, for a gRPC request's input.example_list. */
export function examplesOf(c: FixtureCase): Example[] {
  return (c.examples ?? []).map((e) => ({
    features: {
      feature: Object.fromEntries(
        Object.entries(e).map(([name, f]) => [
          name,
          f.float_list ? { float_list: { value: f.float_list } } : f.int64_list ? { int64_list: { value: f.int64_list.map(String) } } : { bytes_list: { value: (f.bytes_list ?? []).map((b) => Buffer.from(b, 'base64')) } },
        ]),
      ),
    },
  }));
}

/**
 * The REST examples body as text: TF Serving reads an integral JSON number as an int64 feature,
 * so float features are written with a decimal point (39.0), as a Python client's json.dumps does.
 */
export function examplesJson(signatureName: string, c: FixtureCase): string {
  const value = (v: number): string => (Number.isInteger(v) ? v.toFixed(1) : String(v));
  const examples = (c.examples ?? []).map(
    (e) => `{${Object.entries(e).map(([k, f]) => `${JSON.stringify(k)}:${(f.float_list ?? []).length === 1 ? value(f.float_list![0]!) : `[${(f.float_list ?? []).map(value).join(',')}]`}`).join(',')}}`,
  );
  return `{"signature_name":${JSON.stringify(signatureName)},"examples":[${examples.join(',')}]}`;
}

