import { maskedCrc32c } from '../servables/tensorflow/warmup/crc32c.js';

/** One TFRecord: length (u64 LE), its masked CRC-32C, the data, the data's masked CRC-32C. */
export function tfRecordOf(data: Uint8Array): Buffer {
  const record = Buffer.alloc(12 + data.length + 4);
  record.writeBigUInt64LE(BigInt(data.length), 0);
  record.writeUInt32LE(maskedCrc32c(record.subarray(0, 8)), 8);
  record.set(data, 12);
  record.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return record;
}
