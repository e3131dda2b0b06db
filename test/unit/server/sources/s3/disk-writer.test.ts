/** DiskWriter: its real writer thread writing into real files. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { DiskWriter } from '../../../../../src/server/sources/s3/disk-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'tensorfleet-disk-writer-'));
const writer = new DiskWriter();
afterAll(async () => {
  await writer.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A Buffer over shared memory holding `bytes`, as RawHttpClient's blocks are. */
function shared(bytes: Buffer): Buffer {
  const b = Buffer.from(new SharedArrayBuffer(bytes.length));
  bytes.copy(b);
  return b;
}

describe('DiskWriter', () => {
  test('accepts only buffers in shared memory', () => {
    expect(DiskWriter.accepts([shared(Buffer.from('a')), shared(Buffer.from('b'))])).toBe(true);
    expect(DiskWriter.accepts([shared(Buffer.from('a')), Buffer.from('b')])).toBe(false);
  });

  test('writes batches at their offsets, in any order, across many 32 KiB calls', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 123);
    const target = join(dir, 'parts.bin');
    const fh = await open(target, 'w');
    await fh.truncate(data.length);
    const half = Math.floor(data.length / 2);
    // The second half first, as parts of a big object land; the first half in two pieces of one batch.
    await Promise.all([
      writer.write(fh.fd, [shared(data.subarray(half))], half),
      writer.write(fh.fd, [shared(data.subarray(0, 1000)), shared(data.subarray(1000, half))], 0),
    ]);
    await fh.close();
    expect(readFileSync(target).equals(data)).toBe(true);
  });

  test('a failing write rejects with the system error code, and the writer keeps working', async () => {
    const readOnly = join(dir, 'read-only.bin');
    await (await open(readOnly, 'w')).close();
    const fh = await open(readOnly, 'r');
    const failed = writer.write(fh.fd, [shared(Buffer.from('x'))], 0);
    await expect(failed).rejects.toMatchObject({ code: 'EBADF' });
    await fh.close();

    const target = join(dir, 'after.bin');
    const out = await open(target, 'w');
    await writer.write(out.fd, [shared(Buffer.from('still writing'))], 0);
    await out.close();
    expect(readFileSync(target, 'utf8')).toBe('still writing');
  });

  test('creates whole files from shared memory and from slices of ordinary buffers', async () => {
    const slab = randomBytes(64 * 1024);
    const slice = slab.subarray(1000, 1000 + 16 * 1024);
    await Promise.all([
      writer.createFile(join(dir, 'from-slice.bin'), slice),
      writer.createFile(join(dir, 'from-shared.bin'), shared(slab)),
      writer.createFile(join(dir, 'empty.bin'), Buffer.alloc(0)),
    ]);
    expect(readFileSync(join(dir, 'from-slice.bin')).equals(slice)).toBe(true);
    expect(readFileSync(join(dir, 'from-shared.bin')).equals(slab)).toBe(true);
    expect(readFileSync(join(dir, 'empty.bin')).length).toBe(0);
    // The caller's buffer is still usable: only a copy went to the thread.
    expect(slab.length).toBe(64 * 1024);
    await expect(writer.createFile(join(dir, 'no-such-dir', 'x.bin'), slice)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('a thread that dies fails its pending writes; the next write starts a new one', async () => {
    const own = new DiskWriter();
    const target = join(dir, 'restart.bin');
    const fh = await open(target, 'w');
    const pending = own.write(fh.fd, [shared(randomBytes(8 * 1024 * 1024))], 0);
    const failed = expect(pending).rejects.toThrow(/exited/);
    await own.close();
    await failed;
    await own.write(fh.fd, [shared(Buffer.from('again'))], 0);
    await fh.close();
    expect(readFileSync(target).subarray(0, 5).toString()).toBe('again');
    await own.close();
  });
});
