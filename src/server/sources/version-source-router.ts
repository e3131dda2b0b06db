import { ServingError } from '../../shared/errors.js';
import type { ModelConfig } from '../config/model-config.js';
import type { SourceListing, VersionSource } from '../core/version-source.js';

export interface VersionSourceRoutes {
  /** Local directories (no URI scheme). */
  readonly directory: VersionSource;
  /** `s3://` base paths; created on first use so a server without S3 models builds no S3 client. */
  readonly s3?: () => VersionSource;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** The URI scheme of a base path, lower-cased, or undefined for a local path. */
export function basePathScheme(basePath: string): string | undefined {
  return SCHEME.exec(basePath)?.[1]?.toLowerCase();
}

/** Names the first base path no route serves, or undefined when every one is served. */
export function unsupportedBasePath(basePaths: readonly string[], routes: { readonly s3: boolean }): string | undefined {
  return basePaths.find((p) => {
    const scheme = basePathScheme(p);
    return scheme !== undefined && !(scheme === 's3' && routes.s3);
  });
}

/** Dispatches each model's listing by its base path's scheme: none → directory, s3:// → S3. */
export class VersionSourceRouter implements VersionSource {
  private s3: VersionSource | undefined;

  constructor(private readonly routes: VersionSourceRoutes) {}

  list(model: ModelConfig, signal: AbortSignal): Promise<SourceListing> {
    const scheme = basePathScheme(model.basePath);
    if (scheme !== 's3') this.s3?.forget?.(model.name); // moved off S3
    if (scheme === undefined) return this.routes.directory.list(model, signal);
    if (scheme === 's3' && this.routes.s3 !== undefined) {
      this.s3 ??= this.routes.s3();
      return this.s3.list(model, signal);
    }
    return Promise.reject(new ServingError('UNIMPLEMENTED', `base_path ${model.basePath}: the ${scheme}:// scheme is not supported (local directories and s3:// are)`));
  }

  forget(model: string): void {
    this.routes.directory.forget?.(model);
    this.s3?.forget?.(model);
  }

  explain(model: ModelConfig): string | undefined {
    const scheme = basePathScheme(model.basePath);
    if (scheme === undefined) return this.routes.directory.explain?.(model);
    return scheme === 's3' ? this.s3?.explain?.(model) : undefined;
  }
}
