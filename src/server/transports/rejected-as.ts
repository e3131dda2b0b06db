import type { CallContext, ModelSpecInput, PredictService } from '../predict/predict-service.js';

/**
 * Runs the parsing of a body that names a model; a failure is counted in the request metrics as
 * that model's call (as one found malformed in a JSON thread is), then thrown. Both transports use it.
 */
export function rejectedAs<T>(predict: PredictService, spec: ModelSpecInput, call: CallContext, api: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    predict.recordRejected(spec, call, api, error);
    throw error;
  }
}

