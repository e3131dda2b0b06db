/** CRC-32C against published check values, and the masked form against a file TensorFlow wrote. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { crc32c, maskedCrc32c } from '../../../../../../src/server/servables/tensorflow/warmup/crc32c.js';
import { fixtureVersionDir } from '../../../../../helpers/server/model-dirs.js';

test.each([
  ['"123456789"', Buffer.from('123456789'), 0xe3069283],
  ['32 zero bytes', Buffer.alloc(32), 0x8a9136aa],
  ['32 bytes of 0xff', Buffer.alloc(32, 0xff), 0x62a8ab43],
  ['bytes 0..31', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
  ['no bytes', Buffer.alloc(0), 0],
])('crc32c of %s', (_name, bytes, expected) => {
  expect(crc32c(bytes)).toBe(expected);
});

test('the masked CRCs match those TensorFlow wrote into a TFRecord file', () => {
  const file = readFileSync(join(fixtureVersionDir('counter', 1), 'assets.extra', 'tf_serving_warmup_requests'));
  const length = Number(file.readBigUInt64LE(0));
  expect(file.readUInt32LE(8)).toBe(maskedCrc32c(file.subarray(0, 8)));
  expect(file.readUInt32LE(12 + length)).toBe(maskedCrc32c(file.subarray(12, 12 + length)));
});
