import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseVersionDirName } from '../saved-model-directory.js';
import { MANIFEST_NAME } from './object-path.js';
import type { RemoteVersion } from './remote-version.js';

/** Written into a version directory as the last step before it is renamed into the store. */
export interface VersionManifest {
  readonly format: 1;
  /** The `s3://bucket/prefix/` the version came from. */
  readonly source: string;
  readonly version: number;
  readonly signature: string;
  readonly files: readonly { readonly path: string; readonly size: number; readonly etag: string }[];
}

const STAGING = '.staging';
const TRASH = '.trash';

/** A model's directory name in the store: the model name, with anything unusual percent-encoded. */
export function modelDirName(model: string): string {
  const encoded = model.replace(/[^A-Za-z0-9_.-]/g, (c) => encodeURIComponent(c).replace(/[!'()*]/g, (x) => `%${x.charCodeAt(0).toString(16).toUpperCase()}`));
  return encoded.startsWith('.') ? `%2E${encoded.slice(1)}` : encoded;
}

export function manifestOf(source: string, remote: RemoteVersion): VersionManifest {
  return {
    format: 1,
    source,
    version: remote.version,
    signature: remote.signature,
    files: remote.files.map((f) => ({ path: f.path, size: f.size, etag: f.etag })),
  };
}

/**
 * One model's part of the local model store:
 *
 *   <store>/<model>/<version>/            complete, verified versions (with their manifest)
 *   <store>/<model>/.staging/<version>-*  downloads in progress (deleted at start)
 *   <store>/<model>/.trash/               versions being deleted (deleted at start)
 *
 * Staging lives inside the store so the final rename stays on one file system (atomic).
 */
export class ModelStore {
  readonly dir: string;
  private removals = 0;
  constructor(storeDir: string, model: string) {
    this.dir = join(storeDir, modelDirName(model));
  }

  versionDir(version: number): string {
    return join(this.dir, String(version));
  }

  stagingDir(version: number, signature: string): string {
    return join(this.dir, STAGING, `${version}-${signature.slice(0, 12)}`);
  }

  /** Removes what a crash can leave behind: partial downloads and half-deleted versions. */
  async prepare(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await rm(join(this.dir, STAGING), { recursive: true, force: true });
    await rm(join(this.dir, TRASH), { recursive: true, force: true });
  }

  /**
   * Reads the store's versions. A version directory counts only with a readable manifest whose
   * files all exist with their recorded sizes; anything else (no manifest, another source, a
   * missing or resized file) is reported in `broken` for the caller to remove.
   */
  async scan(source: string): Promise<{ versions: Map<number, VersionManifest>; broken: number[] }> {
    const versions = new Map<number, VersionManifest>();
    const broken: number[] = [];
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return { versions, broken };
    }
    for (const name of names) {
      const version = parseVersionDirName(name);
      if (typeof version !== 'number' || String(version) !== name) continue;
      const manifest = await this.readManifest(version);
      if (manifest !== undefined && manifest.source === source && (await this.filesIntact(version, manifest))) versions.set(version, manifest);
      else broken.push(version);
    }
    return { versions, broken };
  }

  private async readManifest(version: number): Promise<VersionManifest | undefined> {
    try {
      const parsed = JSON.parse(await readFile(join(this.versionDir(version), MANIFEST_NAME), 'utf8')) as VersionManifest;
      return parsed.format === 1 && parsed.version === version && Array.isArray(parsed.files) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  private async filesIntact(version: number, manifest: VersionManifest): Promise<boolean> {
    const dir = this.versionDir(version);
    for (const f of manifest.files) {
      try {
        const s = await stat(join(dir, f.path));
        if (!s.isFile() || s.size !== f.size) return false;
      } catch {
        return false;
      }
    }
    return true;
  }

  /** Writes the manifest into a verified staging directory and renames it into place. */
  async commit(staging: string, manifest: VersionManifest): Promise<string> {
    await writeFile(join(staging, MANIFEST_NAME), `${JSON.stringify(manifest)}\n`);
    const final = this.versionDir(manifest.version);
    // A stale copy (content changed in S3 and not in use) moves aside first: rename cannot
    // replace a non-empty directory, and the version must never be half old, half new.
    await this.remove(manifest.version);
    await rename(staging, final);
    return final;
  }

  /** Deletes a staging directory (a failed or abandoned download). */
  async discard(staging: string): Promise<void> {
    await rm(staging, { recursive: true, force: true });
  }

  /** Deletes a version: first renamed out of the store (atomic), then removed. */
  async remove(version: number): Promise<void> {
    const trash = join(this.dir, TRASH, `${version}-${++this.removals}`);
    await mkdir(join(this.dir, TRASH), { recursive: true });
    try {
      await rename(this.versionDir(version), trash);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    await rm(trash, { recursive: true, force: true });
  }
}
