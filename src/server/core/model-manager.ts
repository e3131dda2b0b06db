import { invalidArgument, notFound, toServingError, type ServingError } from '../../shared/errors.js';
import { LISTING_FAILS } from '../../shared/model-status-text.js';
import type { ModelConfig, ModelServerConfig } from '../config/model-config.js';
import { LoadSlots } from './load-slots.js';
import type { Logger } from './logger.js';
import type { Servable, ServableLoader } from './servable.js';
import { InFlightCounter, type ServableHandle, type VersionSelector } from './servable-handle.js';
import { aspiredVersions } from './version-policy.js';
import type { SourceListing, SourceVersion, VersionSource } from './version-source.js';
import type { ModelVersionStatus, VersionState } from './version-state.js';

/** Time and timers, injected so tests drive them (main passes Date.now / setTimeout). */
export interface ManagerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type ManagerEvent =
  | { readonly type: 'version-loading'; readonly model: string; readonly version: number; readonly attempt: number }
  | { readonly type: 'version-loaded'; readonly model: string; readonly version: number; readonly durationMs: number }
  | {
      readonly type: 'version-load-failed';
      readonly model: string;
      readonly version: number;
      readonly durationMs: number;
      readonly attempt: number;
      /** False when retries are exhausted: the version stays failed until its directory changes. */
      readonly willRetry: boolean;
      readonly error: ServingError;
    }
  | { readonly type: 'version-load-aborted'; readonly model: string; readonly version: number }
  /** An AVAILABLE version loaded again from its new origin (its base path moved); see `reload`. */
  | { readonly type: 'version-reloaded'; readonly model: string; readonly version: number; readonly durationMs: number; readonly origin: string }
  | { readonly type: 'version-unloading'; readonly model: string; readonly version: number }
  | { readonly type: 'version-unloaded'; readonly model: string; readonly version: number; readonly durationMs: number }
  | { readonly type: 'label-applied'; readonly model: string; readonly label: string; readonly version: number }
  | { readonly type: 'label-not-applied'; readonly model: string; readonly label: string; readonly version: number; readonly reason: string }
  | { readonly type: 'source-failed'; readonly model: string; readonly error: ServingError };

export type ManagerListener = (event: ManagerEvent) => void;

export interface ModelManagerOptions {
  readonly loader: ServableLoader;
  readonly source: VersionSource;
  readonly logger: Logger;
  readonly clock: ManagerClock;
  /** file_system_poll_wait_seconds × 1000. <= 0: list once at start, never again. Default 1000. */
  readonly pollIntervalMs?: number;
  /** Loads running at once across all models (num_load_threads). Default 1. */
  readonly numLoadThreads?: number;
  /** Retries after a failed load (max_num_load_retries). Default 5. */
  readonly maxNumLoadRetries?: number;
  /** First retry delay; doubles per failure up to maxLoadRetryIntervalMs. Default 5000. */
  readonly loadRetryIntervalMs?: number;
  /** Default 60000. */
  readonly maxLoadRetryIntervalMs?: number;
  /** How long an unload waits for in-flight requests before unloading anyway. Default 30000. */
  readonly unloadTimeoutMs?: number;
  /** TF Serving's --allow_version_labels_for_unavailable_models. Default false. */
  readonly allowVersionLabelsForUnavailableModels?: boolean;
}

/** Internal lifecycle phases; `stateOf` maps them to the public states. */
type Phase = 'queued' | 'loading' | 'retry-wait' | 'available' | 'unloading' | 'unloaded' | 'failed';

const STATE_OF: Record<Phase, VersionState> = {
  queued: 'START',
  loading: 'LOADING',
  'retry-wait': 'LOADING',
  available: 'AVAILABLE',
  unloading: 'UNLOADING',
  unloaded: 'END',
  failed: 'END',
};

interface VersionEntry {
  readonly version: number;
  phase: Phase;
  error?: ServingError;
  /** What the current/last load attempt read. */
  source?: SourceVersion;
  servable?: Servable;
  /** Requests holding `servable` (replaced along with it by a reload). */
  inFlight: InFlightCounter;
  abort?: AbortController;
  /** Consecutive failed attempts since the last success or content change. */
  failures: number;
  retryAt?: number;
  retryTimer?: unknown;
  /** Loading this AVAILABLE version again from a new origin, while the loaded copy serves. */
  reload?: Reload;
  /** The last changed fingerprint warned about (content changed at the same origin after the load). */
  warnedFingerprint?: string;
}

