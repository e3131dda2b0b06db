import protobuf from 'protobufjs';
import { tfRecordOf } from '../../src/server/request-log/tfrecord-frame.js';

/**
 * A TF Serving warmup file (TFRecord of PredictionLogs) replaying serialized PredictRequests: each
 * record is PredictionLog { predict_log (6): PredictLog { request (1) } }.
 */
export function warmupFileOf(predictRequests: readonly Uint8Array[]): Buffer {
  return Buffer.concat(predictRequests.map((request) => tfRecordOf(protobuf.Writer.create().uint32((6 << 3) | 2).fork().uint32((1 << 3) | 2).bytes(request).ldelim().finish())));
}
