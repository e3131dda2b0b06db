import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TfRecordLogFile } from '../../../../src/server/request-log/tfrecord-log-file.js';
import { readTfRecords } from '../../../../src/server/servables/tensorflow/warmup/tfrecord-reader.js';

async function recordsIn(path: string): Promise<string[]> {
  const out: string[] = [];
  for await (const record of readTfRecords(path, 1 << 20)) out.push(record.toString());
  return out;
}

describe('TfRecordLogFile', () => {
  let dir: string;
  const errors: unknown[] = [];
  const file = (maxFileBytes: number, maxPendingBytes = 1 << 20): TfRecordLogFile =>
    new TfRecordLogFile({ prefix: join(dir, 'logs', 'm'), maxFileBytes, maxPendingBytes, now: () => Date.UTC(2026, 11, 6, 21, 30), onError: (e) => errors.push(e) });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tensorfleet-log-file-'));
    errors.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes TFRecords that the warmup reader reads back, in order, creating the directory', async () => {
    const log = file(1 << 20);
    for (const text of ['one', 'two', 'three']) expect(log.append(Buffer.from(text))).toBe(true);
    await log.close();
    expect(log.paths).toEqual([join(dir, 'logs', `m.20261206T213000Z.${process.pid}.1.tfrecord`)]);
    expect(await recordsIn(log.paths[0]!)).toEqual(['one', 'two', 'three']);
    expect(errors).toEqual([]);
  });

  it('rotates on request, reporting each closed file with its size, and names files with the given instance', async () => {
    const closed: [string, number][] = [];
    const log = new TfRecordLogFile({
      prefix: join(dir, 'm'),
      instance: 'pod-a.1',
      maxFileBytes: 1 << 20,
      maxPendingBytes: 1 << 20,
      now: () => Date.UTC(2026, 11, 6, 21, 30),
      onError: (e) => errors.push(e),
      onFileClosed: (path, bytes) => closed.push([path, bytes]),
    });
    await log.rotate(); // nothing written: no file to close
    log.append(Buffer.from('one'));
    await log.rotate();
    await log.rotate(); // the new file does not exist until a record comes
    log.append(Buffer.from('two'));
    log.append(Buffer.from('three'));
    await log.close();
    const name = (n: number): string => join(dir, `m.20261206T213000Z.pod-a.1.${n}.tfrecord`);
    // A record of n bytes takes n + 16 framed.
    expect(closed).toEqual([[name(1), 19], [name(2), 40]]);
    expect(await recordsIn(name(2))).toEqual(['two', 'three']);
    expect(errors).toEqual([]);
  });

  it('starts a new file once the current one is full', async () => {
    // Each record takes 24 bytes framed: two fill a 40-byte file, the third starts the next.
    const log = file(40);
    for (let i = 0; i < 6; i++) {
      log.append(Buffer.from(`record ${i}`));
      await log.flushed();
    }
    await log.close();
    expect(log.paths).toHaveLength(3);
    const all = (await Promise.all(log.paths.map(recordsIn))).flat();
    expect(all).toEqual(Array.from({ length: 6 }, (_, i) => `record ${i}`));
  });

  it('drops records beyond its queue bound rather than holding them, and refuses them once closed', async () => {
    const log = file(1 << 20, 100);
    const queued = Array.from({ length: 10 }, () => log.append(Buffer.alloc(30)));
    expect(queued.filter(Boolean).length).toBeLessThan(10);
    await log.close();
    expect(log.append(Buffer.from('late'))).toBe(false);
    expect((await recordsIn(log.paths[0]!)).length).toBe(queued.filter(Boolean).length);
  });
});
