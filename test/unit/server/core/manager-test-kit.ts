import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManagerClock, ManagerEvent, ModelManager } from '../../../../src/server/core/model-manager.js';
import type { Logger } from '../../../../src/server/core/logger.js';
import type { Servable, ServableLoader } from '../../../../src/server/core/servable.js';
import { ServingError } from '../../../../src/shared/errors.js';

/** Timers that run only when the test advances time. */
export class FakeClock implements ManagerClock {
  private time = 1_000_000;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now = (): number => this.time;
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return id;
  };
  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };
  get pendingTimers(): number {
    return this.timers.size;
  }
  /** Moves time forward, running due timers in time order. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
    }
    this.time = target;
  }
}

export class FakeServable implements Servable {
  readonly signatures = {};
  unloaded = false;
  constructor(
    readonly model: string,
    readonly version: number,
    private readonly onUnload: (s: FakeServable) => void,
    /** The saved_model.pb it was loaded from, to tell copies of one version apart. */
    readonly content = '',
  ) {}
  run(): Promise<Record<string, never>> {
    if (this.unloaded) return Promise.reject(new Error('ran an unloaded servable'));
    return Promise.resolve({});
  }
  unload(): Promise<void> {
    this.unloaded = true;
    this.onUnload(this);
    return Promise.resolve();
  }
}

interface Gate {
  open(): void;
  /** Resolves when a load has reached the gate (is in progress and blocked). */
  readonly reached: Promise<void>;
}

/**
 * A loader for lifecycle tests: reads the version's saved_model.pb; content starting with "fail"
 * makes the load fail. Loads can be held at a gate to observe the world mid-load.
 */
export class DirectoryFakeLoader implements ServableLoader {
  readonly attempts: string[] = [];
  readonly live = new Set<FakeServable>();
  active = 0;
  maxActive = 0;
  private readonly gates = new Map<string, { promise: Promise<void>; reached: () => void }>();

  gate(model: string, version: number): Gate {
    let open!: () => void;
    let reached!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
    this.gates.set(`${model}:${version}`, { promise, reached });
    return {
      open: () => {
        this.gates.delete(`${model}:${version}`);
        open();
      },
      reached: reachedPromise,
    };
  }

  attemptsOf(model: string, version: number): number {
    return this.attempts.filter((a) => a === `${model}:${version}`).length;
  }

  liveVersions(model: string): number[] {
    return [...this.live].filter((s) => s.model === model).map((s) => s.version).sort((a, b) => a - b);
  }

  async load(model: string, version: number, path: string, signal: AbortSignal): Promise<Servable> {
    const key = `${model}:${version}`;
    this.attempts.push(key);
    this.active += 1;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      const gate = this.gates.get(key);
      if (gate !== undefined) {
        gate.reached();
        await new Promise<void>((resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
          void gate.promise.then(resolve);
        });
      }
      const content = await readFile(join(path, 'saved_model.pb'), 'utf8');
      if (content.startsWith('fail')) throw new ServingError('INVALID_ARGUMENT', `cannot load ${model} version ${version}: ${content}`);
      const servable = new FakeServable(model, version, (s) => this.live.delete(s), content);
      this.live.add(servable);
      return servable;
    } finally {
      this.active -= 1;
    }
  }
}

export async function writeVersion(base: string, version: number | string, content = 'graph'): Promise<void> {
  const dir = join(base, String(version));
  await mkdir(join(dir, 'variables'), { recursive: true });
  await writeFile(join(dir, 'variables', 'variables.data-00000-of-00001'), 'weights');
  await writeFile(join(dir, 'variables', 'variables.index'), 'index');
  await writeFile(join(dir, 'saved_model.pb'), content);
}

export async function removeVersion(base: string, version: number): Promise<void> {
  await rm(join(base, String(version)), { recursive: true, force: true });
}

/** Resolves with the first event matching the predicate. */
export function nextEvent(manager: ModelManager, predicate: (e: ManagerEvent) => boolean): Promise<ManagerEvent> {
  return new Promise((resolve) => {
    const unsubscribe = manager.subscribe((e) => {
      if (!predicate(e)) return;
      unsubscribe();
      resolve(e);
    });
  });
}

export interface LogRecord {
  level: 'info' | 'warn' | 'error' | 'debug';
  msg: string;
  obj: Record<string, unknown>;
}

/** A pino-shaped logger that keeps records (with child bindings merged) for assertions. */
export function recordingLogger(records: LogRecord[] = [], bindings: Record<string, unknown> = {}): Logger & { records: LogRecord[] } {
  const at =
    (level: LogRecord['level']) =>
    (obj: object | string, msg?: string): void => {
      if (typeof obj === 'string') records.push({ level, msg: obj, obj: { ...bindings } });
      else records.push({ level, msg: msg ?? '', obj: { ...bindings, ...(obj as Record<string, unknown>) } });
    };
  return {
    records,
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    debug: at('debug'),
    child: (more) => recordingLogger(records, { ...bindings, ...more }),
  };
}
