import { NO_VERSION_DIRECTORY, downloadFailedText } from '../../../shared/model-status-text.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ServingError, toServingError } from '../../../shared/errors.js';
import type { ModelConfig, VersionPolicy } from '../../config/model-config.js';
import type { Logger } from '../../core/logger.js';
import { aspiredVersions } from '../../core/version-policy.js';
import type { SourceListing, SourceVersion, VersionSource } from '../../core/version-source.js';
import { isCompleteSavedModel, parseVersionDirName } from '../saved-model-directory.js';
import { downloadFiles, s3Error, type TransferSettings } from './download-files.js';
import { Limiter } from './limiter.js';
import type { ListPage } from './list-bucket-result.js';
import { objectGetterFor, type ObjectGetter } from './object-getter.js';
import { objectListerFor, type ObjectLister } from './object-lister.js';
import { ModelStore, manifestOf, type VersionManifest } from './model-store.js';
import { judgeVersion, type ListedObject, type RemoteVersion } from './remote-version.js';
import { DEFAULT_TRANSFER } from './s3-settings.js';
import { formatS3Uri, parseS3Uri, type S3Location } from './s3-uri.js';

/** Prometheus-shaped sinks (prom-client Counters/Gauges fit); all optional. */
export interface S3SyncMetrics {
  readonly bytes: { inc(labels: { model: string }, value: number): void };
  readonly versions: { inc(labels: { model: string; outcome: string }): void };
  readonly failures: { inc(labels: { model: string; operation: string }): void };
  readonly remainingBytes: { set(labels: { model: string }, value: number): void };
  readonly bytesPerSecond: { set(labels: { model: string }, value: number): void };
}

export interface S3VersionSourceOptions {
  /** Lists and downloads through the lister and getter createS3Client attached to it (or the SDK's). */
  readonly client: S3Client;
  /** Overrides how object bodies are fetched (default: objectGetterFor(client)). */
  readonly objectGetter?: ObjectGetter;
  /** Overrides how buckets are listed (default: objectListerFor(client)). */
  readonly objectLister?: ObjectLister;
  /** The local model store (`--model_store`). */
  readonly storeDir: string;
  readonly logger: Logger;
  readonly now: () => number;
  /** Resolves after `ms`, rejects when `signal` aborts. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * True while the manager holds the version in any state but END. Such a version is never
   * deleted or replaced on disk.
   */
  readonly isInUse: (model: string, version: number) => boolean;
  /** GETs in flight at once over all models. Default 16. */
  readonly concurrency?: number;
  readonly transfer?: TransferSettings;
  /** Object name (relative to the version prefix) that marks a version complete; unset = two equal listings. */
  readonly completionMarker?: string;
  /** On first sight of a version, list it again after this long to see it unchanged. Default 1000; 0 waits for the next poll. */
  readonly confirmDelayMs?: number;
  /** Progress log interval during a download. Default 5000. */
  readonly progressIntervalMs?: number;
  /** Backoff after failed listings and downloads: first delay, doubling up to the max. Default 1 s .. 60 s. */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  readonly metrics?: S3SyncMetrics;
}

interface Backoff {
  failures: number;
  nextAt: number;
  error?: ServingError;
}

interface ModelState {
  readonly model: string;
  readonly uri: string;
  readonly location: S3Location;
  readonly store: ModelStore;
  readonly ready: Promise<void>;
  /** Complete, verified versions in the store (ours: written from this source). */
  readonly stored: Map<number, VersionManifest>;
  /** Store directories to delete once nothing uses them (bad manifest, other source). */
  readonly broken: Set<number>;
  /** The signature each version had at the previous listing (a version is complete when it repeats). */
  readonly seen: Map<number, string>;
  /**
   * Versions downloaded since the last listing, with the listing they were downloaded from: the
   * next listing takes that instead of listing them again (see listRemote).
   */
  readonly synced: Map<number, RemoteVersion>;
  /** Versions in the listing last returned to the manager. */
  offered: Set<number>;
  /** Why that listing was empty, when it was (see explain). */
  note?: string;
  /** The download under way, for explain. */
  progress?: { version: number; doneBytes: number; totalBytes: number };
  sync?: Promise<void>;
  readonly listBackoff: Backoff;
  readonly syncBackoff: Backoff;
  /** Staging dir → parts already downloaded there (resume after a fault). */
  readonly resume: Map<string, Set<string>>;
  readonly warned: Set<string>;
  /** Aborted when the model's base path moves elsewhere: its downloads are of no use then. */
  readonly retirement: AbortController;
  retired: boolean;
}

