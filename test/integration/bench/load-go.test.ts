/**
 * The benchmarks' Go load generator (bench/load-go) runs its own tests: real grpc-go calls against
 * in-process gRPC servers, and the kernel receive timestamps of -socket-timestamps.
 * Needs Go; TENSORFLEET_SKIP_GO_TESTS=1 skips this file on machines without it.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const LOAD_GO = fileURLToPath(new URL('../../../bench/load-go', import.meta.url));
const skipped = process.env.TENSORFLEET_SKIP_GO_TESTS === '1';

test.skipIf(skipped)('the Go load generator passes its tests', () => {
  // -count=1: run them, not Go's cached result.
  const run = spawnSync('go', ['test', '-count=1', './...'], { cwd: LOAD_GO, encoding: 'utf8' });
  if (run.error) throw new Error(`cannot run go (${run.error.message}): install Go (the version bench/load-go/go.mod names, or a newer one), or set TENSORFLEET_SKIP_GO_TESTS=1`);
  expect(run.status, `go test in bench/load-go failed:\n${run.stdout}${run.stderr}`).toBe(0);
}, 600_000);