/** A reload of an AVAILABLE version from a new origin: its attempts, as a load's. */
interface Reload {
  readonly source: SourceVersion;
  abort?: AbortController;
  failures: number;
  retryAt?: number;
  retryTimer?: unknown;
  /** Retries exhausted: not tried again until the listing offers other content or another origin. */
  gaveUp: boolean;
}

interface ModelEntry {
  readonly name: string;
  /** undefined once removed from the config; the entry lives on until its versions are unloaded. */
  config: ModelConfig | undefined;
  listing?: SourceListing;
  sourceError?: string;
  readonly versions: Map<number, VersionEntry>;
  /** Labels in effect. */
  readonly labels: Map<string, number>;
  /** Configured labels not in effect, with the version they wait for (logged once per change). */
  readonly pendingLabels: Map<string, number>;
}

/**
 * Holds every configured model's versions and moves each through START → LOADING → AVAILABLE →
 * UNLOADING → END, TensorFlow Serving's AspiredVersionsManager with its availability-preserving
 * policy:
 *
 * - Each poll lists every model's source and computes its aspired versions (version-policy.ts).
 * - Aspired versions that are not loaded are loaded one at a time per model, newest first, at
 *   most `numLoadThreads` at once overall.
 * - A loaded version that is no longer aspired is unloaded only once some aspired version is
 *   AVAILABLE, so a model that serves never stops serving because of a new version, a failed
 *   load, a policy change or a deleted directory. (Deleting the newest version makes the previous
 *   one aspired: it is loaded first, then the deleted one is unloaded.) An empty or failing
 *   listing therefore leaves what is loaded serving. Only removing the model from the config or
 *   stop() unloads a model's last version.
 * - A failed load is retried with exponential backoff up to `maxNumLoadRetries` times; after that
 *   the version stays END with its error until its content (the source's fingerprint) changes.
 * - A version that stops being aspired while queued or loading has its load aborted.
 * - An unload waits for in-flight handles (up to `unloadTimeoutMs`).
 * - A version is immutable once loaded: content that changes in place is not loaded again (a
 *   warning says to publish a new version number, as TF Serving expects). But when the listing
 *   offers an AVAILABLE version from another origin (the model's base path moved to another
 *   directory or S3 prefix), that copy is loaded next to the serving one, requests move to it
 *   once it is loaded, and the old copy unloads after its requests end. A failed reload is
 *   retried like a load while the old copy keeps serving.
 *
 * Labels (`version_labels`) take effect, as in TF Serving, only when their version is AVAILABLE;
 * with `allowVersionLabelsForUnavailableModels` a *new* label may point at any version, but an
 * existing label still moves only to an AVAILABLE version. Unlike TF Serving, which rejects the
 * whole config when a label cannot be applied, the rest of the config is applied, the label keeps
 * its previous version (or stays absent), a warning is logged and `pendingLabels()` reports it;
 * it takes effect as soon as its version becomes AVAILABLE.
 */
export class ModelManager {
  private readonly loader: ServableLoader;
  private readonly source: VersionSource;
  private readonly logger: Logger;
  private readonly clock: ManagerClock;
  private readonly pollIntervalMs: number;
  private readonly maxNumLoadRetries: number;
  private readonly loadRetryIntervalMs: number;
  private readonly maxLoadRetryIntervalMs: number;
  private readonly unloadTimeoutMs: number;
  private readonly allowUnavailableLabels: boolean;
  private readonly slots: LoadSlots;

  private readonly models = new Map<string, ModelEntry>();
  private readonly listeners = new Set<ManagerListener>();
  private readonly pending = new Set<Promise<unknown>>();
  private pollChain: Promise<void> = Promise.resolve();
  private pollTimer: unknown;
  private started = false;
  private stopped = false;
  /** Aborts source listings on stop(). */
  private readonly lifetime = new AbortController();

