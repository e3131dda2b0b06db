import type { ModelConfig } from '../config/model-config.js';

/** One complete version of a model, on local disk. */
export interface SourceVersion {
  /** Local directory holding the SavedModel (for remote sources: the synced copy in the store). */
  readonly path: string;
  /**
   * Identifies the version's content (e.g. names+sizes+mtimes, or object ETags). The manager only
   * compares it: a changed fingerprint lets a version whose loads gave up be retried.
   */
  readonly fingerprint: string;
  /**
   * Where the version comes from: the version directory, or the remote location it was synced
   * from. A loaded version whose listed origin changes (its model's base path moved) is loaded
   * again from the new origin; one whose content changes at the same origin is not (versions are
   * immutable, as in TF Serving: publish a new version number).
   */
  readonly origin: string;
}

/** version → complete version on local disk. Only versions safe to load appear. */
export type SourceListing = ReadonlyMap<number, SourceVersion>;

/**
 * Lists the complete versions of a model. Implemented by sources/directory-source (local
 * directories) and the S3 source (which syncs into a local store first). A listing failure
 * (base path missing, network) throws; the manager keeps what it serves and tries again next poll.
 */
export interface VersionSource {
  list(model: ModelConfig, signal: AbortSignal): Promise<SourceListing>;
  /**
   * Why the last listing offered nothing, when the source knows (no version directory at all,
   * versions still incomplete, a download under way), for the model status of a model that has
   * no version yet.
   */
  explain?(model: ModelConfig): string | undefined;
  /** The model left the config, or this source no longer serves it: stop work for it (downloads). */
  forget?(model: string): void;
}
