import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The repository root (test/helpers/server/ is three levels down). */
export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

function newestSource(dir: string): { path: string; mtimeMs: number } {
  let newest = { path: '', mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const candidate = entry.isDirectory() ? newestSource(path) : entry.name.endsWith('.ts') ? { path, mtimeMs: statSync(path).mtimeMs } : undefined;
    if (candidate && candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}

/**
 * The integration suites run the built server (dist/), as users do. Fails with a clear message
 * when dist/ is missing or older than any file under src/, instead of testing stale code.
 * TENSORFLEET_ALLOW_STALE_DIST=1 skips the age check (e.g. while others edit unrelated src files).
 */
export function assertBuildFresh(root = REPO_ROOT): void {
  const entry = join(root, 'dist', 'cli', 'main.js');
  if (!existsSync(entry)) {
    throw new Error(`${relative(root, entry)} is missing: run \`npm run build\` (npm test does it) before the server integration tests`);
  }
  if (process.env.TENSORFLEET_ALLOW_STALE_DIST === '1') return;
  const built = statSync(entry).mtimeMs;
  const newest = newestSource(join(root, 'src'));
  if (newest.mtimeMs > built) {
    throw new Error(
      `dist/ is older than ${relative(root, newest.path)}: run \`npm run build\` (npm test does it) before the server integration tests ` +
        '(or set TENSORFLEET_ALLOW_STALE_DIST=1 to test the stale build anyway)',
    );
  }
}
