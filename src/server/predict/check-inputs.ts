import { ServingError, invalidArgument, notFound } from '../../shared/errors.js';
import { MAX_RANK, type HostTensor } from '../core/host-tensor.js';
import { CLASSIFY_METHOD, DEFAULT_SIGNATURE, PREDICT_METHOD, REGRESS_METHOD, type SignatureDef, type SignatureMap, type UnservableSignatures } from '../core/signature.js';
import { ownEntry } from '../../shared/own-entry.js';

const list = (names: Iterable<string>): string => [...names].sort().join(', ');
/** A shape as messages write it: `[2,-1]`. */
export const shapeText = (shape: readonly number[]): string => `[${shape.map((d) => (d < 0 ? '-1' : String(d))).join(',')}]`;

/**
 * Checks request tensors against a signature before they reach TensorFlow, so that a bad request
 * gets a message naming the input rather than a graph error.
 */
export function checkInputs(signatureName: string, signature: SignatureDef, inputs: Readonly<Record<string, HostTensor>>): void {
  // Runs on every call: loops over keys, and strings only for the error.
  let matching = true;
  for (const name in signature.inputs) if (!Object.hasOwn(inputs, name)) matching = false;
  for (const name in inputs) if (!Object.hasOwn(signature.inputs, name)) matching = false;
  if (!matching) throw mismatchedInputs(signatureName, signature, inputs);
  for (const name in inputs) {
    const tensor = inputs[name]!;
    const info = signature.inputs[name]!;
    if (tensor.dtype !== info.dtype) {
      throw invalidArgument(`input "${name}" must be ${info.dtype}, but the request has ${tensor.dtype}`);
    }
    // TensorFlow cannot hold more dimensions; an input of unknown rank would pass it on.
    if (tensor.shape.length > MAX_RANK) throw invalidArgument(`input "${name}" has ${tensor.shape.length} dimensions, more than TensorFlow's ${MAX_RANK}`);
    const want = info.shape;
    if (want === undefined) continue;
    if (tensor.shape.length !== want.length) {
      throw invalidArgument(`input "${name}" must have shape ${shapeText(want)} (rank ${want.length}), but the request has ${shapeText(tensor.shape)}`);
    }
    for (let axis = 0; axis < want.length; axis++) {
      const dim = want[axis]!;
      if (dim >= 0 && tensor.shape[axis] !== dim) {
        throw invalidArgument(`input "${name}" must have shape ${shapeText(want)}, but dimension ${axis} is ${tensor.shape[axis]} in ${shapeText(tensor.shape)}`);
      }
    }
  }
}

function mismatchedInputs(signatureName: string, signature: SignatureDef, inputs: Readonly<Record<string, HostTensor>>): ServingError {
  const expected = Object.keys(signature.inputs);
  const missing = expected.filter((name) => !Object.hasOwn(inputs, name));
  const extra = Object.keys(inputs).filter((name) => !Object.hasOwn(signature.inputs, name));
  const parts = [];
  if (missing.length > 0) parts.push(`missing: ${list(missing)}`);
  if (extra.length > 0) parts.push(`not in the signature: ${list(extra)}`);
  return invalidArgument(`inputs do not match signature "${signatureName}" (expects ${list(expected)}); ${parts.join('; ')}`);
}

/** Output keys to compute: the filter (checked) or every output of the signature. */
export function selectOutputs(signatureName: string, signature: SignatureDef, filter: readonly string[]): string[] {
  if (filter.length === 0) return Object.keys(signature.outputs);
  const unknown = filter.filter((name) => !Object.hasOwn(signature.outputs, name));
  if (unknown.length > 0) {
    throw invalidArgument(
      `output_filter names ${list(unknown)}, not outputs of signature "${signatureName}" (outputs: ${list(Object.keys(signature.outputs))})`,
    );
  }
  const seen = new Set(filter);
  if (seen.size !== filter.length) throw invalidArgument('output_filter names an output more than once');
  return [...filter];
}

/** Where a version's signatures are looked up: a Servable, or warmup's view of one. */
export interface SignatureSource {
  readonly signatures: SignatureMap;
  readonly unservableSignatures?: UnservableSignatures;
}

