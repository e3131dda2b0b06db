import { invalidArgument } from '../../shared/errors.js';
import type { HostTensor } from '../core/host-tensor.js';
import type { SignatureDef } from '../core/signature.js';

const list = (names: Iterable<string>): string => [...names].sort().join(', ');

/**
 * Checks request tensors against a signature before they reach TensorFlow, so that a bad request
 * gets a message naming the input rather than a graph error.
 */
export function checkInputs(signatureName: string, signature: SignatureDef, inputs: Readonly<Record<string, HostTensor>>): void {
  const expected = Object.keys(signature.inputs);
  const given = Object.keys(inputs);
  const missing = expected.filter((name) => !(name in inputs));
  const extra = given.filter((name) => !(name in signature.inputs));
  if (missing.length > 0 || extra.length > 0) {
    const parts = [];
    if (missing.length > 0) parts.push(`missing: ${list(missing)}`);
    if (extra.length > 0) parts.push(`not in the signature: ${list(extra)}`);
    throw invalidArgument(
      `inputs do not match signature "${signatureName}" (expects ${list(expected)}); ${parts.join('; ')}`,
    );
  }
  for (const [name, tensor] of Object.entries(inputs)) {
    const info = signature.inputs[name]!;
    if (tensor.dtype !== info.dtype) {
      throw invalidArgument(`input "${name}" must be ${info.dtype}, but the request has ${tensor.dtype}`);
    }
    if (info.shape === undefined) continue;
    const shapeText = `[${tensor.shape.join(',')}]`;
    const wantText = `[${info.shape.map((d) => (d < 0 ? '-1' : String(d))).join(',')}]`;
    if (tensor.shape.length !== info.shape.length) {
      throw invalidArgument(`input "${name}" must have shape ${wantText} (rank ${info.shape.length}), but the request has ${shapeText}`);
    }
    info.shape.forEach((dim, axis) => {
      if (dim >= 0 && tensor.shape[axis] !== dim) {
        throw invalidArgument(`input "${name}" must have shape ${wantText}, but dimension ${axis} is ${tensor.shape[axis]} in ${shapeText}`);
      }
    });
  }
}

/** Output keys to compute: the filter (checked) or every output of the signature. */
export function selectOutputs(signatureName: string, signature: SignatureDef, filter: readonly string[]): string[] {
  if (filter.length === 0) return Object.keys(signature.outputs);
  const unknown = filter.filter((name) => !(name in signature.outputs));
  if (unknown.length > 0) {
    throw invalidArgument(
      `output_filter names ${list(unknown)}, not outputs of signature "${signatureName}" (outputs: ${list(Object.keys(signature.outputs))})`,
    );
  }
  const seen = new Set(filter);
  if (seen.size !== filter.length) throw invalidArgument('output_filter names an output more than once');
  return [...filter];
}
