import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { REPO_ROOT } from './build-check.js';
import { FIXTURES_DIR } from './fixture-tensors.js';

const run = promisify(execFile);

/** The venv with TensorFlow, tensorflow-serving-api and tritonclient; created on first use (minutes). */
export async function officialClientPython(): Promise<string> {
  const env = await run('bash', [join(REPO_ROOT, 'scripts', 'python', 'ensure-python-env.sh')], { maxBuffer: 64 * 1024 * 1024, timeout: 900_000 });
  return env.stdout.trim().split('\n').at(-1)!;
}

/**
 * Runs test/compat/tfs_client_check.py (the official client, unmodified) against a server that
 * serves test/fixtures/model-config.yaml, and expects every check to pass.
 */
export async function expectOfficialClientChecksPass(python: string, target: string, extraArgs: readonly string[] = []): Promise<void> {
  const result = await run(python, [join(REPO_ROOT, 'test', 'compat', 'tfs_client_check.py'), target, FIXTURES_DIR, ...extraArgs], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 120_000,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
  }).catch((error: { code?: number; stdout?: string; stderr?: string }) => ({ ...error, failedWith: error.code }));
  const stdout = result.stdout ?? '';
  const summary = /^(\d+) passed, (\d+) failed$/m.exec(stdout);
  const failures = stdout.split('\n').filter((line) => line.startsWith('FAIL'));
  expect({ failedWith: 'failedWith' in result ? result.failedWith : 0, failures }, `${stdout.slice(-4000)}\n${result.stderr?.slice(-2000) ?? ''}`).toEqual({ failedWith: 0, failures: [] });
  expect(summary, stdout.slice(-2000)).not.toBeNull();
  expect(Number(summary![1])).toBeGreaterThanOrEqual(85);
  // MultiInference (classify + regress in one call) on each census case of both exports.
  expect(stdout.split('\n').filter((line) => line.startsWith('PASS multi-inference')).length).toBe(6);
  expect(Number(summary![2])).toBe(0);
}

/**
 * Runs test/compat/v2_client_check.py (Triton's HTTP and gRPC clients, unmodified) against the
 * Open Inference Protocol APIs of a server that serves test/fixtures/model-config.yaml, and
 * expects every check to pass.
 */
export async function expectV2ClientChecksPass(python: string, restHostPort: string, grpcTarget: string): Promise<void> {
  const result = await run(python, [join(REPO_ROOT, 'test', 'compat', 'v2_client_check.py'), restHostPort, grpcTarget, FIXTURES_DIR], {
    maxBuffer: 16 * 1024 * 1024,
    timeout: 120_000,
  }).catch((error: { code?: number; stdout?: string; stderr?: string }) => ({ ...error, failedWith: error.code }));
  const stdout = result.stdout ?? '';
  const failures = stdout.split('\n').filter((line) => line.startsWith('FAIL'));
  expect({ failedWith: 'failedWith' in result ? result.failedWith : 0, failures }, `${stdout.slice(-4000)}\n${result.stderr?.slice(-2000) ?? ''}`).toEqual({ failedWith: 0, failures: [] });
  const summary = /^(\d+) passed, 0 failed$/m.exec(stdout);
  expect(summary, stdout.slice(-2000)).not.toBeNull();
  // Every predict fixture case over REST with binary tensors (most also as JSON) and over gRPC,
  // plus health, metadata and errors over both.
  const passes = (prefix: string): number => stdout.split('\n').filter((line) => line.startsWith(prefix)).length;
  expect(passes('PASS infer binary')).toBeGreaterThanOrEqual(30);
  expect(passes('PASS infer json')).toBeGreaterThanOrEqual(20);
  expect(passes('PASS grpc infer binary')).toBe(passes('PASS infer binary'));
  // Triton's model configuration, repository index and statistics, decoded by both clients.
  expect(passes('PASS model config') + passes('PASS grpc model config')).toBe(2);
  expect(passes('PASS repository index') + passes('PASS grpc repository index')).toBe(2);
  expect(passes('PASS statistics') + passes('PASS grpc statistics')).toBe(2);
}
