import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ModelConfig, ModelServerConfig, VersionPolicy } from '../../../../src/server/config/model-config.js';
import { ModelManager, type ManagerEvent, type ModelManagerOptions } from '../../../../src/server/core/model-manager.js';
import type { VersionSelector } from '../../../../src/server/core/servable-handle.js';
import { DirectorySource } from '../../../../src/server/sources/directory-source.js';
import { ServingError } from '../../../../src/shared/errors.js';
import { DirectoryFakeLoader, FakeClock, nextEvent, recordingLogger, removeVersion, writeVersion, type LogRecord } from './manager-test-kit.js';

let root: string;
let clock: FakeClock;
let loader: DirectoryFakeLoader;
let records: LogRecord[];
let managers: ModelManager[];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'model-manager-'));
  clock = new FakeClock();
  loader = new DirectoryFakeLoader();
  records = [];
  managers = [];
});

afterEach(async () => {
  // Tests may leave handles held; let the unload timeout pass so stop() can finish.
  for (const m of managers) {
    const stopping = m.stop();
    for (let i = 0; i < 20; i += 1) {
      await new Promise((resolve) => setImmediate(resolve));
      clock.advance(60_000);
    }
    await stopping;
  }
  await rm(root, { recursive: true, force: true });
});

function newManager(options: Partial<ModelManagerOptions> = {}): ModelManager {
  const logger = recordingLogger(records);
  // settleMs 0: versions written by the test are offered at once; settling is tested in the source's tests.
  const source = new DirectorySource({ logger, now: () => Date.now(), settleMs: 0 });
  const manager = new ModelManager({ loader, source, logger, clock, ...options });
  managers.push(manager);
  return manager;
}

function model(name: string, overrides: Partial<ModelConfig> = {}): ModelConfig {
  return { name, basePath: join(root, name), versionPolicy: { kind: 'latest', numVersions: 1 }, versionLabels: {}, routing: {}, ...overrides };
}

const config = (...models: ModelConfig[]): ModelServerConfig => ({ models });
const base = (name: string): string => join(root, name);

async function settle(manager: ModelManager): Promise<void> {
  await manager.pollOnce();
  await manager.idle();
}

function statesOf(manager: ModelManager, name: string): Record<number, string> {
  return Object.fromEntries(manager.status(name).map((s) => [s.version, s.errorCode === 'OK' ? s.state : `${s.state}:${s.errorCode}`]));
}

/** The version a request would get (acquired and released at once). */
function servedVersion(manager: ModelManager, name: string, selector?: VersionSelector): number {
  const handle = manager.acquire(name, selector);
  handle.release();
  return handle.version;
}

function errorOf(fn: () => unknown): ServingError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ServingError);
    return error as ServingError;
  }
  throw new Error('expected an error');
}

/** Fails the test if any event leaves the model with no AVAILABLE version after it first had one. */
function watchAvailability(manager: ModelManager, name: string): { gaps: string[] } {
  const result = { gaps: [] as string[] };
  let served = false;
  manager.subscribe((e: ManagerEvent) => {
    const available = manager.availableVersions(name).length > 0;
    if (available) served = true;
    else if (served) result.gaps.push(`${e.type} ${'version' in e ? e.version : ''}`);
  });
  return result;
}

