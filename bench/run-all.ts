/**
 * Runs the benchmarks one after another, each in a process of its own:
 *   npm run bench                          every benchmark present
 *   npm run bench -- model-server routing  only those
 * Each benchmark's entry point is bench/<name>/run.ts and rewrites its own section of
 * docs/benchmarks.md. Extra flags after the names (e.g. --cpu-prof) are passed on.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCHMARKS = ['model-server', 'large-requests', 'rest-load', 'model-warmup', 'overload', 'grpc-tls', 'routing', 's3-sync', 'operator'] as const;
const entryOf = (name: string): string => fileURLToPath(new URL(`./${name}/run.ts`, import.meta.url));

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
const unknown = names.filter((n) => !(BENCHMARKS as readonly string[]).includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${BENCHMARKS.join(', ')})`);
  process.exit(2);
}
const selected = names.length > 0 ? names : BENCHMARKS.filter((n) => existsSync(entryOf(n)));
const failed: string[] = [];
for (const name of selected) {
  const entry = entryOf(name);
  if (!existsSync(entry)) {
    console.error(`[bench] ${name}: ${entry} does not exist`);
    failed.push(name);
    continue;
  }
  console.log(`[bench] ${name}`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--import', 'tsx', entry, ...flags], { stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (result.status !== 0) failed.push(name);
  console.log(`[bench] ${name} ${result.status === 0 ? 'finished' : `failed (exit ${result.status ?? result.signal})`} in ${seconds} s`);
}
if (failed.length > 0) {
  console.error(`[bench] failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
