import { ServingError } from '../../shared/errors.js';
import { copyBytes, type HostTensor } from '../core/host-tensor.js';
import type { SignatureDef } from '../core/signature.js';
import { shapeText } from './check-inputs.js';

/**
 * What Classify and Regress read from a signature's outputs, checked as TF Serving's
 * classifier.cc and regressor.cc check them: a signature that declares none of the outputs is
 * refused before it runs (FAILED_PRECONDITION), and outputs of the wrong dtype or shape are
 * refused after (INVALID_ARGUMENT) rather than read as something they are not.
 */

export interface Classification {
  readonly classes: readonly { readonly label: string; readonly score: number }[];
}

const CLASSES = 'classes';
const SCORES = 'scores';
const REGRESS_OUTPUTS = 'outputs';

/** The outputs a Classify call fetches: `classes`, `scores` or both. */
export function classifyFetches(signatureName: string, signature: SignatureDef): string[] {
  const fetches = [CLASSES, SCORES].filter((key) => key in signature.outputs);
  if (fetches.length === 0) {
    throw new ServingError(
      'FAILED_PRECONDITION',
      `signature "${signatureName}" cannot serve classify: it must have a "classes" or "scores" output, and has ${outputList(signature)}`,
    );
  }
  return fetches;
}

/** The output a Regress call fetches: `outputs`. */
export function regressFetches(signatureName: string, signature: SignatureDef): string[] {
  if (!(REGRESS_OUTPUTS in signature.outputs)) {
    throw new ServingError('FAILED_PRECONDITION', `signature "${signatureName}" cannot serve regress: it must have an "outputs" output, and has ${outputList(signature)}`);
  }
  return [REGRESS_OUTPUTS];
}

function outputList(signature: SignatureDef): string {
  const keys = Object.keys(signature.outputs);
  return keys.length === 0 ? 'no outputs' : keys.map((k) => `"${k}"`).join(', ');
}

/** One list of (label, score) per example from `classes` [N, C] DT_STRING and/or `scores` [N, C] DT_FLOAT. */
export function classificationsOf(signatureName: string, outputs: Readonly<Record<string, HostTensor>>, examples: number): Classification[] {
  const classes = outputs[CLASSES];
  const scores = outputs[SCORES];
  if (classes !== undefined) checkClassifyOutput(signatureName, CLASSES, classes, 'DT_STRING', examples);
  if (scores !== undefined) checkClassifyOutput(signatureName, SCORES, scores, 'DT_FLOAT', examples);
  if (classes !== undefined && scores !== undefined && classes.shape[1] !== scores.shape[1]) {
    throw invalid(signatureName, `"classes" and "scores" must have as many classes per example; they have ${classes.shape[1]} and ${scores.shape[1]}`);
  }
  const labels = classes?.dtype === 'DT_STRING' ? classes.strings : undefined;
  const values = scores !== undefined ? floatsOf(scores) : undefined;
  const perExample = (classes ?? scores)?.shape[1] ?? 0;
  const results: Classification[] = [];
  for (let i = 0; i < examples; i++) {
    const row = [];
    for (let j = 0; j < perExample; j++) {
      const index = i * perExample + j;
      const label = labels?.[index];
      row.push({ label: label !== undefined ? decoder.decode(label) : '', score: values?.[index] ?? 0 });
    }
    results.push({ classes: row });
  }
  return results;
}

function checkClassifyOutput(signatureName: string, key: string, tensor: HostTensor, dtype: 'DT_STRING' | 'DT_FLOAT', examples: number): void {
  if (tensor.dtype !== dtype) throw invalid(signatureName, `"${key}" must be ${dtype}, and is ${tensor.dtype}`);
  if (tensor.shape.length !== 2) throw invalid(signatureName, `"${key}" must have shape [batch, classes], and has ${shapeText(tensor.shape)}`);
  if (tensor.shape[0] !== examples) throw invalid(signatureName, `"${key}" returned ${rowsText(tensor.shape[0])} for ${examples} examples`);
}

/** One value per example from `outputs` [N] or [N, 1] DT_FLOAT. */
export function regressionValuesOf(signatureName: string, outputs: Readonly<Record<string, HostTensor>>, examples: number): number[] {
  const values = outputs[REGRESS_OUTPUTS];
  if (values === undefined) throw invalid(signatureName, 'it returned no "outputs"');
  const { shape } = values;
  if (!(shape.length === 1 || (shape.length === 2 && shape[1] === 1))) {
    throw invalid(signatureName, `"outputs" must have shape [batch] or [batch, 1], and has ${shapeText(values.shape)}`);
  }
  if (shape[0] !== examples) throw invalid(signatureName, `"outputs" returned ${rowsText(shape[0])} for ${examples} examples`);
  if (values.dtype !== 'DT_FLOAT') throw invalid(signatureName, `"outputs" must be DT_FLOAT, and is ${values.dtype}`);
  return Array.from(floatsOf(values));
}

function invalid(signatureName: string, problem: string): ServingError {
  return new ServingError('INVALID_ARGUMENT', `signature "${signatureName}": ${problem}`);
}

/** A DT_FLOAT tensor's values, aligned for a Float32Array view. */
function floatsOf(tensor: HostTensor): Float32Array {
  if (tensor.dtype !== 'DT_FLOAT') throw new Error(`floatsOf(${tensor.dtype})`);
  const bytes = tensor.bytes.byteOffset % 4 === 0 ? tensor.bytes : copyBytes(tensor.bytes);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

function rowsText(rows: number | undefined): string {
  return rows === 1 ? '1 row' : `${rows} rows`;
}
