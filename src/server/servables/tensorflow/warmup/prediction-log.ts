import { ServingError, invalidArgument } from '../../../../shared/errors.js';
import { Reader, readPredictRequest, type PredictRequestObject } from '../codecs/predict-request-wire.js';
import type { InputObject } from '../codecs/tf-example.js';
import { protoType } from '../proto-root.js';

/** One request of a warmup file, in the object shapes the gRPC handlers receive. */
export type WarmupRequest =
  | { readonly kind: 'predict'; readonly request: PredictRequestObject }
  | { readonly kind: 'classify' | 'regress'; readonly request: ExamplesRequestObject }
  | { readonly kind: 'multi_inference'; readonly request: MultiInferenceRequestObject };

export interface MultiInferenceRequestObject {
  readonly tasks: readonly { readonly model_spec: { name?: string; signature_name?: string } | null; readonly method_name: string }[];
  readonly input: InputObject | null;
}

export interface ExamplesRequestObject {
  readonly model_spec: { signature_name?: string } | null;
  readonly input: InputObject | null;
}

/**
 * tensorflow.serving.PredictionLog's fields: log_metadata, then the log_type oneof, whose logs hold
 * their request in field 1 and their response in field 2. Read here, written by the request log.
 */
export const PREDICTION_LOG_FIELD = {
  log_metadata: 1,
  classify_log: 2,
  regress_log: 3,
  multi_inference_log: 4,
  session_run_log: 5,
  predict_log: 6,
  predict_streamed_log: 7,
} as const;

/** log_type field number → name. */
const LOG_FIELDS: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(PREDICTION_LOG_FIELD)
    .filter(([name]) => name !== 'log_metadata')
    .map(([name, field]) => [field, name]),
);
const LENGTH_DELIMITED = 2;
const REQUEST_TAG = (1 << 3) | LENGTH_DELIMITED;

/** Reads one serialized tensorflow.serving.PredictionLog into the request it logged. */
export function readPredictionLog(bytes: Uint8Array): WarmupRequest {
  let field = 0;
  let request = bytes.subarray(0, 0);
  const log = new Reader(bytes, 0, bytes.length);
  while (!log.done) {
    const tag = log.tag();
    const number = Math.floor(tag / 8);
    if (LOG_FIELDS[number] === undefined || tag % 8 !== LENGTH_DELIMITED) {
      log.skip(tag % 8);
      continue;
    }
    // A oneof: the last member on the wire wins, as protobuf parsers do.
    field = number;
    request = bytes.subarray(0, 0);
    const entry = log.sub();
    while (!entry.done) {
      const inner = entry.tag();
      if (inner !== REQUEST_TAG) {
        entry.skip(inner % 8);
        continue;
      }
      const [start, end] = entry.span();
      request = bytes.subarray(start, end);
    }
  }
  switch (field) {
    case PREDICTION_LOG_FIELD.predict_log:
      return { kind: 'predict', request: readPredictRequest(request) };
    case PREDICTION_LOG_FIELD.classify_log:
      return { kind: 'classify', request: decodeExamplesRequest('tensorflow.serving.ClassificationRequest', request) };
    case PREDICTION_LOG_FIELD.regress_log:
      return { kind: 'regress', request: decodeExamplesRequest('tensorflow.serving.RegressionRequest', request) };
    case PREDICTION_LOG_FIELD.multi_inference_log:
      return { kind: 'multi_inference', request: decodeMessage<MultiInferenceRequestObject>('tensorflow.serving.MultiInferenceRequest', request) };
    case 0:
      throw invalidArgument('the record holds no logged request (predict_log, classify_log, regress_log or multi_inference_log)');
    default:
      throw new ServingError('UNIMPLEMENTED', `${LOG_FIELDS[field]} records cannot be replayed; warmup takes predict_log, classify_log, regress_log and multi_inference_log`);
  }
}

function decodeExamplesRequest(type: string, bytes: Uint8Array): ExamplesRequestObject {
  return decodeMessage<ExamplesRequestObject>(type, bytes);
}

function decodeMessage<T>(type: string, bytes: Uint8Array): T {
  const message = protoType(type);
  return message.toObject(message.decode(bytes), { longs: String, enums: String, defaults: true, oneofs: true }) as T;
}
