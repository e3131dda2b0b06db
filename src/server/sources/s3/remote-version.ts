import { createHash } from 'node:crypto';
import { objectPath } from './object-path.js';

/** One object as S3 listed it. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

/** An object of a version, with the path it gets inside the version directory. */
export interface RemoteFile extends ListedObject {
  readonly path: string;
}

/** What S3 holds under one version prefix, judged. */
export interface RemoteVersion {
  readonly version: number;
  readonly prefix: string;
  /** Files to download, sorted by path. */
  readonly files: readonly RemoteFile[];
  /** Why the version must not be synced (unsafe key, not a SavedModel yet), or undefined. */
  readonly problem: string | undefined;
  /** True when a problem is a refusal (unsafe key) rather than an incomplete upload. */
  readonly refused: boolean;
  readonly markerPresent: boolean;
  /** Identifies the listed content (paths, sizes, ETags); equal signatures = unchanged. */
  readonly signature: string;
  readonly totalBytes: number;
}

/**
 * Judges one version prefix's objects. `marker` (a path relative to the version, e.g.
 * `.complete`) is noted and never downloaded. A version is a problem when one key is unsafe
 * (the whole version is refused, so nothing of it is written), when two keys map to one path or a
 * path is both a file and a directory, or when it is not a SavedModel (yet): `saved_model.pb`
 * (or `.pbtxt`) missing, or a `variables/` directory without `variables/variables.index`.
 */
export function judgeVersion(version: number, prefix: string, objects: readonly ListedObject[], marker?: string): RemoteVersion {
  const files: RemoteFile[] = [];
  let problem: string | undefined;
  let refused = false;
  let markerPresent = false;
  for (const object of objects) {
    const mapped = objectPath(object.key, prefix, object.size);
    if (mapped.kind === 'folder-marker') continue;
    if (mapped.kind === 'refused') {
      problem ??= `unsafe object key ${JSON.stringify(object.key)}: ${mapped.reason}`;
      refused = true;
      continue;
    }
    if (marker !== undefined && mapped.path === marker) {
      markerPresent = true;
      continue;
    }
    files.push({ ...object, path: mapped.path });
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (problem === undefined) problem = layoutProblem(files);
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${f.path}\t${f.size}\t${f.etag}\n`);
  if (refused) hash.update(`refused\n`);
  return {
    version,
    prefix,
    files,
    problem,
    refused,
    markerPresent,
    signature: hash.digest('hex').slice(0, 32),
    totalBytes: files.reduce((sum, f) => sum + f.size, 0),
  };
}

function layoutProblem(files: readonly RemoteFile[]): string | undefined {
  const paths = new Set<string>();
  const dirs = new Set<string>();
  for (const f of files) {
    if (paths.has(f.path)) return `two objects map to ${f.path}`;
    paths.add(f.path);
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const d of dirs) if (paths.has(d)) return `${d} is both an object and a folder`;
  if (!paths.has('saved_model.pb') && !paths.has('saved_model.pbtxt')) return 'no saved_model.pb yet';
  if (dirs.has('variables') && !paths.has('variables/variables.index')) return 'variables/ without variables/variables.index yet';
  return undefined;
}

/** S3 quotes ETags in listings and headers; compare them unquoted. */
export const normalizeEtag = (etag: string | undefined): string => (etag ?? '').replace(/^W\//, '').replace(/"/g, '');