const DOWNLOADING = 'downloading version ';
const megabytes = (bytes: number): string => (bytes / 1e6).toFixed(bytes < 10e6 ? 1 : 0);

/** Why a listing offers nothing: no version prefix at all, none complete yet, or downloads under way. */
function emptyListingNote(uri: string, names: ReadonlySet<number>, complete: readonly number[], downloading: readonly RemoteVersion[]): string | undefined {
  const list = (versions: Iterable<number>): string => [...versions].sort((a, b) => a - b).join(', ');
  if (names.size === 0) return `${NO_VERSION_DIRECTORY}${uri}`;
  if (complete.length === 0) return `version ${list(names)} under ${uri} not complete yet (a SavedModel, unchanged between two listings)`;
  if (downloading.length > 0) return `${DOWNLOADING}${list(downloading.map((r) => r.version))} from ${uri}`;
  return undefined;
}

/**
 * A VersionSource for `s3://bucket/prefix` base paths that keeps a local model store in step
 * with S3. Each list():
 *
 * 1. lists the version prefixes (`<prefix>/<n>/`) and, newest first, the objects of the versions
 *    the policy may want; a version is *complete* when it is a SavedModel with only safe keys and
 *    either its listing is unchanged since the previous listing (on first sight it is listed again
 *    after `confirmDelayMs`) or it carries the configured completion marker;
 * 2. applies the model's version policy to the complete versions (the aspired versions) and
 *    starts, in the background, downloading those not yet in the store (staging directory,
 *    verified, manifest, one rename);
 * 3. returns the aspired versions that are in the store; while none is there yet, the stored
 *    versions that still exist in S3, so a restarted server serves what it has while it
 *    downloads;
 * 4. deletes stored versions that are neither aspired nor offered nor in use by the manager (the
 *    manager unloads a version only after its replacement is AVAILABLE, so deletion follows).
 *
 * Listing failures throw (the manager keeps serving and reports `source-failed`), and further
 * listings wait out an exponential backoff. Download failures are logged and counted, leave the
 * store untouched, and are retried with backoff, resuming the parts already fetched.
 */
export class S3VersionSource implements VersionSource {
  private readonly o: S3VersionSourceOptions;
  private readonly limiter: Limiter;
  private readonly getter: ObjectGetter;
  private readonly lister: ObjectLister;
  private readonly transfer: TransferSettings;
  private readonly confirmDelayMs: number;
  private readonly models = new Map<string, ModelState>();
  private readonly lifetime = new AbortController();

  constructor(options: S3VersionSourceOptions) {
    this.o = options;
    this.limiter = new Limiter(options.concurrency ?? 16);
    this.getter = options.objectGetter ?? objectGetterFor(options.client);
    this.lister = options.objectLister ?? objectListerFor(options.client);
    this.transfer = options.transfer ?? DEFAULT_TRANSFER;
    this.confirmDelayMs = options.confirmDelayMs ?? 1000;
  }

