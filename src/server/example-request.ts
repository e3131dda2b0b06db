import type { SignatureDef } from './core/signature.js';

/**
 * A curl command that predicts with zeros, for the startup banner: the quickest proof that a
 * model answers. Only for signatures whose inputs are all numeric with known inner dimensions.
 */
export function exampleRequest(restPort: number, model: string, signatureName: string, signature: SignatureDef): string | undefined {
  const inputs = Object.entries(signature.inputs);
  const numeric = ['DT_FLOAT', 'DT_DOUBLE', 'DT_INT32', 'DT_INT64', 'DT_HALF'];
  if (inputs.length === 0 || inputs.some(([, info]) => !numeric.includes(info.dtype) || info.shape === undefined)) return undefined;
  const instance = (shape: readonly number[]): unknown => {
    if (shape.length === 0) return 0;
    const [dim, ...rest] = shape;
    if (dim === undefined || dim < 0 || dim > 32) return undefined;
    const items = Array.from({ length: dim }, () => instance(rest));
    return items.includes(undefined) ? undefined : items;
  };
  const columns: Record<string, unknown> = {};
  for (const [name, info] of inputs) {
    const shape = info.shape!;
    const value = shape[0] === -1 ? instance(shape.slice(1)) : instance(shape);
    if (value === undefined) return undefined;
    columns[name] = shape[0] === -1 ? [value] : value;
  }
  const body: Record<string, unknown> = { inputs: inputs.length === 1 ? Object.values(columns)[0] : columns };
  if (signatureName !== 'serving_default') body.signature_name = signatureName;
  return `curl -s -X POST http://localhost:${restPort}/v1/models/${model}:predict -d '${JSON.stringify(body)}'`;
}
