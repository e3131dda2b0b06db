import { open } from 'node:fs/promises';
import { ServingError } from '../../../../shared/errors.js';
import { maskedCrc32c } from './crc32c.js';

/*
 * TFRecord: a sequence of records, each
 *   uint64 length (little-endian) · uint32 masked CRC-32C of those 8 bytes · data · uint32 masked CRC-32C of data.
 * TF Serving's model warmup file (assets.extra/tf_serving_warmup_requests) is one.
 */

const HEADER_BYTES = 12;
const FOOTER_BYTES = 4;

const dataLoss = (path: string, offset: number, what: string): ServingError =>
  new ServingError('DATA_LOSS', `${path}: ${what} at byte ${offset}; is it a TFRecord file?`);

/**
 * Yields the records of a TFRecord file in order, reading one record at a time. Every checksum is
 * verified; a record longer than `maxRecordBytes` is refused before it is read.
 */
export async function* readTfRecords(path: string, maxRecordBytes: number): AsyncGenerator<Buffer> {
  const file = await open(path, 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    let offset = 0;
    for (;;) {
      const { bytesRead } = await file.read(header, 0, HEADER_BYTES, offset);
      if (bytesRead === 0) return;
      if (bytesRead < HEADER_BYTES) throw dataLoss(path, offset, 'truncated record header');
      if (header.readUInt32LE(8) !== maskedCrc32c(header.subarray(0, 8))) throw dataLoss(path, offset, 'corrupt record length (checksum mismatch)');
      const length = header.readBigUInt64LE(0);
      if (length > BigInt(maxRecordBytes)) {
        throw new ServingError('RESOURCE_EXHAUSTED', `${path}: the record at byte ${offset} holds ${length} bytes, more than the largest request accepted (${maxRecordBytes})`);
      }
      const body = Buffer.alloc(Number(length) + FOOTER_BYTES);
      const read = await file.read(body, 0, body.length, offset + HEADER_BYTES);
      if (read.bytesRead < body.length) throw dataLoss(path, offset, 'truncated record');
      const data = body.subarray(0, body.length - FOOTER_BYTES);
      if (body.readUInt32LE(data.length) !== maskedCrc32c(data)) throw dataLoss(path, offset, 'corrupt record data (checksum mismatch)');
      yield data;
      offset += HEADER_BYTES + body.length;
    }
  } finally {
    await file.close();
  }
}