  async list(model: ModelConfig, signal: AbortSignal): Promise<SourceListing> {
    const state = this.stateFor(model);
    await state.ready;
    const now = this.o.now();
    const lb = state.listBackoff;
    if (lb.error !== undefined && now < lb.nextAt) throw lb.error;
    let remote: { versions: Map<number, RemoteVersion>; names: Set<number> };
    try {
      remote = await this.listRemote(state, model.versionPolicy, signal);
    } catch (error) {
      const e = s3Error(error, `listing ${state.uri}`);
      if (e.code === 'CANCELLED') throw e;
      this.fail(lb, e);
      this.o.metrics?.failures.inc({ model: state.model, operation: 'list' });
      lb.error = new ServingError(e.code, `${e.message}; retrying in ${Math.max(1, Math.round((lb.nextAt - now) / 1000))} s`, { cause: e });
      throw lb.error;
    }
    if (lb.error !== undefined) this.o.logger.info({ model: state.model, uri: state.uri }, 'S3 listed again');
    lb.failures = 0;
    lb.error = undefined;

    const complete: number[] = [];
    for (const r of remote.versions.values()) {
      if (this.isComplete(state, r)) complete.push(r.version);
      else this.reportIncomplete(state, r);
    }
    for (const r of remote.versions.values()) state.seen.set(r.version, r.signature);
    for (const v of [...state.seen.keys()]) if (!remote.names.has(v)) state.seen.delete(v);
    const aspired = aspiredVersions(model.versionPolicy, complete);

    // What the store has of the aspired versions, and what must be (re)downloaded.
    const ready: number[] = [];
    const wanted: RemoteVersion[] = [];
    for (const v of aspired) {
      const r = remote.versions.get(v)!;
      const m = state.stored.get(v);
      if (m !== undefined && m.signature === r.signature) ready.push(v);
      else if (m !== undefined && this.o.isInUse(state.model, v)) {
        ready.push(v);
        this.warnOnce(state, `changed:${v}:${r.signature}`, { model: state.model, version: v }, 'model version changed in S3 after it was loaded; serving the synced copy (publish a new version number instead)');
      } else wanted.push(r);
    }
    if (wanted.length > 0) this.startSync(state, wanted);

    const offer = new Set(ready.length > 0 ? ready : [...state.stored.keys()].filter((v) => remote.names.has(v)));
    await this.removeRetired(state, new Set(aspired), offer);
    state.offered = offer;
    state.note = offer.size > 0 ? undefined : emptyListingNote(state.uri, remote.names, complete, wanted);
    const listing = new Map<number, SourceVersion>();
    for (const v of offer) {
      const manifest = state.stored.get(v)!;
      listing.set(v, { path: state.store.versionDir(v), fingerprint: manifest.signature, origin: `${manifest.source}${v}/` });
    }
    return listing;
  }

  /**
   * The model left the config (or S3): its downloads stop. Its synced versions stay in the store
   * for a return; the state stays too, so that a return waits for the abandoned download to end.
   */
  forget(model: string): void {
    const state = this.models.get(model);
    if (state !== undefined && !state.retired) this.retire(state, `model ${model} is no longer served from ${state.uri}`);
  }

  private retire(state: ModelState, reason: string): void {
    state.retired = true;
    state.retirement.abort(new ServingError('CANCELLED', reason));
  }

  explain(model: ModelConfig): string | undefined {
    const state = this.models.get(model.name);
    if (state?.note === undefined || !state.note.startsWith(DOWNLOADING)) return state?.note;
    const p = state.progress;
    const failed = state.syncBackoff.error;
    if (failed !== undefined) return `${state.note}${downloadFailedText(state.syncBackoff.failures, failed.message)}; retrying`;
    return p === undefined ? state.note : `${state.note} (version ${p.version}: ${megabytes(p.doneBytes)} of ${megabytes(p.totalBytes)} MB)`;
  }

  /** Resolves when no download is running (for tests and the benchmark). */
  async idle(): Promise<void> {
    for (;;) {
      const running = [...this.models.values()].map((s) => s.sync).filter((p) => p !== undefined);
      if (running.length === 0) return;
      await Promise.allSettled(running);
    }
  }

  /** Stops downloads (their staging data is cleaned at the next start). */
  async close(): Promise<void> {
    this.lifetime.abort(new Error('S3 source closed'));
    await this.idle();
  }

  // ─── Listing ────────────────────────────────────────────────────────────────────────────

  private stateFor(model: ModelConfig): ModelState {
    const existing = this.models.get(model.name);
    if (existing !== undefined && !existing.retired && existing.uri === formatS3Uri(parseS3Uri(model.basePath))) return existing;
    if (existing !== undefined) this.retire(existing, `the base path of model ${model.name} moved to ${model.basePath}`);
    const location = parseS3Uri(model.basePath);
    const uri = formatS3Uri(location);
    const store = new ModelStore(this.o.storeDir, model.name);
    const state: ModelState = {
      model: model.name,
      uri,
      location,
      store,
      stored: new Map(),
      broken: new Set(),
      seen: new Map(),
      synced: new Map(),
      offered: new Set(existing?.offered ?? []),
      listBackoff: { failures: 0, nextAt: 0 },
      syncBackoff: { failures: 0, nextAt: 0 },
      resume: new Map(),
      warned: new Set(),
      retirement: new AbortController(),
      retired: false,
      ready: (existing?.sync ?? Promise.resolve())
        .catch(() => undefined)
        .then(async () => {
          await store.prepare();
          const scan = await store.scan(uri);
          for (const [v, m] of scan.versions) state.stored.set(v, m);
          for (const v of scan.broken) state.broken.add(v);
          this.o.logger.info({ model: model.name, uri, store: store.dir, versions: [...scan.versions.keys()], broken: scan.broken }, 'model store opened');
        }),
    };
    this.models.set(model.name, state);
    return state;
  }

