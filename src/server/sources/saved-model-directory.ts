import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A version directory's name: decimal digits only (no sign, no spaces). Leading zeros are
 * accepted ("007" is version 7), as TensorFlow Serving does. Returns undefined for anything else,
 * and 'unsafe' for numbers JavaScript cannot hold exactly.
 */
export function parseVersionDirName(name: string): number | 'unsafe' | undefined {
  if (!/^[0-9]+$/.test(name)) return undefined;
  const n = Number(name);
  return Number.isSafeInteger(n) ? n : 'unsafe';
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A SavedModel directory is complete when its graph (`saved_model.pb` or `saved_model.pbtxt`)
 * exists and, if it has a `variables/` directory, the variables index exists too (the index is
 * written last by TensorFlow, and a copy of a version without it cannot be loaded).
 */
export async function isCompleteSavedModel(dir: string): Promise<boolean> {
  const hasGraph = (await isFile(join(dir, 'saved_model.pb'))) || (await isFile(join(dir, 'saved_model.pbtxt')));
  if (!hasGraph) return false;
  if (await isDirectory(join(dir, 'variables'))) return isFile(join(dir, 'variables', 'variables.index'));
  return true;
}

export interface DirectoryFingerprint {
  /** Hash of every entry's relative path, size and mtime. */
  readonly fingerprint: string;
  /** The newest mtime (ms) among the directory and everything under it. */
  readonly newestMtimeMs: number;
}

/** Walks a directory (following symlinks) and summarizes its content. */
export async function fingerprintDirectory(dir: string): Promise<DirectoryFingerprint> {
  const lines: string[] = [];
  let newest = (await stat(dir)).mtimeMs;
  const walk = async (abs: string, rel: string): Promise<void> => {
    const names = (await readdir(abs)).sort();
    for (const name of names) {
      const childAbs = join(abs, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const s = await stat(childAbs);
      newest = Math.max(newest, s.mtimeMs);
      if (s.isDirectory()) {
        lines.push(`d ${childRel} ${s.mtimeMs}`);
        await walk(childAbs, childRel);
      } else {
        lines.push(`f ${childRel} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  await walk(dir, '');
  return { fingerprint: createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 32), newestMtimeMs: newest };
}
