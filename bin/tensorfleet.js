#!/usr/bin/env -S node --max-semi-space-size=8 --heap-growing-percent=300
// Entry point. In a fresh checkout (after `npm install`, whose scripts are off: see .npmrc) the
// first run prepares native TensorFlow and compiles the sources; afterwards this is three stat calls.
// The shebang's V8 flags keep GC pauses short and rare (docs/decisions/0005, 0006).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function prepare(what, args) {
  process.stderr.write(`tensorfleet: ${what} (first run only)\n`);
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    process.stderr.write(`tensorfleet: ${what} failed; run \`npm run setup\` in ${root} and see docs/native-tensorflow.md\n`);
    process.exit(1);
  }
}

const tfjsNode = dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
if (!existsSync(join(tfjsNode, 'deps', '.tensorfleet-native.json'))) {
  prepare('setting up native TensorFlow', [join(root, 'scripts/native-tf/ensure-native-tf.mjs')]);
}
const compiled = join(root, 'dist/cli/main.js');
const compiling = join(root, '.tensorfleet-compile.lock');
// While another first run compiles (its lock is there), wait for it rather than read its files.
if (!existsSync(compiled) || existsSync(compiling)) {
  const { withSetupLock } = await import('../scripts/native-tf/setup-lock.mjs');
  withSetupLock(compiling, () => {
    if (existsSync(compiled)) return;
    prepare('compiling TensorFleet', [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')]);
  });
}
await import('../dist/cli/main.js');