  private async listRemote(state: ModelState, policy: VersionPolicy, signal: AbortSignal): Promise<{ versions: Map<number, RemoteVersion>; names: Set<number> }> {
    const byVersion = new Map<number, string[]>();
    for await (const page of this.pages(state.location.bucket, state.location.prefix, '/', signal)) {
      for (const p of page.prefixes) {
        const name = p.slice(state.location.prefix.length, -1);
        const v = parseVersionDirName(name);
        if (typeof v !== 'number') continue;
        byVersion.set(v, [...(byVersion.get(v) ?? []), name]);
      }
    }
    const names = new Set(byVersion.keys());
    let candidates = [...byVersion.keys()].sort((a, b) => b - a);
    if (policy.kind === 'specific') candidates = candidates.filter((v) => policy.versions.includes(v));
    const versions = new Map<number, RemoteVersion>();
    const unsettled: RemoteVersion[] = [];
    let completeCount = 0;
    for (const v of candidates) {
      if (policy.kind === 'latest' && completeCount >= policy.numVersions) break;
      const dirNames = byVersion.get(v)!;
      if (dirNames.length > 1) {
        this.warnOnce(state, `dup:${dirNames.join(',')}`, { model: state.model, version: v, prefixes: dirNames }, 'version prefixes ignored: several names for one version');
        continue;
      }
      // A version just downloaded needs no second listing of its objects: every one of them was
      // fetched with If-Match on the listed ETag and checked for its listed size, which is a
      // newer look at them than a listing; a change after that is one after the load (served
      // copy kept; the next listing sees it). The version prefix itself was listed just now.
      const downloaded = state.synced.get(v);
      const r = downloaded?.prefix === `${state.location.prefix}${dirNames[0]!}/` ? downloaded : await this.listVersion(state, v, dirNames[0]!, signal);
      versions.set(v, r);
      if (this.isComplete(state, r)) completeCount++;
      else if (r.problem === undefined && !state.seen.has(v)) unsettled.push(r);
    }
    // First sight of a version: look again shortly instead of waiting a whole poll interval.
    if (unsettled.length > 0 && this.o.completionMarker === undefined && this.confirmDelayMs > 0) {
      for (const r of unsettled) state.seen.set(r.version, r.signature);
      await this.o.sleep(this.confirmDelayMs, signal);
      for (const r of unsettled) versions.set(r.version, await this.listVersion(state, r.version, byVersion.get(r.version)![0]!, signal));
    }
    state.synced.clear();
    return { versions, names };
  }

  private async listVersion(state: ModelState, version: number, dirName: string, signal: AbortSignal): Promise<RemoteVersion> {
    const prefix = `${state.location.prefix}${dirName}/`;
    const objects: ListedObject[] = [];
    for await (const page of this.pages(state.location.bucket, prefix, undefined, signal)) {
      objects.push(...page.objects);
    }
    return judgeVersion(version, prefix, objects, this.o.completionMarker);
  }

  private async *pages(bucket: string, prefix: string, delimiter: string | undefined, signal: AbortSignal): AsyncGenerator<ListPage> {
    let token: string | undefined;
    do {
      const page = await this.lister.list({ bucket, prefix, delimiter, continuationToken: token }, signal);
      yield page;
      token = page.nextToken;
    } while (token !== undefined);
  }

  private isComplete(state: ModelState, r: RemoteVersion): boolean {
    if (r.problem !== undefined) return false;
    if (state.stored.get(r.version)?.signature === r.signature) return true;
    if (this.o.completionMarker !== undefined) return r.markerPresent;
    return state.seen.get(r.version) === r.signature;
  }

