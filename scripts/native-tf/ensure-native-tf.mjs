#!/usr/bin/env node
// Brings up native TensorFlow for @tensorflow/tfjs-node without its own install script (which
// downloads from a host that is not reachable everywhere). Idempotent and cached by version
// outside the checkout, so a fresh clone on the same machine needs seconds, not minutes.
// Why and how: docs/decisions/0001-native-tensorflow.md. Settings: docs/native-tensorflow.md.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { withSetupLock } from './setup-lock.mjs';

const require = createRequire(import.meta.url);
const env = process.env;
const WHEEL_VERSION = env.TENSORFLEET_TF_WHEEL_VERSION ?? '2.21.0';
const cacheDir = path.resolve(
  env.TENSORFLEET_CACHE_DIR ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'tensorfleet'),
);
const pkgDir = path.dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
const depsLib = path.join(pkgDir, 'deps', 'lib');
const markerPath = path.join(pkgDir, 'deps', '.tensorfleet-native.json');

const log = (msg) => process.stderr.write(`[native-tf] ${msg}\n`);

function run(cmd, args, options = {}) {
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
}

/** Which libtensorflow to use, and a key naming it exactly (the cache key). */
function chooseSource() {
  const dir = env.TENSORFLEET_LIBTENSORFLOW_DIR;
  if (dir) {
    const abs = path.resolve(dir);
    const digest = createHash('sha256').update(abs).digest('hex').slice(0, 12);
    return { kind: 'dir', dir: abs, key: `dir-${digest}` };
  }
  if (env.TENSORFLEET_NATIVE_TF_SOURCE === 'upstream') return { kind: 'upstream', key: 'upstream' };
  return { kind: 'wheel', version: WHEEL_VERSION, key: `wheel-tensorflow-cpu-${WHEEL_VERSION}` };
}

