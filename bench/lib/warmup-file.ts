import { maskedCrc32c } from '../../src/server/servables/tensorflow/warmup/crc32c.js';

/** A protobuf length-delimited field: tag, varint length, bytes. */
function lengthDelimited(field: number, bytes: Uint8Array): Buffer {
  const head: number[] = [(field << 3) | 2];
  for (let n = bytes.length; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      head.push(n);
      break;
    }
    head.push((n % 128) | 0x80);
  }
  return Buffer.concat([Buffer.from(head), bytes]);
}

/**
 * A TF Serving warmup file (TFRecord of PredictionLogs) replaying serialized PredictRequests: each
 * record is PredictionLog { predict_log (6): PredictLog { request (1) } }.
 */
export function warmupFileOf(predictRequests: readonly Uint8Array[]): Buffer {
  const records = predictRequests.map((request) => {
    const data = lengthDelimited(6, lengthDelimited(1, request));
    const header = Buffer.alloc(12);
    header.writeBigUInt64LE(BigInt(data.length), 0);
    header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
    const footer = Buffer.alloc(4);
    footer.writeUInt32LE(maskedCrc32c(data), 0);
    return Buffer.concat([header, data, footer]);
  });
  return Buffer.concat(records);
}
