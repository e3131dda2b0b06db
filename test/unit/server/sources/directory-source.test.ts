import { mkdir, mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../../src/server/config/model-config.js';
import type { Logger } from '../../../../src/server/core/logger.js';
import { DirectorySource } from '../../../../src/server/sources/directory-source.js';
import { fingerprintDirectory, isCompleteSavedModel, parseVersionDirName } from '../../../../src/server/sources/saved-model-directory.js';
import { ServingError } from '../../../../src/shared/errors.js';

/** Records warnings so tests can check what was reported. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const logger = {
    warnings,
    info: () => undefined,
    debug: () => undefined,
    error: () => undefined,
    warn: (obj: object | string, msg?: string) => void warnings.push(typeof obj === 'string' ? obj : `${msg ?? ''} ${JSON.stringify(obj)}`),
    child: () => logger,
  };
  return logger;
}

const OLD = new Date('2020-01-01T00:00:00Z');

async function writeVersion(dir: string, opts: { variables?: 'complete' | 'no-index' | 'none'; graph?: 'pb' | 'pbtxt' | 'none'; old?: boolean } = {}) {
  await mkdir(dir, { recursive: true });
  const graph = opts.graph ?? 'pb';
  if (graph !== 'none') await writeFile(join(dir, graph === 'pb' ? 'saved_model.pb' : 'saved_model.pbtxt'), 'graph');
  const variables = opts.variables ?? 'complete';
  if (variables !== 'none') {
    await mkdir(join(dir, 'variables'));
    await writeFile(join(dir, 'variables', 'variables.data-00000-of-00001'), 'weights');
    if (variables === 'complete') await writeFile(join(dir, 'variables', 'variables.index'), 'index');
  }
  if (opts.old ?? true) await ageTree(dir);
}

async function ageTree(dir: string) {
  for (const p of [join(dir, 'variables', 'variables.index'), join(dir, 'variables', 'variables.data-00000-of-00001'), join(dir, 'saved_model.pb'), join(dir, 'saved_model.pbtxt'), join(dir, 'variables'), dir]) {
    await utimes(p, OLD, OLD).catch(() => undefined);
  }
}

describe('parseVersionDirName', () => {
  it.each<[string, number | 'unsafe' | undefined]>([
    ['0', 0],
    ['1', 1],
    ['007', 7],
    ['123456789', 123456789],
    ['9007199254740991', 9007199254740991],
    ['9007199254740992', 'unsafe'],
    ['99999999999999999999', 'unsafe'],
    ['-1', undefined],
    ['+1', undefined],
    ['1.5', undefined],
    ['1e3', undefined],
    [' 1', undefined],
    ['tmp', undefined],
    ['3.partial', undefined],
    ['.3', undefined],
    ['', undefined],
  ])('%j → %j', (name, expected) => {
    expect(parseVersionDirName(name)).toBe(expected);
  });
});

describe('DirectorySource', () => {
  let base: string;
  let now: number;
  let logger: ReturnType<typeof recordingLogger>;
  let source: DirectorySource;
  const model = (): ModelConfig => ({ name: 'm', basePath: base, versionPolicy: { kind: 'all' }, versionLabels: {}, routing: {} });
  const list = async () => {
    const listing = await source.list(model(), new AbortController().signal);
    return [...listing.keys()].sort((a, b) => a - b);
  };

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'dir-source-'));
    now = Date.now();
    logger = recordingLogger();
    source = new DirectorySource({ logger, now: () => now, settleMs: 10_000 });
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('offers settled numeric versions at the first poll and ignores other entries', async () => {
    await writeVersion(join(base, '0'));
    await writeVersion(join(base, '2'), { variables: 'none' });
    await writeVersion(join(base, '3'), { graph: 'pbtxt' });
    await writeVersion(join(base, 'tmp'));
    await writeVersion(join(base, '4.partial'));
    await writeVersion(join(base, '.5'));
    await writeFile(join(base, '6'), 'a file, not a directory');
    await writeVersion(join(base, '99999999999999999999'));
    expect(await list()).toEqual([0, 2, 3]);
    const listing = await source.list(model(), new AbortController().signal);
    expect(listing.get(0)?.path).toBe(join(base, '0'));
    expect(logger.warnings.filter((w) => w.includes('number too large'))).toHaveLength(1);
    await list();
    expect(logger.warnings.filter((w) => w.includes('number too large'))).toHaveLength(1); // warned once
  });

  it('explains an empty listing: no version directory, then one not complete; nothing once it offers one', async () => {
    expect(await list()).toEqual([]);
    expect(source.explain(model())).toBe(`no numbered version directory under ${base}`);
    await mkdir(join(base, '4'));
    expect(await list()).toEqual([]);
    expect(source.explain(model())).toBe(`version 4 under ${base} not complete yet (a SavedModel, settled for 10 s or unchanged since the last look)`);
    await writeVersion(join(base, '5'));
    now += 20_000;
    expect(await list()).toEqual([5]);
    expect(source.explain(model())).toBeUndefined();
  });

  it('never offers incomplete SavedModels', async () => {
    await writeVersion(join(base, '1'), { graph: 'none' });
    await writeVersion(join(base, '2'), { variables: 'no-index' });
    await writeVersion(join(base, '3'));
    expect(await list()).toEqual([3]);
    expect(await list()).toEqual([3]);
    expect(await isCompleteSavedModel(join(base, '2'))).toBe(false);
    expect(await isCompleteSavedModel(join(base, '3'))).toBe(true);
  });

  it('waits until a freshly written version is unchanged between two polls', async () => {
    await writeVersion(join(base, '1'));
    expect(await list()).toEqual([1]);
    // A copy in progress: complete-looking files with fresh mtimes.
    await writeVersion(join(base, '2'), { old: false });
    expect(await list()).toEqual([1]); // first sight of fresh content: not yet
    await writeFile(join(base, '2', 'variables', 'variables.data-00000-of-00001'), 'weights, more of them');
    expect(await list()).toEqual([1]); // changed since the last poll: still copying
    expect(await list()).toEqual([1, 2]); // unchanged for a poll: settled
  });

  it('offers fresh content without waiting once it is older than the settle time', async () => {
    await writeVersion(join(base, '1'), { old: false });
    // From the files' own mtimes, not the wall clock: a VM clock that steps back after the write
    // (seen in CI right after a machine resume) must not make the content look younger.
    now = (await fingerprintDirectory(join(base, '1'))).newestMtimeMs + 10_000;
    expect(await list()).toEqual([1]);
  });

  it('keeps offering a version whose files change, with its last settled fingerprint', async () => {
    await writeVersion(join(base, '1'));
    const first = (await source.list(model(), new AbortController().signal)).get(1)?.fingerprint;
    await writeFile(join(base, '1', 'assets.txt'), 'touched');
    const during = (await source.list(model(), new AbortController().signal)).get(1)?.fingerprint;
    const after = (await source.list(model(), new AbortController().signal)).get(1)?.fingerprint;
    expect(first).toBeDefined();
    expect(during).toBe(first);
    expect(after).toBeDefined();
    expect(after).not.toBe(first);
  });

  it('picks up a version moved in whole (the recommended way to publish)', async () => {
    await writeVersion(join(base, '1'));
    await writeVersion(join(base, 'incoming-2'));
    expect(await list()).toEqual([1]);
    await rename(join(base, 'incoming-2'), join(base, '2'));
    expect(await list()).toEqual([1, 2]);
  });

  it('forgets a deleted version, so a re-created one must settle again', async () => {
    await writeVersion(join(base, '1'));
    await writeVersion(join(base, '2'), { old: false });
    await list();
    expect(await list()).toEqual([1, 2]);
    await rm(join(base, '2'), { recursive: true });
    expect(await list()).toEqual([1]);
    await writeVersion(join(base, '2'), { old: false });
    expect(await list()).toEqual([1]);
  });

  it('ignores two names for one version', async () => {
    await writeVersion(join(base, '1'));
    await writeVersion(join(base, '01'));
    await writeVersion(join(base, '2'));
    expect(await list()).toEqual([2]);
    expect(logger.warnings.some((w) => w.includes('several names for one version'))).toBe(true);
  });

  it('fails with NOT_FOUND when the base path does not exist', async () => {
    const missing = join(base, 'nope');
    const error = await source
      .list({ ...model(), basePath: missing }, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServingError);
    expect((error as ServingError).code).toBe('NOT_FOUND');
    expect((error as ServingError).message).toContain(`model base path ${missing} does not exist`);
  });

  it('returns an empty listing for an empty base path', async () => {
    expect(await list()).toEqual([]);
  });
});