  constructor(options: ModelManagerOptions) {
    this.loader = options.loader;
    this.source = options.source;
    this.logger = options.logger;
    this.clock = options.clock;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.maxNumLoadRetries = options.maxNumLoadRetries ?? 5;
    this.loadRetryIntervalMs = options.loadRetryIntervalMs ?? 5000;
    this.maxLoadRetryIntervalMs = options.maxLoadRetryIntervalMs ?? 60_000;
    this.unloadTimeoutMs = options.unloadTimeoutMs ?? 30_000;
    this.allowUnavailableLabels = options.allowVersionLabelsForUnavailableModels ?? false;
    this.slots = new LoadSlots(options.numLoadThreads ?? 1);
  }

  // ─── Configuration and polling ───────────────────────────────────────────────────────────

  /**
   * Applies a (new) config: adds models, retires removed ones (their versions unload), and takes
   * new policies, labels and routing into account. Resolves after the resulting poll has listed
   * the sources and started the transitions (use idle() to wait for loads to finish).
   */
  reconcile(config: ModelServerConfig): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const wanted = new Map(config.models.map((m) => [m.name, m]));
    for (const [name, entry] of this.models) {
      if (!wanted.has(name) && entry.config !== undefined) {
        entry.config = undefined;
        this.source.forget?.(name);
        this.logger.info({ model: name }, 'model removed from config');
        this.step(entry);
      }
    }
    for (const [name, config] of wanted) {
      const entry = this.models.get(name);
      if (entry === undefined) {
        this.models.set(name, { name, config, versions: new Map(), labels: new Map(), pendingLabels: new Map() });
        this.logger.info({ model: name, basePath: config.basePath }, 'model added to config');
      } else {
        entry.config = config;
        this.step(entry);
      }
    }
    return this.pollOnce();
  }

  /**
   * Lists every model's source once and applies the result. Polls never overlap: a call made
   * during a poll runs after it. Tests drive the manager with this instead of timers.
   */
  pollOnce(): Promise<void> {
    const run = this.pollChain.then(() => this.poll());
    this.pollChain = run;
    return this.track(run);
  }

  /**
   * Starts polling: one poll now (resolved when its transitions have started), then one every
   * `pollIntervalMs` after the previous ended, until `signal` aborts or stop() is called.
   */
  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new Error('ModelManager already started');
    this.started = true;
    const schedule = (): void => {
      if (signal.aborted || this.stopped || this.pollIntervalMs <= 0) return;
      this.pollTimer = this.clock.setTimeout(() => {
        this.pollTimer = undefined;
        this.pollOnce().then(schedule, schedule);
      }, this.pollIntervalMs);
    };
    signal.addEventListener('abort', () => this.clearPollTimer(), { once: true });
    await this.pollOnce();
    schedule();
  }

  private clearPollTimer(): void {
    if (this.pollTimer !== undefined) this.clock.clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    const live = [...this.models.values()].filter((m) => m.config !== undefined);
    await Promise.all(live.map((m) => this.pollModel(m)));
  }

  private async pollModel(m: ModelEntry): Promise<void> {
    const config = m.config;
    if (config === undefined) return;
    let listing: SourceListing;
    try {
      listing = await this.source.list(config, this.lifetime.signal);
    } catch (error) {
      if (this.stopped) return;
      const e = toServingError(error);
      if (m.sourceError !== e.message) {
        m.sourceError = e.message;
        this.logger.warn({ model: m.name, basePath: config.basePath, err: e }, 'model versions not listed');
        this.emit({ type: 'source-failed', model: m.name, error: e });
      }
      return;
    }
    if (m.sourceError !== undefined) {
      this.logger.info({ model: m.name }, 'model versions listed again');
      m.sourceError = undefined;
    }
    if (listing.size === 0 && m.listing?.size !== 0) {
      this.logger.warn({ model: m.name, basePath: config.basePath }, 'no complete versions found');
    }
    m.listing = listing;
    this.step(m);
  }

  // ─── The transition step (level-triggered: safe to run any time) ────────────────────────────

  private step(m: ModelEntry): void {
    if (this.stopped || m.config === undefined) {
      this.retire(m);
      return;
    }
    const listing = m.listing;
    if (listing !== undefined) {
      const aspired = new Set(aspiredVersions(m.config.versionPolicy, [...listing.keys()]));
      this.stopUnaspiredLoads(m, aspired, listing);
      this.stopUnwantedReloads(m, aspired, listing);
      this.startNextLoad(m, aspired, listing);
      this.startNextReload(m, aspired, listing);
      this.unloadUnaspired(m, aspired);
    }
    this.updateLabels(m);
  }

  private stopUnaspiredLoads(m: ModelEntry, aspired: ReadonlySet<number>, listing: SourceListing): void {
    for (const e of m.versions.values()) {
      if (aspired.has(e.version)) continue;
      if (e.phase === 'queued' || e.phase === 'loading') e.abort?.abort(new Error('version no longer aspired'));
      if (e.phase === 'retry-wait') {
        this.clearRetry(e);
        e.phase = 'unloaded';
        e.error = undefined;
      }
      if (e.phase === 'failed' && listing.get(e.version)?.fingerprint !== e.source?.fingerprint) {
        // Gone or changed: forget the failure, so a re-published version gets fresh attempts.
        e.phase = 'unloaded';
        e.error = undefined;
        e.failures = 0;
      }
    }
  }

  /** One load or reload at a time per model. */
  private busy(m: ModelEntry): boolean {
    return [...m.versions.values()].some((e) => e.phase === 'queued' || e.phase === 'loading' || e.reload?.abort !== undefined);
  }

  private startNextLoad(m: ModelEntry, aspired: ReadonlySet<number>, listing: SourceListing): void {
    if (this.busy(m)) return;
    const now = this.clock.now();
    for (const version of [...aspired].sort((a, b) => b - a)) {
      const sv = listing.get(version)!;
      const e = m.versions.get(version);
      if (e?.phase === 'failed') {
        if (e.source?.fingerprint === sv.fingerprint) continue;
        e.failures = 0; // new content: fresh attempts
      } else if (e?.phase === 'retry-wait') {
        if (e.retryAt !== undefined && e.retryAt > now) continue;
        if (e.source?.fingerprint !== sv.fingerprint) e.failures = 0;
      } else if (e !== undefined && e.phase !== 'unloaded') {
        continue; // available or unloading
      }
      this.load(m, e ?? this.newEntry(m, version), sv);
      return;
    }
  }

  private unloadUnaspired(m: ModelEntry, aspired: ReadonlySet<number>): void {
    const aspiredServing = [...aspired].some((v) => m.versions.get(v)?.phase === 'available');
    if (!aspiredServing) return;
    for (const e of m.versions.values()) {
      if (e.phase === 'available' && !aspired.has(e.version)) this.unload(m, e);
    }
  }

  /** Ends reloads the listing no longer asks for: the version left, or its origin changed again. */
  private stopUnwantedReloads(m: ModelEntry, aspired: ReadonlySet<number>, listing: SourceListing): void {
    for (const e of m.versions.values()) {
      const r = e.reload;
      if (r === undefined) continue;
      const listed = listing.get(e.version);
      if (aspired.has(e.version) && listed !== undefined && sameSource(listed, r.source)) continue;
      this.endReload(e, 'the version is no longer listed from that origin');
    }
  }

  /**
   * Starts reloading an AVAILABLE version the listing offers from another origin than the one it
   * was loaded from (its model's base path moved). Content changed at the same origin is only
   * warned about.
   */
  private startNextReload(m: ModelEntry, aspired: ReadonlySet<number>, listing: SourceListing): void {
    if (this.busy(m)) return;
    const now = this.clock.now();
    for (const version of [...aspired].sort((a, b) => b - a)) {
      const e = m.versions.get(version);
      const listed = listing.get(version);
      if (e?.phase !== 'available' || e.source === undefined || listed === undefined) continue;
      if (listed.origin === e.source.origin) {
        if (listed.fingerprint !== e.source.fingerprint && e.warnedFingerprint !== listed.fingerprint) {
          e.warnedFingerprint = listed.fingerprint;
          this.logger.warn(
            { model: m.name, version, path: listed.path },
            'version content changed after it was loaded; serving the loaded copy (publish a new version number instead)',
          );
        }
        continue;
      }
      const r = e.reload;
      if (r?.gaveUp === true) continue;
      if (r?.retryAt !== undefined && r.retryAt > now) continue;
      this.reload(m, e, listed);
      return;
    }
  }

  /** Loads a new copy of an AVAILABLE version; once loaded it takes the requests, and the old copy unloads. */
  private reload(m: ModelEntry, e: VersionEntry, sv: SourceVersion): void {
    const r: Reload = e.reload !== undefined && sameSource(e.reload.source, sv) ? e.reload : { source: sv, failures: 0, gaveUp: false };
    clearTimer(this.clock, r);
    const abort = new AbortController();
    r.abort = abort;
    e.reload = r;
    const attempt = r.failures + 1;
    const from = e.source?.origin;
    const log = this.logger.child({ model: m.name, version: e.version });
    const run = async (): Promise<void> => {
      const started = this.clock.now();
      try {
        const servable = await this.loadInSlot(m, e.version, sv, abort.signal, log, () => {
          log.info({ path: sv.path, from, to: sv.origin, attempt }, 'version reloading from its new origin');
          this.emit({ type: 'version-loading', model: m.name, version: e.version, attempt });
        });
        if (e.phase !== 'available') {
          await this.unloadQuietly(servable, log);
          throw new Error('version no longer available');
        }
        const previous = { servable: e.servable, inFlight: e.inFlight };
        e.servable = servable;
        e.inFlight = new InFlightCounter();
        e.source = sv;
        e.reload = undefined;
        e.warnedFingerprint = undefined;
        const durationMs = this.clock.now() - started;
        log.info({ durationMs, origin: sv.origin }, 'version reloaded; the previous copy unloads once its requests end');
        this.emit({ type: 'version-reloaded', model: m.name, version: e.version, durationMs, origin: sv.origin });
        void this.track(this.unloadCopy(previous.servable, previous.inFlight, log));
      } catch (error) {
        if (abort.signal.aborted || e.phase !== 'available') {
          if (e.reload === r) e.reload = undefined;
          log.info({ reason: String((abort.signal.reason as Error)?.message ?? abort.signal.reason) }, 'version reload abandoned');
        } else {
          this.reloadFailed(m, e, r, toServingError(error), attempt, this.clock.now() - started, log);
        }
      } finally {
        r.abort = undefined;
        this.step(m);
      }
    };
    void this.track(run());
  }

  private reloadFailed(m: ModelEntry, e: VersionEntry, r: Reload, error: ServingError, attempt: number, durationMs: number, log: Logger): void {
    r.failures = attempt;
    const willRetry = attempt <= this.maxNumLoadRetries;
    this.emit({ type: 'version-load-failed', model: m.name, version: e.version, durationMs, attempt, willRetry, error });
    if (!willRetry) {
      r.gaveUp = true;
      log.error({ err: error, attempt, origin: r.source.origin }, 'version reload failed; the loaded copy keeps serving; retries exhausted until the version changes');
      return;
    }
    const delay = this.retryDelay(attempt);
    r.retryAt = this.clock.now() + delay;
    r.retryTimer = this.clock.setTimeout(() => {
      r.retryTimer = undefined;
      this.step(m);
    }, delay);
    log.warn({ err: error, attempt, origin: r.source.origin, retryInMs: delay }, 'version reload failed; the loaded copy keeps serving; retry scheduled');
  }

  private endReload(e: VersionEntry, reason: string): void {
    const r = e.reload;
    if (r === undefined) return;
    clearTimer(this.clock, r);
    r.abort?.abort(new Error(reason));
    e.reload = undefined;
  }

  /** The model left the config (or the manager stops): everything goes, availability aside. */
  private retire(m: ModelEntry): void {
    for (const e of m.versions.values()) {
      if (e.phase === 'queued' || e.phase === 'loading') e.abort?.abort(new Error('model removed'));
      else if (e.phase === 'retry-wait') {
        this.clearRetry(e);
        e.phase = 'unloaded';
      } else if (e.phase === 'available') this.unload(m, e);
    }
    const settled = [...m.versions.values()].every((e) => e.phase === 'unloaded' || e.phase === 'failed');
    if (settled && m.config === undefined && this.models.get(m.name) === m) this.models.delete(m.name);
  }

  private newEntry(m: ModelEntry, version: number): VersionEntry {
    const e: VersionEntry = { version, phase: 'unloaded', inFlight: new InFlightCounter(), failures: 0 };
    m.versions.set(version, e);
    return e;
  }

  private load(m: ModelEntry, e: VersionEntry, sv: SourceVersion): void {
    this.clearRetry(e);
    const abort = new AbortController();
    e.abort = abort;
    e.phase = 'queued';
    e.source = sv;
    const attempt = e.failures + 1;
    const log = this.logger.child({ model: m.name, version: e.version });
    const run = async (): Promise<void> => {
      const started = this.clock.now();
      try {
        const servable = await this.loadInSlot(m, e.version, sv, abort.signal, log, () => {
          e.phase = 'loading';
          log.info({ path: sv.path, attempt }, 'version loading started');
          this.emit({ type: 'version-loading', model: m.name, version: e.version, attempt });
        });
        const durationMs = this.clock.now() - started;
        e.servable = servable;
        e.phase = 'available';
        e.error = undefined;
        e.failures = 0;
        log.info({ durationMs }, 'version loaded');
        this.emit({ type: 'version-loaded', model: m.name, version: e.version, durationMs });
      } catch (error) {
        if (abort.signal.aborted) {
          e.phase = 'unloaded';
          e.error = undefined;
          log.info({ reason: String((abort.signal.reason as Error)?.message ?? abort.signal.reason) }, 'version load aborted');
          this.emit({ type: 'version-load-aborted', model: m.name, version: e.version });
        } else {
          this.loadFailed(m, e, toServingError(error), attempt, this.clock.now() - started, log);
        }
      } finally {
        e.abort = undefined;
        this.step(m);
      }
    };
    void this.track(run());
  }

  /**
   * Loads `sv` once a load slot is free (`onStart` runs when it begins). A servable that finishes
   * loading after `signal` aborted is unloaded, and the abort reason thrown.
   */
  private async loadInSlot(m: ModelEntry, version: number, sv: SourceVersion, signal: AbortSignal, log: Logger, onStart: () => void): Promise<Servable> {
    const release = await this.slots.acquire(signal);
    let servable: Servable;
    try {
      onStart();
      servable = await this.loader.load(m.name, version, sv.path, signal);
    } finally {
      release();
    }
    if (signal.aborted) {
      await this.unloadQuietly(servable, log);
      throw signal.reason;
    }
    return servable;
  }

  private loadFailed(m: ModelEntry, e: VersionEntry, error: ServingError, attempt: number, durationMs: number, log: Logger): void {
    e.failures = attempt;
    e.error = error;
    const willRetry = attempt <= this.maxNumLoadRetries;
    this.emit({ type: 'version-load-failed', model: m.name, version: e.version, durationMs, attempt, willRetry, error });
    if (!willRetry) {
      e.phase = 'failed';
      log.error({ err: error, attempt }, 'version load failed; retries exhausted until the version changes');
      return;
    }
    const delay = this.retryDelay(attempt);
    e.phase = 'retry-wait';
    e.retryAt = this.clock.now() + delay;
    e.retryTimer = this.clock.setTimeout(() => {
      e.retryTimer = undefined;
      this.step(m);
    }, delay);
    log.warn({ err: error, attempt, retryInMs: delay }, 'version load failed; retry scheduled');
  }

  /** Backoff before retry `attempt` + 1: doubling from loadRetryIntervalMs up to the maximum. */
  private retryDelay(attempt: number): number {
    return Math.min(this.loadRetryIntervalMs * 2 ** (attempt - 1), this.maxLoadRetryIntervalMs);
  }

  private clearRetry(e: VersionEntry): void {
    clearTimer(this.clock, e);
  }

  private unload(m: ModelEntry, e: VersionEntry): void {
    this.endReload(e, 'the version is unloading');
    e.phase = 'unloading';
    const log = this.logger.child({ model: m.name, version: e.version });
    this.emit({ type: 'version-unloading', model: m.name, version: e.version });
    const started = this.clock.now();
    const run = async (): Promise<void> => {
      await this.unloadCopy(e.servable, e.inFlight, log);
      e.servable = undefined;
      e.phase = 'unloaded';
      const durationMs = this.clock.now() - started;
      log.info({ durationMs }, 'version unloaded');
      this.emit({ type: 'version-unloaded', model: m.name, version: e.version, durationMs });
      this.step(m);
    };
    void this.track(run());
  }

  /** Unloads a servable once the requests holding it end (or after the unload timeout). */
  private async unloadCopy(servable: Servable | undefined, inFlight: InFlightCounter, log: Logger): Promise<void> {
    if (inFlight.size > 0) {
      let timer: unknown;
      const timedOut = await Promise.race([
        inFlight.drained().then(() => false),
        new Promise<boolean>((resolve) => {
          timer = this.clock.setTimeout(() => resolve(true), this.unloadTimeoutMs);
        }),
      ]);
      this.clock.clearTimeout(timer);
      if (timedOut) log.warn({ inFlight: inFlight.size, timeoutMs: this.unloadTimeoutMs }, 'version unload stopped waiting for in-flight requests');
    }
    if (servable !== undefined) await this.unloadQuietly(servable, log);
  }

  private async unloadQuietly(servable: Servable, log: Logger): Promise<void> {
    try {
      await servable.unload();
    } catch (error) {
      log.error({ err: toServingError(error) }, 'version unload failed');
    }
  }

  private updateLabels(m: ModelEntry): void {
    const configured = m.config?.versionLabels ?? {};
    for (const label of [...m.labels.keys()]) if (!Object.hasOwn(configured, label)) m.labels.delete(label);
    for (const label of [...m.pendingLabels.keys()]) if (!Object.hasOwn(configured, label)) m.pendingLabels.delete(label);
    for (const [label, version] of Object.entries(configured)) {
      const current = m.labels.get(label);
      if (current === version) {
        m.pendingLabels.delete(label);
        continue;
      }
      const available = m.versions.get(version)?.phase === 'available';
      if (available || (this.allowUnavailableLabels && current === undefined)) {
        m.labels.set(label, version);
        m.pendingLabels.delete(label);
        this.logger.info({ model: m.name, label, version }, 'version label applied');
        this.emit({ type: 'label-applied', model: m.name, label, version });
      } else if (m.pendingLabels.get(label) !== version) {
        m.pendingLabels.set(label, version);
        const reason = `version ${version} of model ${m.name} is not currently available for inference`;
        this.logger.warn({ model: m.name, label, version, currentVersion: current }, 'version label not applied yet: version not available');
        this.emit({ type: 'label-not-applied', model: m.name, label, version, reason });
      }
    }
  }

  // ─── Requests ───────────────────────────────────────────────────────────────────────────

  /**
   * Holds a version for one request; release the handle when done. No version and no label: the
   * highest AVAILABLE version (a router passes its choice as an explicit version). Errors mirror
   * TensorFlow Serving: NOT_FOUND "Servable not found for request: Specific(name, v)" /
   * "Latest(name)" for unknown models and versions not AVAILABLE; INVALID_ARGUMENT
   * "Unrecognized servable version label: x" for labels not in effect.
   */
  acquire(model: string, selector: VersionSelector = {}): ServableHandle {
    if (selector.version !== undefined && selector.label !== undefined) {
      throw invalidArgument('set either a version or a version label, not both');
    }
    const m = this.models.get(model);
    const live = m !== undefined && m.config !== undefined ? m : undefined;
    let version = selector.version;
    if (selector.label !== undefined) {
      version = live?.labels.get(selector.label);
      if (version === undefined) throw invalidArgument(`Unrecognized servable version label: ${selector.label}`);
    }
    let entry: VersionEntry | undefined;
    if (version !== undefined) {
      const e = live?.versions.get(version);
      if (e?.phase === 'available') entry = e;
      if (entry === undefined) throw notFound(`Servable not found for request: Specific(${model}, ${version})`);
    } else {
      for (const e of live?.versions.values() ?? []) {
        if (e.phase === 'available' && (entry === undefined || e.version > entry.version)) entry = e;
      }
      if (entry === undefined) throw notFound(`Servable not found for request: Latest(${model})`);
    }
    const release = entry.inFlight.enter();
    return { model, version: entry.version, servable: entry.servable!, release };
  }

  /** AVAILABLE versions of a model, ascending (empty for unknown models). For the router. */
  availableVersions(model: string): number[] {
    const m = this.liveModel(model);
    if (m === undefined) return [];
    return [...m.versions.values()]
      .filter((e) => e.phase === 'available')
      .map((e) => e.version)
      .sort((a, b) => a - b);
  }

  /**
   * GetModelStatus: every version the manager knows, highest first (as TF Serving lists them).
   * NOT_FOUND "Could not find any versions of model X" / "Could not find version V of model X".
   */
  status(model: string, version?: number): ModelVersionStatus[] {
    const m = this.liveModel(model);
    const entries = m === undefined ? [] : [...m.versions.values()];
    if (entries.length === 0) {
      // TF Serving's message, plus why: the source cannot be listed (an S3 error, a missing path), or what it found.
      const note = m?.config !== undefined ? this.source.explain?.(m.config) : undefined;
      const why = m?.sourceError !== undefined ? `${LISTING_FAILS}${m.sourceError}` : note !== undefined ? `; ${note}` : '';
      throw notFound(`Could not find any versions of model ${model}${why}`);
    }
    const selected = version === undefined ? entries : entries.filter((e) => e.version === version);
    if (selected.length === 0) throw notFound(`Could not find version ${version} of model ${model}`);
    return selected
      .sort((a, b) => b.version - a.version)
      .map((e) => ({
        version: e.version,
        state: STATE_OF[e.phase],
        errorCode: e.error !== undefined && (e.phase === 'failed' || e.phase === 'retry-wait') ? e.error.code : 'OK',
        errorMessage: e.error !== undefined && (e.phase === 'failed' || e.phase === 'retry-wait') ? e.error.message : '',
      }));
  }

  /** True when every configured model has at least one AVAILABLE version. */
  isReady(): boolean {
    for (const m of this.models.values()) {
      if (m.config === undefined) continue;
      if (![...m.versions.values()].some((e) => e.phase === 'available')) return false;
    }
    return true;
  }

  /** Resolves when isReady() becomes true; rejects with the signal's reason when it aborts. */
  whenReady(signal?: AbortSignal): Promise<void> {
    if (this.isReady()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        unsubscribe();
        const reason: unknown = signal?.reason;
        reject(reason instanceof Error ? reason : new Error(String(reason)));
      };
      const unsubscribe = this.subscribe(() => {
        if (!this.isReady()) return;
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Configured model names, sorted. */
  modelNames(): string[] {
    return [...this.models.values()]
      .filter((m) => m.config !== undefined)
      .map((m) => m.name)
      .sort();
  }

  /** The model's config as last reconciled (routing, labels, policy), or undefined. */
  modelConfig(model: string): ModelConfig | undefined {
    return this.liveModel(model)?.config;
  }

  /** Labels in effect: label → version. */
  labels(model: string): Record<string, number> {
    return Object.fromEntries(this.liveModel(model)?.labels ?? []);
  }

  /** Configured labels not (yet) in effect because their version is not AVAILABLE: label → wanted version. */
  pendingLabels(model: string): Record<string, number> {
    return Object.fromEntries(this.liveModel(model)?.pendingLabels ?? []);
  }

  private liveModel(model: string): ModelEntry | undefined {
    const m = this.models.get(model);
    return m?.config !== undefined ? m : undefined;
  }

  // ─── Events, waiting, shutdown ───────────────────────────────────────────────────────────

  /** Registers a listener for lifecycle events (metrics); returns the unsubscribe function. */
  subscribe(listener: ManagerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: ManagerEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: toServingError(error), event: event.type }, 'event listener failed');
      }
    }
  }

  /**
   * Resolves when no poll, load or unload is in progress (a retry waiting for its timer does not
   * count). Lets tests and shutdown wait for transitions without sleeping.
   */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const done = (): void => {
      this.pending.delete(promise);
    };
    promise.then(done, done);
    return promise;
  }

  /**
   * Stops polling, aborts loads and unloads every version once its in-flight requests end (or
   * the unload timeout passes). Later reconcile/poll calls do nothing.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearPollTimer();
    this.lifetime.abort(new Error('model manager stopped'));
    for (const m of this.models.values()) this.retire(m);
    await this.idle();
    for (const m of this.models.values()) this.retire(m);
    await this.idle();
  }
}

/** Same version content from the same origin. */
function sameSource(a: SourceVersion, b: SourceVersion): boolean {
  return a.origin === b.origin && a.fingerprint === b.fingerprint && a.path === b.path;
}

function clearTimer(clock: ManagerClock, holder: { retryTimer?: unknown; retryAt?: number }): void {
  if (holder.retryTimer !== undefined) clock.clearTimeout(holder.retryTimer);
  holder.retryTimer = undefined;
  holder.retryAt = undefined;
}