  private reportIncomplete(state: ModelState, r: RemoteVersion): void {
    if (r.refused) {
      this.warnOnce(state, `refused:${r.version}:${r.signature}`, { model: state.model, version: r.version, problem: r.problem }, 'model version refused: unsafe object key');
    } else if (r.problem !== undefined) {
      this.warnOnce(state, `incomplete:${r.version}:${r.signature}`, { model: state.model, version: r.version, problem: r.problem }, 'model version not complete yet');
    } else if (this.o.completionMarker !== undefined) {
      this.warnOnce(state, `marker:${r.version}`, { model: state.model, version: r.version, marker: this.o.completionMarker }, 'model version waits for its completion marker');
    }
  }

  // ─── Downloading ────────────────────────────────────────────────────────────────────────

  private startSync(state: ModelState, wanted: readonly RemoteVersion[]): void {
    if (state.sync !== undefined || state.retired) return;
    const sb = state.syncBackoff;
    if (sb.error !== undefined && this.o.now() < sb.nextAt) return;
    const signal = AbortSignal.any([this.lifetime.signal, state.retirement.signal]);
    const run = async (): Promise<void> => {
      for (const r of [...wanted].sort((a, b) => b.version - a.version)) {
        signal.throwIfAborted();
        await this.syncVersion(state, r, signal);
      }
    };
    state.sync = run()
      .then(
        () => {
          sb.failures = 0;
          sb.error = undefined;
        },
        (error: unknown) => {
          const e = toServingError(error);
          if (this.lifetime.signal.aborted) return;
          if (state.retired) {
            this.o.logger.info({ model: state.model, uri: state.uri, reason: e.message }, 'model version download abandoned');
            return;
          }
          this.fail(sb, e);
          this.o.metrics?.failures.inc({ model: state.model, operation: 'download' });
          this.o.logger.error({ model: state.model, uri: state.uri, err: e, retryInMs: sb.nextAt - this.o.now() }, 'model version not synced from S3; served versions are untouched');
        },
      )
      .finally(() => {
        state.sync = undefined;
        state.progress = undefined;
        this.o.metrics?.remainingBytes.set({ model: state.model }, 0);
      });
  }

  private async syncVersion(state: ModelState, r: RemoteVersion, signal: AbortSignal): Promise<void> {
    const staging = state.store.stagingDir(r.version, r.signature);
    // A staging dir of another content of this version is useless now.
    for (const dir of [...state.resume.keys()]) {
      if (dir !== staging && basename(dir).startsWith(`${r.version}-`)) {
        state.resume.delete(dir);
        await state.store.discard(dir);
      }
    }
    const done = state.resume.get(staging) ?? new Set<string>();
    state.resume.set(staging, done);
    const log = this.o.logger;
    const started = this.o.now();
    const doneBytesAtStart = r.files.reduce((sum, f) => sum + (done.has(f.path) ? f.size : 0), 0);
    let bytes = 0;
    let lastLog = started;
    log.info({ model: state.model, version: r.version, files: r.files.length, totalBytes: r.totalBytes, resumedBytes: doneBytesAtStart }, 'model version download started');
    const progress = { version: r.version, doneBytes: doneBytesAtStart, totalBytes: r.totalBytes };
    state.progress = progress;
    const onBytes = (n: number): void => {
      bytes += n;
      progress.doneBytes += n;
      this.o.metrics?.bytes.inc({ model: state.model }, n);
      const now = this.o.now();
      if (now - lastLog < (this.o.progressIntervalMs ?? 5000)) return;
      lastLog = now;
      const rate = bytes / Math.max(0.001, (now - started) / 1000);
      const remaining = Math.max(0, r.totalBytes - doneBytesAtStart - bytes);
      this.o.metrics?.remainingBytes.set({ model: state.model }, remaining);
      this.o.metrics?.bytesPerSecond.set({ model: state.model }, rate);
      log.info(
        { model: state.model, version: r.version, doneBytes: doneBytesAtStart + bytes, totalBytes: r.totalBytes, bytesPerSecond: Math.round(rate), etaSeconds: Math.round(remaining / Math.max(1, rate)) },
        'model version download progressed',
      );
    };
    this.o.metrics?.remainingBytes.set({ model: state.model }, r.totalBytes - doneBytesAtStart);
    try {
      await downloadFiles({
        getter: this.getter,
        bucket: state.location.bucket,
        files: r.files,
        dir: staging,
        limiter: this.limiter,
        transfer: this.transfer,
        signal,
        onBytes,
        done,
      });
      await verifyStaging(staging, r);
      const final = await state.store.commit(staging, manifestOf(state.uri, r));
      state.stored.set(r.version, manifestOf(state.uri, r));
      state.synced.set(r.version, r);
      state.broken.delete(r.version);
      state.resume.delete(staging);
      const seconds = (this.o.now() - started) / 1000;
      this.o.metrics?.versions.inc({ model: state.model, outcome: 'ok' });
      log.info({ model: state.model, version: r.version, path: final, files: r.files.length, bytes: r.totalBytes, seconds, bytesPerSecond: Math.round(bytes / Math.max(0.001, seconds)) }, 'model version synced from S3');
    } catch (error) {
      this.o.metrics?.versions.inc({ model: state.model, outcome: 'error' });
      const e = toServingError(error);
      // Keep fetched parts only for faults worth resuming (network); anything else starts over
      // and must not hold disk space (a full disk especially).
      if (e.code !== 'UNAVAILABLE' && e.code !== 'CANCELLED') {
        state.resume.delete(staging);
        await state.store.discard(staging).catch(() => undefined);
      }
      throw new ServingError(e.code, `version ${r.version}: ${e.message}`, { cause: e });
    }
  }

