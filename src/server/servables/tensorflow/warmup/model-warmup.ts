import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ServingError, invalidArgument, toServingError } from '../../../../shared/errors.js';
import type { HostTensor } from '../../../core/host-tensor.js';
import { CLASSIFY_METHOD, DEFAULT_SIGNATURE, REGRESS_METHOD } from '../../../core/signature.js';
import {
  checkInferenceTasks,
  checkInputs,
  checkPredictMethod,
  exampleInputOf,
  examplesTensor,
  selectOutputs,
  signatureOf,
  type SignatureSource,
} from '../../../predict/check-inputs.js';
import { classifyFetches, regressFetches } from '../../../predict/example-outputs.js';
import { WireError } from '../codecs/predict-request-wire.js';
import { decodeTensorProtoMap, type TensorLimits } from '../codecs/tensor-proto.js';
import { examplesOfInput } from '../codecs/tf-example.js';
import { readPredictionLog, type WarmupRequest } from './prediction-log.js';
import { readTfRecords } from './tfrecord-reader.js';

/*
 * TF Serving's model warmup: a version directory may hold assets.extra/tf_serving_warmup_requests,
 * a TFRecord file of PredictionLogs. Their requests are replayed before the version is served, so
 * that TensorFlow's lazy work (kernel selection, memory pools, constant folding) is done before
 * the first caller arrives. A file that cannot be read or replayed fails the load, as in TF Serving.
 */

/** Where TF Serving looks for the warmup file, relative to a version directory. */
export const WARMUP_FILE = join('assets.extra', 'tf_serving_warmup_requests');
/** TF Serving refuses warmup files with more records than this. */
export const MAX_WARMUP_RECORDS = 1000;

export interface WarmupOptions {
  /** Times each record is replayed (--num_request_iterations_for_warmup; at least 1). */
  readonly iterations: number;
  readonly limits: TensorLimits;
  /** Largest record accepted (the server's request size limit). */
  readonly maxRecordBytes: number;
  /** --enable_signature_method_name_check, as for live requests. */
  readonly checkMethodNames: boolean;
}

/** A loaded version as warmup sees it: its signatures, and a run on each of its inference threads. */
export interface WarmupTarget extends SignatureSource {
  runOnEveryThread(signatureName: string, inputs: Readonly<Record<string, HostTensor>>, outputNames: readonly string[] | undefined): Promise<void>;
}

interface PreparedRun {
  readonly signatureName: string;
  readonly inputs: Record<string, HostTensor>;
  readonly outputNames: readonly string[] | undefined;
}

/**
 * Replays the version's warmup file, if it has one; returns the number of records replayed, or
 * undefined when there is no file. Throws a ServingError naming the file and the record on failure.
 */
export async function warmUpVersion(target: WarmupTarget, versionDir: string, options: WarmupOptions, signal: AbortSignal): Promise<number | undefined> {
  const path = join(versionDir, WARMUP_FILE);
  if (!(await isFile(path))) return undefined;
  let records = 0;
  for await (const record of readTfRecords(path, options.maxRecordBytes)) {
    signal.throwIfAborted();
    records++;
    if (records > MAX_WARMUP_RECORDS) throw invalidArgument(`${path} holds more than ${MAX_WARMUP_RECORDS} warmup records, the most TF Serving accepts`);
    try {
      const runs = prepare(readPredictionLog(record), target, options);
      for (let i = 0; i < options.iterations; i++) for (const run of runs) await target.runOnEveryThread(run.signatureName, run.inputs, run.outputNames);
    } catch (error) {
      const coded = error instanceof WireError ? invalidArgument(`not a PredictionLog (${error.message})`) : toServingError(error);
      throw new ServingError(coded.code, `warmup record ${records} of ${path}: ${coded.message}`, { cause: error });
    }
  }
  return records;
}

async function isFile(path: string): Promise<boolean> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (!info.isFile()) throw invalidArgument(`${path} is not a file`);
  return true;
}

/** Checks a logged request against the version, as a live request of its kind would be; a MultiInference request is one run per task. */
function prepare(logged: WarmupRequest, signatures: SignatureSource, options: WarmupOptions): PreparedRun[] {
  if (logged.kind === 'multi_inference') {
    const tasks = logged.request.tasks.map((task) => ({ spec: { name: task.model_spec?.name ?? '', signatureName: task.model_spec?.signature_name }, method: task.method_name }));
    checkInferenceTasks(tasks);
    const examples = examplesOfInput(logged.request.input);
    return tasks.map((task) => examplesRun(task.spec.signatureName || DEFAULT_SIGNATURE, task.method, examples, signatures, options));
  }
  const signatureName = logged.request.model_spec?.signature_name || DEFAULT_SIGNATURE;
  if (logged.kind === 'predict') {
    const signature = signatureOf(signatures, signatureName);
    checkPredictMethod(signatureName, signature, options.checkMethodNames);
    const inputs = decodeTensorProtoMap(logged.request.inputs, options.limits);
    checkInputs(signatureName, signature, inputs);
    return [{ signatureName, inputs, outputNames: selectOutputs(signatureName, signature, logged.request.output_filter) }];
  }
  return [examplesRun(signatureName, logged.kind === 'classify' ? CLASSIFY_METHOD : REGRESS_METHOD, examplesOfInput(logged.request.input), signatures, options)];
}

/** A classify or regress run, fetching what the live call fetches (TensorFlow keeps a compiled run per set of fetches). */
function examplesRun(signatureName: string, method: string, examples: readonly Uint8Array[], signatures: SignatureSource, options: WarmupOptions): PreparedRun {
  const signature = signatureOf(signatures, signatureName);
  const input = exampleInputOf(signatureName, signature, method, options.checkMethodNames);
  const outputNames = method === CLASSIFY_METHOD ? classifyFetches(signatureName, signature) : regressFetches(signatureName, signature);
  return { signatureName, inputs: { [input]: examplesTensor(examples) }, outputNames };
}
