/**
 * Native TensorFlow's setup (scripts/native-tf/ensure-native-tf.mjs) run by several processes at
 * once, as two servers started together in a fresh checkout run it: before its lock, one relinked
 * tfjs-node's deps/ while another was loading it, and failed in about one of five tries. Runs on
 * this checkout: the setup is idempotent and, with its cache, takes seconds.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/server/build-check.js';

const SETUP = join(REPO_ROOT, 'scripts/native-tf/ensure-native-tf.mjs');
const MARKER = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-node/package.json')), 'deps', '.tensorfleet-native.json');

function setup(): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SETUP], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('native TensorFlow setup', () => {
  it('three setups started at once in a checkout without it: all succeed, one does the work, and TensorFlow loads', async () => {
    for (let round = 0; round < 2; round++) {
      rmSync(MARKER, { force: true });
      const runs = await Promise.all([setup(), setup(), setup()]);
      for (const run of runs) expect(run.code, run.stderr).toBe(0);
      expect(runs.filter((run) => run.stderr.includes('native TensorFlow is ready')), runs.map((r) => r.stderr).join('\n---\n')).toHaveLength(1);
    }
    const again = await setup();
    expect(again).toEqual({ code: 0, stderr: '' });
    // The native library's own version, through the addon (tfjs-node's public ops use a util
    // function Node 23+ removed, so they are not the probe: the server does not use them).
    const version = await new Promise<string>((resolve) => {
      let out = '';
      const child = spawn(process.execPath, ['-e', "process.stdout.write(require('@tensorflow/tfjs-node').backend().binding.TF_Version)"], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('exit', () => resolve(out));
    });
    expect(version).toMatch(/^2\.\d+\.\d+/);
  }, 240_000);
});