describe('ModelManager', () => {
  it('loads the aspired versions at start and serves the highest', async () => {
    await writeVersion(base('m'), 1);
    await writeVersion(base('m'), 2);
    await writeVersion(base('m'), 'tmp');
    const manager = newManager();
    expect(manager.isReady()).toBe(true); // nothing configured yet
    await manager.reconcile(config(model('m')));
    expect(manager.isReady()).toBe(false);
    await manager.idle();
    expect(manager.isReady()).toBe(true);
    expect(statesOf(manager, 'm')).toEqual({ 2: 'AVAILABLE' });
    expect(loader.liveVersions('m')).toEqual([2]);
    const handle = manager.acquire('m');
    expect([handle.model, handle.version, (handle.servable as unknown as { version: number }).version]).toEqual(['m', 2, 2]);
    handle.release();
    expect(manager.modelNames()).toEqual(['m']);
    expect(records.some((r) => r.msg === 'version loaded' && r.obj.model === 'm' && r.obj.version === 2 && typeof r.obj.durationMs === 'number')).toBe(true);
  });

  it('says in GetModelStatus why a model has no versions when its base path cannot be listed', async () => {
    const manager = newManager();
    await manager.reconcile(config(model('missing')));
    await settle(manager);
    expect(errorOf(() => manager.status('missing'))).toMatchObject({
      code: 'NOT_FOUND',
      message: `Could not find any versions of model missing; listing its base path fails: model base path ${base('missing')} does not exist`,
    });
    // Once the path exists and holds a version, the reason goes away with the error.
    await writeVersion(base('missing'), 1);
    await settle(manager);
    expect(statesOf(manager, 'missing')).toEqual({ 1: 'AVAILABLE' });
  });

  it('serves version 0', async () => {
    await writeVersion(base('m'), 0);
    const manager = newManager();
    await manager.reconcile(config(model('m')));
    await manager.idle();
    expect(manager.status('m')).toEqual([{ version: 0, state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' }]);
    const h = manager.acquire('m', { version: 0 });
    expect(h.version).toBe(0);
    h.release();
    expect(servedVersion(manager, 'm')).toBe(0);
  });

  it('picks up a new version, serving the old one until the new one is AVAILABLE', async () => {
    await writeVersion(base('m'), 1);
    const manager = newManager();
    await manager.reconcile(config(model('m')));
    await manager.idle();
    const watch = watchAvailability(manager, 'm');

    await writeVersion(base('m'), 2);
    const gate = loader.gate('m', 2);
    await manager.pollOnce();
    await gate.reached;
    expect(statesOf(manager, 'm')).toEqual({ 1: 'AVAILABLE', 2: 'LOADING' });
    const during = manager.acquire('m');
    expect(during.version).toBe(1);
    during.release();

    gate.open();
    await manager.idle();
    expect(statesOf(manager, 'm')).toEqual({ 1: 'END', 2: 'AVAILABLE' });
    expect(loader.liveVersions('m')).toEqual([2]);
    expect(servedVersion(manager, 'm')).toBe(2);
    expect(watch.gaps).toEqual([]);
  });

  it('rolls back when the newest version directory is deleted: previous loads first, then the deleted unloads', async () => {
    await writeVersion(base('m'), 1);
    await writeVersion(base('m'), 2);
    const manager = newManager();
    await manager.reconcile(config(model('m')));
    await manager.idle();
    expect(loader.liveVersions('m')).toEqual([2]);
    const watch = watchAvailability(manager, 'm');

    await removeVersion(base('m'), 2);
    const gate = loader.gate('m', 1);
    await manager.pollOnce();
    await gate.reached;
    expect(statesOf(manager, 'm')).toEqual({ 1: 'LOADING', 2: 'AVAILABLE' });
    expect(servedVersion(manager, 'm')).toBe(2);

    gate.open();
    await manager.idle();
    expect(statesOf(manager, 'm')).toEqual({ 1: 'AVAILABLE', 2: 'END' });
    expect(loader.liveVersions('m')).toEqual([1]);
    expect(watch.gaps).toEqual([]);
  });

  it('keeps the old version serving when a new one fails, retries with backoff, gives up, and retries when the version changes', async () => {
    await writeVersion(base('m'), 1);
    const manager = newManager({ maxNumLoadRetries: 2, loadRetryIntervalMs: 100, maxLoadRetryIntervalMs: 150 });
    await manager.reconcile(config(model('m')));
    await manager.idle();
    const failures: ManagerEvent[] = [];
    manager.subscribe((e) => e.type === 'version-load-failed' && failures.push(e));

    await writeVersion(base('m'), 2, 'fail: corrupt graph');
    await settle(manager);
    expect(loader.attemptsOf('m', 2)).toBe(1);
    expect(statesOf(manager, 'm')).toEqual({ 1: 'AVAILABLE', 2: 'LOADING:INVALID_ARGUMENT' });
    expect(manager.status('m', 2)[0]?.errorMessage).toContain('cannot load m version 2: fail: corrupt graph');
    expect(servedVersion(manager, 'm')).toBe(1);

    clock.advance(99);
    await settle(manager);
    expect(loader.attemptsOf('m', 2)).toBe(1); // backoff not over; polls do not retry early
    clock.advance(1);
    await manager.idle();
    expect(loader.attemptsOf('m', 2)).toBe(2);
    clock.advance(149); // second delay: min(100 * 2, 150)
    await manager.idle();
    expect(loader.attemptsOf('m', 2)).toBe(2);
    clock.advance(1);
    await manager.idle();
    expect(loader.attemptsOf('m', 2)).toBe(3);
    expect(failures.map((e) => (e.type === 'version-load-failed' ? [e.attempt, e.willRetry] : []))).toEqual([
      [1, true],
      [2, true],
      [3, false],
    ]);
    expect(statesOf(manager, 'm')).toEqual({ 1: 'AVAILABLE', 2: 'END:INVALID_ARGUMENT' });

    clock.advance(60_000);
    await settle(manager);
    await settle(manager);
    expect(loader.attemptsOf('m', 2)).toBe(3); // gave up
    expect(servedVersion(manager, 'm')).toBe(1);
    expect(clock.pendingTimers).toBe(0);

    await writeVersion(base('m'), 2, 'graph, fixed'); // new content → fresh attempts
    await settle(manager);
    expect(loader.attemptsOf('m', 2)).toBe(4);
    expect(statesOf(manager, 'm')).toEqual({ 1: 'END', 2: 'AVAILABLE' });
  });

  it('waits for in-flight handles before unloading, and new requests go to the new version', async () => {
    await writeVersion(base('m'), 1);
    const manager = newManager();
    await manager.reconcile(config(model('m')));
    await manager.idle();
    const held = manager.acquire('m');
    const servable1 = held.servable as unknown as { unloaded: boolean };

    await writeVersion(base('m'), 2);
    const unloading = nextEvent(manager, (e) => e.type === 'version-unloading' && e.version === 1);
    await manager.pollOnce();
    await unloading;
    expect(statesOf(manager, 'm')).toEqual({ 1: 'UNLOADING', 2: 'AVAILABLE' });
    expect(servable1.unloaded).toBe(false);
    expect(servedVersion(manager, 'm')).toBe(2);
    expect(errorOf(() => manager.acquire('m', { version: 1 })).message).toBe('Servable not found for request: Specific(m, 1)');

    held.release();
    held.release(); // harmless
    await manager.idle();
    expect(servable1.unloaded).toBe(true);
    expect(statesOf(manager, 'm')).toEqual({ 1: 'END', 2: 'AVAILABLE' });
  });

  it('unloads anyway after the unload timeout when a handle is never released', async () => {
    await writeVersion(base('m'), 1);
    const manager = newManager({ unloadTimeoutMs: 5000 });
    await manager.reconcile(config(model('m')));
    await manager.idle();
    manager.acquire('m'); // leaked
    await writeVersion(base('m'), 2);
    const unloading = nextEvent(manager, (e) => e.type === 'version-unloading');
    await manager.pollOnce();
    await unloading;
    clock.advance(4999);
    await Promise.resolve();
    expect(loader.liveVersions('m')).toEqual([1, 2]);
    clock.advance(1);
    await manager.idle();
    expect(loader.liveVersions('m')).toEqual([2]);
    expect(records.some((r) => r.level === 'warn' && r.msg.includes('stopped waiting for in-flight') && r.obj.inFlight === 1)).toBe(true);
  });

  it('aborts the load of a version whose directory disappears mid-load', async () => {
    await writeVersion(base('m'), 1);
    const manager = newManager();
    await manager.reconcile(config(model('m')));
    await manager.idle();
    await writeVersion(base('m'), 2);
    const gate = loader.gate('m', 2);
    await manager.pollOnce();
    await gate.reached;
    await removeVersion(base('m'), 2);
    await settle(manager);
    expect(statesOf(manager, 'm')).toEqual({ 1: 'AVAILABLE', 2: 'END' });
    expect(loader.liveVersions('m')).toEqual([1]);
    expect(records.some((r) => r.msg === 'version load aborted' && r.obj.version === 2)).toBe(true);
  });

  describe("when a model's base path moves", () => {
    /** The saved_model.pb a request would be served from. */
    function servedContent(manager: ModelManager, name: string): string {
      const handle = manager.acquire(name);
      handle.release();
      return (handle.servable as unknown as { content: string }).content;
    }

    it('loads a version it already serves again from the new path, and moves requests once the new copy is loaded', async () => {
      await writeVersion(base('old'), 1, 'old graph');
      await writeVersion(base('new'), 1, 'new graph');
      const manager = newManager();
      await manager.reconcile(config(model('m', { basePath: base('old') })));
      await manager.idle();
      const watch = watchAvailability(manager, 'm');
      const held = manager.acquire('m');
      const oldCopy = held.servable as unknown as { unloaded: boolean };
      const reloaded = nextEvent(manager, (e) => e.type === 'version-reloaded');

      const gate = loader.gate('m', 1);
      await manager.reconcile(config(model('m', { basePath: base('new') })));
      await gate.reached;
      expect(statesOf(manager, 'm')).toEqual({ 1: 'AVAILABLE' });
      expect(servedContent(manager, 'm')).toBe('old graph');

      gate.open();
      expect(await reloaded).toMatchObject({ model: 'm', version: 1, origin: join(base('new'), '1') });
      expect(servedContent(manager, 'm')).toBe('new graph');
      expect(oldCopy.unloaded).toBe(false); // still held by a request
      held.release();
      await manager.idle();
      expect(oldCopy.unloaded).toBe(true);
      expect(loader.liveVersions('m')).toEqual([1]);
      expect(statesOf(manager, 'm')).toEqual({ 1: 'AVAILABLE' });
      expect(watch.gaps).toEqual([]);

      await settle(manager); // the new copy is not loaded again
      expect(loader.attemptsOf('m', 1)).toBe(2);
    });

    it('keeps the loaded copy serving while the new one fails, retries with backoff, and gives up until it changes', async () => {
      await writeVersion(base('old'), 1, 'old graph');
      await writeVersion(base('new'), 1, 'fail: corrupt graph');
      const manager = newManager({ maxNumLoadRetries: 1, loadRetryIntervalMs: 100 });
      await manager.reconcile(config(model('m', { basePath: base('old') })));
      await manager.idle();

      await manager.reconcile(config(model('m', { basePath: base('new') })));
      await manager.idle();
      expect(loader.attemptsOf('m', 1)).toBe(2);
      expect(statesOf(manager, 'm')).toEqual({ 1: 'AVAILABLE' });
      expect(servedContent(manager, 'm')).toBe('old graph');
      expect(records.some((r) => r.level === 'warn' && r.msg.startsWith('version reload failed; the loaded copy keeps serving; retry'))).toBe(true);

      clock.advance(100);
      await manager.idle();
      expect(loader.attemptsOf('m', 1)).toBe(3);
      expect(records.some((r) => r.level === 'error' && r.msg.includes('retries exhausted'))).toBe(true);
      clock.advance(60_000);
      await settle(manager);
      expect(loader.attemptsOf('m', 1)).toBe(3);
      expect(servedContent(manager, 'm')).toBe('old graph');

      await writeVersion(base('new'), 1, 'new graph, fixed');
      await settle(manager);
      expect(servedContent(manager, 'm')).toBe('new graph, fixed');
      expect(loader.liveVersions('m')).toEqual([1]);
    });

    it('abandons a reload when the base path moves back', async () => {
      await writeVersion(base('old'), 1, 'old graph');
      await writeVersion(base('new'), 1, 'new graph');
      const manager = newManager();
      await manager.reconcile(config(model('m', { basePath: base('old') })));
      await manager.idle();
      const gate = loader.gate('m', 1);
      await manager.reconcile(config(model('m', { basePath: base('new') })));
      await gate.reached;
      await manager.reconcile(config(model('m', { basePath: base('old') })));
      await manager.idle();
      expect(servedContent(manager, 'm')).toBe('old graph');
      expect(loader.liveVersions('m')).toEqual([1]);
      expect(records.some((r) => r.msg === 'version reload abandoned')).toBe(true);
    });

    it('loads new version numbers as usual, with no reload of the old one', async () => {
      await writeVersion(base('old'), 1, 'old graph');
      await writeVersion(base('new'), 2, 'new graph');
      const manager = newManager();
      await manager.reconcile(config(model('m', { basePath: base('old') })));
      await manager.idle();
      await manager.reconcile(config(model('m', { basePath: base('new') })));
      await manager.idle();
      expect(statesOf(manager, 'm')).toEqual({ 1: 'END', 2: 'AVAILABLE' });
      expect(loader.attemptsOf('m', 1)).toBe(1);
    });
  });

  it('does not load a version again when its content changes in place, and says so once', async () => {
    await writeVersion(base('m'), 1, 'graph');
    const manager = newManager();
    await manager.reconcile(config(model('m')));
    await manager.idle();
    await writeVersion(base('m'), 1, 'graph, edited in place');
    await settle(manager);
    await settle(manager);
    expect(loader.attemptsOf('m', 1)).toBe(1);
    const warnings = records.filter((r) => r.level === 'warn' && r.msg.startsWith('version content changed after it was loaded'));
    expect(warnings.map((r) => r.obj.version)).toEqual([1]);
  });

  it('applies labels only to AVAILABLE versions and moves them when their version becomes AVAILABLE', async () => {
    await writeVersion(base('m'), 1);
    await writeVersion(base('m'), 2);
    const specific = (...versions: number[]): VersionPolicy => ({ kind: 'specific', versions });
    const manager = newManager();
    const gate1 = loader.gate('m', 1);
    await manager.reconcile(config(model('m', { versionPolicy: specific(1, 2), versionLabels: { stable: 1, canary: 2 } })));
    await gate1.reached; // version 2 loaded (newest first), version 1 held
    expect(manager.labels('m')).toEqual({ canary: 2 });
    expect(manager.pendingLabels('m')).toEqual({ stable: 1 });
    const unknown = errorOf(() => manager.acquire('m', { label: 'stable' }));
    expect([unknown.code, unknown.message]).toEqual(['INVALID_ARGUMENT', 'Unrecognized servable version label: stable']);
    gate1.open();
    await manager.idle();
    expect(manager.labels('m')).toEqual({ stable: 1, canary: 2 });
    expect(manager.pendingLabels('m')).toEqual({});
    expect(servedVersion(manager, 'm', { label: 'stable' })).toBe(1);
    expect(servedVersion(manager, 'm', { label: 'canary' })).toBe(2);

    // Move canary to a version that is still loading: it stays on 2 until 3 is AVAILABLE.
    await writeVersion(base('m'), 3);
    const gate3 = loader.gate('m', 3);
    await manager.reconcile(config(model('m', { versionPolicy: specific(1, 2, 3), versionLabels: { stable: 1, canary: 3 } })));
    await gate3.reached;
    expect(manager.labels('m')).toEqual({ stable: 1, canary: 2 });
    expect(manager.pendingLabels('m')).toEqual({ canary: 3 });
    expect(records.some((r) => r.level === 'warn' && r.msg.includes('version label not applied') && r.obj.label === 'canary')).toBe(true);
    gate3.open();
    await manager.idle();
    expect(manager.labels('m')).toEqual({ stable: 1, canary: 3 });

    // Labels removed from the config disappear.
    await manager.reconcile(config(model('m', { versionPolicy: specific(1, 2, 3), versionLabels: { stable: 1 } })));
    expect(manager.labels('m')).toEqual({ stable: 1 });
    expect(errorOf(() => manager.acquire('m', { label: 'canary' })).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => manager.acquire('m', { label: 'stable', version: 1 })).code).toBe('INVALID_ARGUMENT');
  });

  it('with allowVersionLabelsForUnavailableModels, applies a new label to a version not yet AVAILABLE', async () => {
    await writeVersion(base('m'), 1);
    const manager = newManager({ allowVersionLabelsForUnavailableModels: true });
    const gate = loader.gate('m', 1);
    await manager.reconcile(config(model('m', { versionLabels: { stable: 1, future: 9 } })));
    await gate.reached;
    expect(manager.labels('m')).toEqual({ stable: 1, future: 9 });
    const e = errorOf(() => manager.acquire('m', { label: 'stable' }));
    expect([e.code, e.message]).toEqual(['NOT_FOUND', 'Servable not found for request: Specific(m, 1)']);
    gate.open();
    await manager.idle();
    expect(servedVersion(manager, 'm', { label: 'stable' })).toBe(1);
    // An existing label still moves only to an AVAILABLE version.
    await manager.reconcile(config(model('m', { versionLabels: { stable: 5, future: 9 } })));
    expect(manager.labels('m')).toEqual({ stable: 1, future: 9 });
    expect(manager.pendingLabels('m')).toEqual({ stable: 5 });
  });

  it('applies config changes: policy change, model added and removed', async () => {
    for (const v of [1, 2, 3]) await writeVersion(base('a'), v);
    await writeVersion(base('b'), 7);
    const manager = newManager();
    await manager.reconcile(config(model('a')));
    await manager.idle();
    expect(statesOf(manager, 'a')).toEqual({ 3: 'AVAILABLE' });

    await manager.reconcile(config(model('a', { versionPolicy: { kind: 'all' } }), model('b')));
    await manager.idle();
    expect(manager.availableVersions('a')).toEqual([1, 2, 3]);
    expect(manager.availableVersions('b')).toEqual([7]);
    expect(manager.modelNames()).toEqual(['a', 'b']);

    await manager.reconcile(config(model('a', { versionPolicy: { kind: 'specific', versions: [1] } }), model('b')));
    await manager.idle();
    expect(statesOf(manager, 'a')).toEqual({ 1: 'AVAILABLE', 2: 'END', 3: 'END' });
    expect(loader.liveVersions('a')).toEqual([1]);

    const heldB = manager.acquire('b');
    await manager.reconcile(config(model('a', { versionPolicy: { kind: 'specific', versions: [1] } })));
    expect(manager.modelNames()).toEqual(['a']);
    expect(manager.isReady()).toBe(true);
    expect(errorOf(() => manager.acquire('b')).message).toBe('Servable not found for request: Latest(b)');
    expect(errorOf(() => manager.status('b')).message).toBe('Could not find any versions of model b');
    expect(loader.liveVersions('b')).toEqual([7]); // in-flight request still holds it
    heldB.release();
    await manager.idle();
    expect(loader.liveVersions('b')).toEqual([]);

    // Re-adding starts fresh.
    await manager.reconcile(config(model('a', { versionPolicy: { kind: 'specific', versions: [1] } }), model('b')));
    await manager.idle();
    expect(statesOf(manager, 'b')).toEqual({ 7: 'AVAILABLE' });
  });

  it('tells its source when a model leaves the config, so that work for it (a download) stops', async () => {
    await writeVersion(base('a'), 1);
    await writeVersion(base('b'), 1);
    const logger = recordingLogger(records);
    const directory = new DirectorySource({ logger, now: () => Date.now(), settleMs: 0 });
    const forgotten: string[] = [];
    const source = { list: directory.list.bind(directory), forget: (name: string) => void forgotten.push(name) };
    const manager = new ModelManager({ loader, source, logger, clock });
    managers.push(manager);
    await manager.reconcile(config(model('a'), model('b')));
    await manager.reconcile(config(model('a')));
    expect(forgotten).toEqual(['b']);
  });

  it('reports errors the way TF Serving words them', async () => {
    await writeVersion(base('m'), 1);
    const manager = newManager();
    await manager.reconcile(config(model('m')));
    await manager.idle();
    const cases: Array<[() => unknown, string, string]> = [
      [() => manager.acquire('nope'), 'NOT_FOUND', 'Servable not found for request: Latest(nope)'],
      [() => manager.acquire('nope', { version: 3 }), 'NOT_FOUND', 'Servable not found for request: Specific(nope, 3)'],
      [() => manager.acquire('m', { version: 3 }), 'NOT_FOUND', 'Servable not found for request: Specific(m, 3)'],
      [() => manager.acquire('m', { label: 'x' }), 'INVALID_ARGUMENT', 'Unrecognized servable version label: x'],
      [() => manager.status('nope'), 'NOT_FOUND', 'Could not find any versions of model nope'],
      [() => manager.status('m', 3), 'NOT_FOUND', 'Could not find version 3 of model m'],
    ];
    for (const [fn, code, message] of cases) {
      const e = errorOf(fn);
      expect([e.code, e.message]).toEqual([code, message]);
    }
    expect(manager.status('m', 1)).toEqual([{ version: 1, state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' }]);
  });

  it('keeps serving when the base path disappears or lists nothing, and recovers when it returns', async () => {
    const manager = newManager();
    await manager.reconcile(config(model('m')));
    await manager.idle();
    expect(manager.isReady()).toBe(false);
    expect(records.some((r) => r.level === 'warn' && r.msg === 'model versions not listed' && r.obj.model === 'm')).toBe(true);
    await writeVersion(base('m'), 1);
    await settle(manager);
    expect(manager.isReady()).toBe(true);
    await removeVersion(base('m'), 1); // base path empty: nothing aspired, nothing unloaded
    await settle(manager);
    expect(servedVersion(manager, 'm')).toBe(1);
    expect(records.some((r) => r.level === 'warn' && r.msg === 'no complete versions found')).toBe(true);
    await rm(base('m'), { recursive: true });
    await settle(manager);
    expect(servedVersion(manager, 'm')).toBe(1);
    expect(loader.liveVersions('m')).toEqual([1]);
  });

  it('loads one version at a time per model and at most numLoadThreads overall', async () => {
    for (const name of ['a', 'b', 'c']) for (const v of [1, 2, 3]) await writeVersion(base(name), v);
    const all: Partial<ModelConfig> = { versionPolicy: { kind: 'all' } };
    const manager = newManager({ numLoadThreads: 2 });
    await manager.reconcile(config(model('a', all)));
    await manager.idle();
    expect(loader.maxActive).toBe(1); // one model: one at a time despite 2 threads
    expect(loader.attempts).toEqual(['a:3', 'a:2', 'a:1']); // newest first

    // Two models' newest versions held in their loads: both start (2 threads), the third waits.
    // Gated, so the overlap does not depend on how quickly fake loads finish (it once did not
    // happen in a Node 26 run).
    const gates = [loader.gate('b', 3), loader.gate('c', 3)];
    const reconciled = manager.reconcile(config(model('a', all), model('b', all), model('c', all)));
    await Promise.all(gates.map((g) => g.reached));
    expect(loader.active).toBe(2);
    for (const g of gates) g.open();
    await reconciled;
    await manager.idle();
    expect(loader.maxActive).toBe(2);
    expect(manager.availableVersions('c')).toEqual([1, 2, 3]);
  });

  it('polls on its own every pollIntervalMs after start, until the signal aborts', async () => {
    await writeVersion(base('m'), 1);
    const manager = newManager({ pollIntervalMs: 1000 });
    await manager.reconcile(config(model('m')));
    const run = new AbortController();
    await manager.start(run.signal);
    await manager.idle();
    expect(manager.availableVersions('m')).toEqual([1]);

    await writeVersion(base('m'), 2);
    clock.advance(999);
    await manager.idle();
    expect(manager.availableVersions('m')).toEqual([1]);
    clock.advance(1);
    await manager.idle();
    expect(manager.availableVersions('m')).toEqual([2]);

    run.abort();
    await writeVersion(base('m'), 3);
    clock.advance(10_000);
    await manager.idle();
    expect(manager.availableVersions('m')).toEqual([2]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('whenReady resolves once every model has a version', async () => {
    await writeVersion(base('a'), 1);
    await writeVersion(base('b'), 1);
    const manager = newManager({ numLoadThreads: 2 });
    const gate = loader.gate('b', 1);
    const aLoaded = nextEvent(manager, (e) => e.type === 'version-loaded' && e.model === 'a');
    await manager.reconcile(config(model('a'), model('b')));
    let ready = false;
    const waiting = manager.whenReady().then(() => (ready = true));
    await gate.reached;
    await aLoaded;
    await new Promise((resolve) => setImmediate(resolve));
    expect(ready).toBe(false);
    expect(manager.isReady()).toBe(false);
    expect(manager.availableVersions('a')).toEqual([1]);
    gate.open();
    await waiting;
    expect(manager.isReady()).toBe(true);
  });

  it('stop() waits for in-flight requests, then unloads everything', async () => {
    await writeVersion(base('m'), 1);
    const manager = newManager();
    await manager.reconcile(config(model('m')));
    await manager.idle();
    const held = manager.acquire('m');
    let stopped = false;
    const stopping = manager.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    expect(loader.liveVersions('m')).toEqual([1]);
    held.release();
    await stopping;
    expect(loader.liveVersions('m')).toEqual([]);
    expect(statesOf(manager, 'm')).toEqual({ 1: 'END' });
  });
});