/**
 * The named signature; UNIMPLEMENTED saying why for one the SavedModel has but that cannot be
 * served here, else NOT_FOUND listing the ones the model has.
 */
export function signatureOf(source: SignatureSource, name: string): SignatureDef {
  const signature = ownEntry(source.signatures, name);
  if (signature) return signature;
  const unservable = source.unservableSignatures === undefined ? undefined : ownEntry(source.unservableSignatures, name);
  if (unservable !== undefined) throw new ServingError('UNIMPLEMENTED', `signature "${name}" cannot be served: ${unservable}`);
  throw notFound(`signature "${name}" not found; the model has: ${Object.keys(source.signatures).sort().join(', ') || 'none'}`);
}

/**
 * With TF Serving's --enable_signature_method_name_check (off by default): Predict takes only
 * signatures with one of the three standard method names.
 */
export function checkPredictMethod(name: string, signature: SignatureDef, checkMethodNames: boolean): void {
  if (!checkMethodNames || STANDARD_METHODS.includes(signature.methodName)) return;
  throw invalidArgument(
    `signature "${name}" has method_name "${signature.methodName}"; with --enable_signature_method_name_check, Predict takes only ${STANDARD_METHODS.join(', ')} signatures`,
  );
}

const STANDARD_METHODS: readonly string[] = [PREDICT_METHOD, CLASSIFY_METHOD, REGRESS_METHOD];

/**
 * The single DT_STRING input of a classify/regress signature, which takes serialized tf.Examples.
 * Its method_name must be `method` only with `checkMethodNames` (TF Serving's
 * --enable_signature_method_name_check, off by default): tf.saved_model.save records every
 * signature as predict, so TF2 classifiers and regressors would be refused otherwise.
 */
export function exampleInputOf(name: string, signature: SignatureDef, method: string, checkMethodNames: boolean): string {
  if (checkMethodNames && signature.methodName !== method) {
    throw invalidArgument(`signature "${name}" is a ${signature.methodName} signature, not ${method} (--enable_signature_method_name_check is on)`);
  }
  const inputs = Object.entries(signature.inputs);
  const [first] = inputs;
  if (inputs.length !== 1 || !first || first[1].dtype !== 'DT_STRING') {
    const takes = inputs.map(([input, info]) => `${input} ${info.dtype}`).join(', ') || 'no inputs';
    throw invalidArgument(`signature "${name}" cannot serve ${method}: it must take exactly one DT_STRING input of serialized tf.Examples, and takes ${takes}`);
  }
  return first[0];
}

/** Serialized tf.Examples as the DT_STRING tensor a classify/regress signature takes. */
export function examplesTensor(examples: readonly Uint8Array[]): HostTensor {
  if (examples.length === 0) throw invalidArgument('the request holds no examples');
  return { dtype: 'DT_STRING', shape: [examples.length], strings: examples };
}

/** TF Serving's rules for a MultiInference request's tasks (its multi_inference.cc). */
export function checkInferenceTasks(tasks: readonly { readonly spec: { readonly name: string; readonly signatureName?: string }; readonly method: string }[]): void {
  const model = tasks[0]?.spec.name;
  if (model === undefined) throw invalidArgument('MultiInference needs at least one task');
  const signatures = new Set<string>();
  for (const task of tasks) {
    if (task.spec.name !== model) throw invalidArgument(`all tasks of a MultiInference request must name the same model; found "${model}" and "${task.spec.name}"`);
    const signatureName = task.spec.signatureName || DEFAULT_SIGNATURE;
    if (signatures.has(signatureName)) throw invalidArgument(`duplicate evaluation of signature "${signatureName}"`);
    signatures.add(signatureName);
    if (task.method !== CLASSIFY_METHOD && task.method !== REGRESS_METHOD) {
      throw new ServingError('UNIMPLEMENTED', `unsupported method_name "${task.method}" in a MultiInference task; use ${CLASSIFY_METHOD} or ${REGRESS_METHOD}`);
    }
  }
}