function addonFile() {
  const libDir = path.join(pkgDir, 'lib');
  if (!fs.existsSync(libDir)) return undefined;
  for (const sub of fs.readdirSync(libDir)) {
    const candidate = path.join(libDir, sub, 'tfjs_binding.node');
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

function isReady(key) {
  try {
    const marker = JSON.parse(fs.readFileSync(markerPath, 'utf8'));
    if (marker.key !== key || marker.tfjsNode !== pkg.version) return false;
    // Symlinks into the cache: a removed cache means a rebuild.
    return addonFile() !== undefined && marker.libs.every((lib) => fs.existsSync(path.join(depsLib, lib)));
  } catch {
    return false;
  }
}

/** Extracts the C library and headers from the tensorflow-cpu wheel into the cache. */
function libtensorflowFromWheel(version) {
  const target = path.join(cacheDir, 'libtensorflow', `tensorflow-cpu-${version}`);
  if (fs.existsSync(path.join(target, 'complete'))) return target;
  const wheels = path.join(cacheDir, 'wheels');
  fs.mkdirSync(wheels, { recursive: true });
  const findWheel = () =>
    fs.readdirSync(wheels).find((f) => f.startsWith(`tensorflow_cpu-${version}-`) && f.endsWith('.whl'));
  if (!findWheel()) {
    log(`downloading the tensorflow-cpu ${version} wheel (about 270 MB) with pip`);
    // The C library does not depend on the Python version; pin the tags so any local pip works.
    run('python3', ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--python-version', '3.11',
      '--implementation', 'cp', '--abi', 'cp311', '--platform', 'manylinux_2_27_x86_64',
      '-d', wheels, `tensorflow-cpu==${version}`]);
  }
  const wheel = findWheel();
  if (!wheel) throw new Error(`pip did not leave a tensorflow-cpu ${version} wheel in ${wheels}`);
  log(`extracting libtensorflow from ${wheel}`);
  const staging = `${target}.partial-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  const extract = [
    'import sys, zipfile, os',
    'whl, out = sys.argv[1], sys.argv[2]',
    'z = zipfile.ZipFile(whl)',
    'libs = {"tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2"}',
    'for n in z.namelist():',
    '    if n in libs: z.extract(n, out)',
    '    elif n.startswith("tensorflow/include/") and not n.endswith("/"): z.extract(n, out)',
  ].join('\n');
  run('python3', ['-c', extract, path.join(wheels, wheel), staging]);
  fs.mkdirSync(path.join(staging, 'lib'));
  for (const lib of ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2']) {
    fs.renameSync(path.join(staging, 'tensorflow', lib), path.join(staging, 'lib', lib));
  }
  fs.renameSync(path.join(staging, 'tensorflow', 'include'), path.join(staging, 'include'));
  fs.rmSync(path.join(staging, 'tensorflow'), { recursive: true });
  fs.writeFileSync(path.join(staging, 'complete'), `${wheel}\n`);
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(staging, target);
  return target;
}

/** Points the package's deps/ at a libtensorflow (lib/ + include/) under the names it links. */
function linkDeps(libRoot) {
  const libDir = path.join(libRoot, 'lib');
  const find = (...names) => names.map((n) => path.join(libDir, n)).find((p) => fs.existsSync(p));
  const cc = find('libtensorflow_cc.so.2', 'libtensorflow.so.2', 'libtensorflow.so');
  const framework = find('libtensorflow_framework.so.2', 'libtensorflow_framework.so');
  if (!cc || !framework) {
    throw new Error(`${libDir} must hold libtensorflow_cc.so.2 (or libtensorflow.so.2) and libtensorflow_framework.so.2`);
  }
  fs.rmSync(path.join(pkgDir, 'deps'), { recursive: true, force: true });
  fs.mkdirSync(depsLib, { recursive: true });
  // The addon links -ltensorflow; the library's SONAME decides the runtime name, so offer all.
  const links = {
    'libtensorflow.so': cc, 'libtensorflow.so.2': cc, 'libtensorflow.so.2.9.1': cc,
    [path.basename(cc)]: cc, 'libtensorflow_framework.so': framework, 'libtensorflow_framework.so.2': framework,
  };
  for (const [name, target] of Object.entries(links)) fs.symlinkSync(target, path.join(depsLib, name));
  fs.symlinkSync(path.join(libRoot, 'include'), path.join(pkgDir, 'deps', 'include'));
  return Object.keys(links);
}

function nodeHeadersEnv() {
  if (env.npm_config_nodedir) return {};
  const prefix = path.dirname(path.dirname(process.execPath));
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? { npm_config_nodedir: prefix } : {};
}

/** Builds the addon against deps/, or reuses the one built before for the same key. */
function buildAddon(key) {
  const cached = path.join(cacheDir, 'tfjs-node-addon', `${pkg.version}-${key}-${process.platform}-${process.arch}`);
  const cachedMeta = path.join(cached, 'addon.json');
  if (fs.existsSync(cachedMeta)) {
    const { relPath } = JSON.parse(fs.readFileSync(cachedMeta, 'utf8'));
    const installed = path.join(pkgDir, relPath);
    fs.mkdirSync(path.dirname(installed), { recursive: true });
    // A new file renamed into place: overwriting the old one would change it under a server
    // process that has it loaded.
    fs.copyFileSync(path.join(cached, 'tfjs_binding.node'), `${installed}.${process.pid}`);
    fs.renameSync(`${installed}.${process.pid}`, installed);
    log(`reused the addon built before (${cached})`);
    return;
  }
  log('building the tfjs-node addon from source (about a minute)');
  const preGyp = require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp', { paths: [pkgDir] });
  run(process.execPath, [preGyp, 'install', '--build-from-source'], {
    cwd: pkgDir,
    env: { ...env, ...nodeHeadersEnv(), npm_config_node_gyp: require.resolve('node-gyp/bin/node-gyp.js') },
  });
  const built = addonFile();
  if (!built) throw new Error('node-pre-gyp finished but left no tfjs_binding.node');
  fs.mkdirSync(cached, { recursive: true });
  fs.copyFileSync(built, path.join(cached, 'tfjs_binding.node'));
  fs.writeFileSync(cachedMeta, JSON.stringify({ relPath: path.relative(pkgDir, built) }));
}

function verify() {
  const probe = "const tf=require('@tensorflow/tfjs-node');process.stdout.write(tf.version['tfjs-node'])";
  execFileSync(process.execPath, ['-e', probe], { cwd: path.dirname(pkgDir), stdio: ['ignore', 'pipe', 'inherit'] });
}

function main() {
  const source = chooseSource();
  if (isReady(source.key)) return;
  fs.mkdirSync(cacheDir, { recursive: true });
  // One setup at a time on this machine: the cache is shared by checkouts, deps/ by processes.
  withSetupLock(path.join(cacheDir, 'native-tf.lock'), () => setUp(source), {
    onWait: (pid) => log(`waiting for the setup in process ${pid ?? '(starting)'} to finish`),
  });
}

function setUp(source) {
  if (isReady(source.key)) return; // the setup we waited for did it
  let libs;
  if (source.kind === 'upstream') {
    log("running tfjs-node's own install script (downloads libtensorflow 2.9.1 and a prebuilt addon)");
    run(process.execPath, [path.join(pkgDir, 'scripts', 'install.js')], { cwd: pkgDir });
    libs = fs.readdirSync(depsLib);
  } else {
    const root = source.kind === 'dir' ? source.dir : libtensorflowFromWheel(source.version);
    libs = linkDeps(root);
    buildAddon(source.key);
  }
  verify();
  fs.writeFileSync(markerPath, JSON.stringify({ key: source.key, tfjsNode: pkg.version, libs }, null, 2));
  log(`native TensorFlow is ready (${source.key})`);
}

try {
  main();
} catch (error) {
  log(`failed: ${error instanceof Error ? error.message : String(error)}`);
  log('see docs/native-tensorflow.md for the settings (TENSORFLEET_LIBTENSORFLOW_DIR, TENSORFLEET_NATIVE_TF_SOURCE)');
  process.exit(1);
}
