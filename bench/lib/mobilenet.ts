import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const EXPORTER = join(REPO, 'bench/model-server/export_mobilenet.py');
/** Bump when the exporter changes, so cached exports are redone. */
const EXPORT_KEY = 'keras-export v1';

export function cacheRoot(env: NodeJS.ProcessEnv): string {
  return env.TENSORFLEET_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tensorfleet');
}

/**
 * The MobileNetV2 base path (holding version 1), exported once into the cache outside the
 * checkout with the project's Python environment.
 */
export function ensureMobilenet(env: NodeJS.ProcessEnv, log: (line: string) => void): string {
  const base = join(cacheRoot(env), 'bench', 'mobilenet_v2');
  const version = join(base, '1');
  const marker = join(base, '.export-key');
  if (existsSync(join(version, 'saved_model.pb')) && existsSync(marker) && readFileSync(marker, 'utf8') === EXPORT_KEY) return base;
  log('exporting MobileNetV2 (weights=None) once; creates the Python environment on first use');
  const python = execFileSync('bash', [join(REPO, 'scripts/python/ensure-python-env.sh')], { stdio: ['ignore', 'pipe', 'inherit'] })
    .toString()
    .trim()
    .split('\n')
    .at(-1)!;
  mkdirSync(base, { recursive: true });
  const staging = join(base, '.staging-1');
  rmSync(staging, { recursive: true, force: true });
  execFileSync(python, [EXPORTER, staging], { stdio: ['ignore', 'inherit', 'inherit'] });
  rmSync(version, { recursive: true, force: true });
  renameSync(staging, version);
  writeFileSync(marker, EXPORT_KEY);
  return base;
}
