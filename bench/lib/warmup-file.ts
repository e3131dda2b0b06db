import protobuf from 'protobufjs';
import { maskedCrc32c } from '../../src/server/servables/tensorflow/warmup/crc32c.js';

/**
 * A TF Serving warmup file (TFRecord of PredictionLogs) replaying serialized PredictRequests: each
 * record is PredictionLog { predict_log (6): PredictLog { request (1) } }.
 */
export function warmupFileOf(predictRequests: readonly Uint8Array[]): Buffer {
  const records = predictRequests.map((request) => {
    const data = protobuf.Writer.create().uint32((6 << 3) | 2).fork().uint32((1 << 3) | 2).bytes(request).ldelim().finish();
    const header = Buffer.alloc(12);
    header.writeBigUInt64LE(BigInt(data.length), 0);
    header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
    const footer = Buffer.alloc(4);
    footer.writeUInt32LE(maskedCrc32c(data), 0);
    return Buffer.concat([header, data, footer]);
  });
  return Buffer.concat(records);
}
