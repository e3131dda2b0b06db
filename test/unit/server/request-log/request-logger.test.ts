import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServerMetrics } from '../../../../src/server/metrics/server-metrics.js';
import { RequestLogger } from '../../../../src/server/request-log/request-logger.js';
import { readTfRecords } from '../../../../src/server/servables/tensorflow/warmup/tfrecord-reader.js';

async function recordCount(path: string): Promise<number> {
  let n = 0;
  for await (const record of readTfRecords(path, 1 << 20)) if (record.length > 0) n += 1;
  return n;
}

describe('RequestLogger following the model config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tensorfleet-request-logger-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("closes the current file of a prefix the config dropped, and goes on with the next file number when it comes back", async () => {
    const logger = new RequestLogger({ rng: () => 0, now: () => Date.UTC(2026, 11, 6, 23, 50), tags: ['serve'], metrics: new ServerMetrics(), logger: pino({ level: 'silent' }) });
    const config = { filenamePrefix: join(dir, 'm'), samplingRate: 1 };
    const call = { kind: 'regress', examples: [], values: [1] } as const;
    const spec = { model: 'm', version: 1, signatureName: 'regress' };
    logger.open([{ name: 'm', logging: config }]);
    logger.log(config, spec, call);
    logger.log(config, spec, call);
    logger.open([{ name: 'm' }]); // logging taken out of the config
    await new Promise((resolve) => setTimeout(resolve, 50));
    const files = (): string[] => readdirSync(dir).sort();
    expect(files()).toEqual([`m.20261206T235000Z.${process.pid}.1.tfrecord`]);
    expect(await recordCount(join(dir, files()[0]!))).toBe(2);
    logger.open([{ name: 'm', logging: config }]);
    logger.log(config, spec, call);
    await logger.close();
    expect(files()).toEqual([`m.20261206T235000Z.${process.pid}.1.tfrecord`, `m.20261206T235000Z.${process.pid}.2.tfrecord`]);
    expect(await recordCount(join(dir, files()[1]!))).toBe(1);
  });
});
