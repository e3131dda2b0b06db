/** The TFRecord reader on files TensorFlow wrote, and on damaged copies of them. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { readTfRecords } from '../../../../../../src/server/servables/tensorflow/warmup/tfrecord-reader.js';
import { FIXTURES_DIR } from '../../../../../helpers/server/fixture-tensors.js';
import { fixtureVersionDir, tempDir } from '../../../../../helpers/server/model-dirs.js';

const COUNTER_FILE = join(fixtureVersionDir('counter', 1), 'assets.extra', 'tf_serving_warmup_requests');
const counterBytes = readFileSync(COUNTER_FILE);
const dir = tempDir('tensorfleet-tfrecord-');
afterAll(() => dir.remove());

async function readAll(path: string, maxRecordBytes = 1 << 20): Promise<Buffer[]> {
  const records: Buffer[] = [];
  for await (const record of readTfRecords(path, maxRecordBytes)) records.push(Buffer.from(record));
  return records;
}

function fileOf(name: string, bytes: Uint8Array): string {
  const path = join(dir.path, name);
  writeFileSync(path, bytes);
  return path;
}

async function failure(path: string, maxRecordBytes?: number): Promise<{ code: string; message: string }> {
  try {
    await readAll(path, maxRecordBytes);
  } catch (error) {
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }
  throw new Error('the read succeeded');
}

test('reads every record of files TensorFlow wrote, in order', async () => {
  const counter = await readAll(COUNTER_FILE);
  expect(counter).toHaveLength(3);
  // Each record is the bytes between its 12-byte header and its 4-byte footer.
  let offset = 0;
  for (const record of counter) {
    const length = Number(counterBytes.readBigUInt64LE(offset));
    expect(record.equals(counterBytes.subarray(offset + 12, offset + 12 + length))).toBe(true);
    offset += 12 + length + 4;
  }
  expect(offset).toBe(counterBytes.length);
  expect(await readAll(join(FIXTURES_DIR, 'warmup', 'census-classify-regress.tfrecord'))).toHaveLength(2);
});

test('an empty file has no records, and concatenated files are one file', async () => {
  expect(await readAll(fileOf('empty', new Uint8Array(0)))).toEqual([]);
  const twice = await readAll(fileOf('twice', Buffer.concat([counterBytes, counterBytes])));
  expect(twice).toHaveLength(6);
  expect(twice[3]!.equals(twice[0]!)).toBe(true);
});

test.each([
  ['a truncated header', () => counterBytes.subarray(0, 7), /truncated record header at byte 0/],
  ['a truncated last record', () => counterBytes.subarray(0, counterBytes.length - 1), /truncated record at byte \d+/],
  ['a changed length', () => flip(counterBytes, 0), /corrupt record length \(checksum mismatch\) at byte 0/],
  ['changed data', () => flip(counterBytes, 20), /corrupt record data \(checksum mismatch\) at byte 0/],
  ['a changed data checksum', () => flip(counterBytes, 12 + Number(counterBytes.readBigUInt64LE(0))), /corrupt record data/],
  ['text', () => Buffer.from('instances: [1, 2, 3]\n'), /is it a TFRecord file\?/],
])('%s is DATA_LOSS', async (name, bytes, message) => {
  const result = await failure(fileOf(name.replace(/\W/g, '_'), bytes()));
  expect(result.code).toBe('DATA_LOSS');
  expect(result.message).toMatch(message);
});

test('a record over the size limit is refused before it is read', async () => {
  const first = Number(counterBytes.readBigUInt64LE(0));
  const result = await failure(COUNTER_FILE, first - 1);
  expect(result.code).toBe('RESOURCE_EXHAUSTED');
  expect(result.message).toContain(`holds ${first} bytes, more than the largest request accepted (${first - 1})`);
});

function flip(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}
