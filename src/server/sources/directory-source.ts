import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ModelConfig } from '../config/model-config.js';
import type { Logger } from '../core/logger.js';
import type { SourceListing, SourceVersion, VersionSource } from '../core/version-source.js';
import { ServingError } from '../../shared/errors.js';
import { NO_VERSION_DIRECTORY } from '../../shared/model-status-text.js';
import { fingerprintDirectory, isCompleteSavedModel, parseVersionDirName } from './saved-model-directory.js';

export interface DirectorySourceOptions {
  readonly logger: Logger;
  /** Wall clock in ms (compared with file mtimes). */
  readonly now: () => number;
  /**
   * How old (ms) the newest file of a version must be for the version to count as settled on
   * first sight. Default 10 s; 0 offers every complete version at once (for directories that
   * only ever receive versions by atomic rename).
   */
  readonly settleMs?: number;
}

/**
 * Lists a local model base path: numeric child directories are versions. A version is offered
 * only when it is a complete SavedModel AND its content has settled, so a version being copied in
 * is not loaded half-way:
 *
 * - settled = its fingerprint (names, sizes, mtimes of everything inside) is the same as at the
 *   previous poll, OR its newest mtime is at least `settleMs` old. The second rule makes versions
 *   that were already on disk at startup available on the first poll, and avoids a one-poll delay
 *   for directories that were moved in whole.
 * - Once offered, a version stays offered (with its last settled fingerprint) while it is
 *   complete, even if its files change again: the manager must not see a loaded version vanish
 *   because someone touched a file. A newly settled content is then offered with its new
 *   fingerprint (which lets a version whose loads gave up be retried).
 *
 * Neither rule can prove a copy is finished (a copier that stalls longer than a poll and the
 * settle time is indistinguishable from a finished one). The safe way to publish a version is
 * to copy it under a non-numeric name (`5.partial`, `tmp-5`) and rename it to `5`; non-numeric
 * names are ignored.
 */
export class DirectorySource implements VersionSource {
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly settleMs: number;
  /** Keyed by absolute version directory. */
  private readonly seen = new Map<string, { lastFingerprint: string; offered?: string }>();
  private readonly warned = new Set<string>();
  /** Why the last listing of a base path (absolute) offered nothing, when it did not. */
  private readonly notes = new Map<string, string>();

  constructor(options: DirectorySourceOptions) {
    this.logger = options.logger;
    this.now = options.now;
    this.settleMs = options.settleMs ?? 10_000;
  }

  async list(model: ModelConfig, signal: AbortSignal): Promise<SourceListing> {
    const base = resolve(model.basePath);
    let entries;
    try {
      entries = await readdir(base, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const message =
        code === 'ENOENT' ? `model base path ${base} does not exist` : `could not list model base path ${base}: ${(error as Error).message}`;
      throw new ServingError(code === 'ENOENT' ? 'NOT_FOUND' : 'UNAVAILABLE', message, { cause: error });
    }
    const byVersion = new Map<number, string[]>();
    for (const entry of entries) {
      const version = parseVersionDirName(entry.name);
      if (version === undefined) continue;
      if (version === 'unsafe') {
        this.warnOnce(`${base}/${entry.name}`, { model: model.name, directory: entry.name }, 'version directory ignored: number too large');
        continue;
      }
      if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
      byVersion.set(version, [...(byVersion.get(version) ?? []), entry.name]);
    }
    const listing = new Map<number, SourceVersion>();
    const live = new Set<string>();
    for (const [version, names] of byVersion) {
      signal.throwIfAborted();
      if (names.length > 1) {
        this.warnOnce(`${base}/${names.join(',')}`, { model: model.name, version, directories: names }, 'version directories ignored: several names for one version');
        continue;
      }
      const path = join(base, names[0]!);
      live.add(path);
      const offered = await this.check(path);
      if (offered !== undefined) listing.set(version, { path, fingerprint: offered, origin: path });
    }
    // Forget versions that disappeared, so a re-created directory has to settle again.
    for (const key of this.seen.keys()) if (key.startsWith(`${base}/`) && !live.has(key)) this.seen.delete(key);
    const note =
      listing.size > 0
        ? undefined
        : byVersion.size === 0
          ? `${NO_VERSION_DIRECTORY}${base}`
          : `version ${[...byVersion.keys()].sort((a, b) => a - b).join(', ')} under ${base} not complete yet (a SavedModel, settled for ${this.settleMs / 1000} s or unchanged since the last look)`;
    if (note === undefined) this.notes.delete(base);
    else this.notes.set(base, note);
    return listing;
  }

  explain(model: ModelConfig): string | undefined {
    return this.notes.get(resolve(model.basePath));
  }

  /** Returns the fingerprint to offer for a version directory, or undefined when not offerable. */
  private async check(path: string): Promise<string | undefined> {
    let complete: boolean;
    let fp;
    try {
      complete = await isCompleteSavedModel(path);
      fp = await fingerprintDirectory(path);
    } catch {
      // Vanished or unreadable mid-walk: treat as incomplete this poll.
      complete = false;
    }
    const state = this.seen.get(path);
    if (!complete || fp === undefined) {
      if (state) state.offered = undefined;
      return undefined;
    }
    const settled =
      state?.lastFingerprint === fp.fingerprint || this.settleMs <= 0 || this.now() - fp.newestMtimeMs >= this.settleMs;
    const next = { lastFingerprint: fp.fingerprint, offered: settled ? fp.fingerprint : state?.offered };
    this.seen.set(path, next);
    return next.offered;
  }

  private warnOnce(key: string, obj: object, msg: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn(obj, msg);
  }
}