  // ─── Disk ───────────────────────────────────────────────────────────────────────────────

  /**
   * Deletes stored versions that are not aspired, not in this or the previous listing (so the
   * manager's current listing cannot start loading them) and not held by the manager.
   */
  private async removeRetired(state: ModelState, aspired: ReadonlySet<number>, offer: ReadonlySet<number>): Promise<void> {
    const candidates = new Set([...state.stored.keys(), ...state.broken]);
    for (const v of candidates) {
      if (aspired.has(v) && !state.broken.has(v)) continue;
      if (offer.has(v) || state.offered.has(v) || this.o.isInUse(state.model, v)) continue;
      if (state.sync !== undefined && aspired.has(v)) continue;
      try {
        await state.store.remove(v);
        state.stored.delete(v);
        state.broken.delete(v);
        this.o.logger.info({ model: state.model, version: v }, 'model version removed from the store');
      } catch (error) {
        this.warnOnce(state, `rm:${v}`, { model: state.model, version: v, err: toServingError(error) }, 'model version not removed from the store');
      }
    }
  }

  private fail(b: Backoff, e: ServingError): void {
    b.failures++;
    const initial = this.o.retryInitialMs ?? 1000;
    const delay = Math.min(this.o.retryMaxMs ?? 60_000, initial * 2 ** Math.min(20, b.failures - 1));
    b.nextAt = this.o.now() + delay;
    b.error = e;
  }

  private warnOnce(state: ModelState, key: string, obj: object, msg: string): void {
    if (state.warned.has(key)) return;
    state.warned.add(key);
    this.o.logger.warn(obj, msg);
  }
}

/** Stats per turn of the event loop in verifyStaging (about 6 us each from the page cache). */
const STAT_BATCH = 256;

/** Every listed file exists with its listed size, and the result is a loadable SavedModel shape. */
async function verifyStaging(dir: string, r: RemoteVersion): Promise<void> {
  // Synchronous stats in batches: through the thread pool each costs a hand-off between threads
  // (500 files: 20-35 ms; synchronously about 3 ms), and the batches let other work run between.
  for (let i = 0; i < r.files.length; i++) {
    if (i > 0 && i % STAT_BATCH === 0) await new Promise((resolve) => setImmediate(resolve));
    const f = r.files[i]!;
    const s = statSync(join(dir, f.path), { throwIfNoEntry: false });
    const size = s?.isFile() === true ? s.size : undefined;
    if (size !== f.size) throw new ServingError('INTERNAL', `staging check: ${f.path}: expected ${f.size} bytes, found ${size ?? 'nothing'}`);
  }
  if (!(await isCompleteSavedModel(dir))) throw new ServingError('FAILED_PRECONDITION', 'the downloaded version is not a complete SavedModel');
}
