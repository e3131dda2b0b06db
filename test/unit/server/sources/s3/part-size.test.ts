import { expect, test } from 'vitest';
import { partSizeFor, type TransferSettings } from '../../../../../src/server/sources/s3/download-files.js';
import { DEFAULT_TRANSFER } from '../../../../../src/server/sources/s3/s3-settings.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

test.each<[string, number, TransferSettings, number, number]>([
  ['1 GiB over 16 slots: one 64 MiB part per slot', GiB, DEFAULT_TRANSFER, 16, 64 * MiB],
  ['256 MiB over 16 slots: the 16 MiB minimum', 256 * MiB, DEFAULT_TRANSFER, 16, 16 * MiB],
  ['400 MiB over 16 slots: 25 MiB', 400 * MiB, DEFAULT_TRANSFER, 16, 25 * MiB],
  ['an uneven size rounds up to whole MiB', 400 * MiB + 1, DEFAULT_TRANSFER, 16, 26 * MiB],
  ['10 GiB over 16 slots: capped at 64 MiB', 10 * GiB, DEFAULT_TRANSFER, 16, 64 * MiB],
  ['1 GiB over 4 slots: capped at 64 MiB', GiB, DEFAULT_TRANSFER, 4, 64 * MiB],
  ['a set part size stays as set', GiB, { partSizeBytes: 8 * MiB, maxPartSizeBytes: 8 * MiB, multipartThresholdBytes: 16 * MiB }, 16, 8 * MiB],
  ['no maximum: the part size', GiB, { partSizeBytes: 8 * MiB, multipartThresholdBytes: 16 * MiB }, 16, 8 * MiB],
])('%s', (_name, size, transfer, slots, expected) => {
  expect(partSizeFor(size, transfer, slots)).toBe(expected);
});
