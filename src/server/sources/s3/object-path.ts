/** The file inside each synced version directory that records what was downloaded. */
export const MANIFEST_NAME = '.tensorfleet-manifest.json';

export type ObjectPathResult =
  | { readonly kind: 'file'; readonly path: string }
  /** A zero-byte "folder" object (`1/` or `1/variables/`) made by consoles: nothing to download. */
  | { readonly kind: 'folder-marker' }
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * Maps an object's key to a path relative to its version directory, refusing anything that could
 * land outside it or be read differently by the file system than by S3: `..` and `.` segments,
 * empty segments (`a//b`, a leading `/`), backslashes (a separator elsewhere), NUL and other
 * control characters, names the file system cannot hold, and the manifest's reserved name. Keys
 * are used exactly as S3 lists them; nothing is URL-decoded, so `%2e%2e` stays a plain name.
 */
export function objectPath(key: string, versionPrefix: string, size: number): ObjectPathResult {
  if (!key.startsWith(versionPrefix)) return { kind: 'refused', reason: 'key is outside the version prefix' };
  const rel = key.slice(versionPrefix.length);
  if (rel === '' || (rel.endsWith('/') && size === 0 && !rel.slice(0, -1).includes('//'))) {
    const folder = rel.slice(0, -1);
    if (rel === '' || isSafeRelative(folder) === undefined) return { kind: 'folder-marker' };
  }
  const problem = isSafeRelative(rel);
  if (problem !== undefined) return { kind: 'refused', reason: problem };
  if (rel === MANIFEST_NAME) return { kind: 'refused', reason: `${MANIFEST_NAME} is reserved for TensorFleet's manifest` };
  return { kind: 'file', path: rel };
}

/** Returns why `rel` is unsafe as a relative file path, or undefined when it is safe. */
function isSafeRelative(rel: string): string | undefined {
  if (rel.startsWith('/')) return 'absolute path';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(rel)) return 'control character in key';
  if (rel.includes('\\')) return 'backslash in key';
  const segments = rel.split('/');
  for (const segment of segments) {
    if (segment === '') return 'empty path segment';
    if (segment === '.' || segment === '..') return `"${segment}" path segment`;
    if (Buffer.byteLength(segment) > 255) return 'path segment longer than 255 bytes';
  }
  if (Buffer.byteLength(rel) > 3000) return 'key too long for a file path';
  return undefined;
}
