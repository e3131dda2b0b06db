import { cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES_DIR } from './fixture-tensors.js';

/** A temp directory the test owns; remove() deletes it. */
export interface TempDir {
  readonly path: string;
  remove(): void;
}

export function tempDir(prefix = 'tensorfleet-models-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Path of a fixture model version directory. */
export const fixtureVersionDir = (model: string, version: number): string => join(FIXTURES_DIR, 'models', model, String(version));

/**
 * Publishes a version the way docs tell users to: copy under a non-numeric name (which the
 * server ignores), then rename to the version number, so the server never sees a partial copy.
 */
export function publishVersion(fromDir: string, basePath: string, version: number): void {
  const staging = join(basePath, `.staging-${version}-${process.pid}`);
  cpSync(fromDir, staging, { recursive: true });
  renameSync(staging, join(basePath, String(version)));
}

/** Deletes a version directory (rename away first so the removal is atomic from the server's view). */
export function unpublishVersion(basePath: string, version: number): void {
  const trash = join(basePath, `.removed-${version}-${process.pid}`);
  renameSync(join(basePath, String(version)), trash);
  rmSync(trash, { recursive: true, force: true });
}
