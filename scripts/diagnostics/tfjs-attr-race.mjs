// Checks whether tfjs-node's binding still crashes when threads run their first ops at once
// (see src/server/servables/tensorflow/prime-tensorflow.ts). Each run is a fresh process whose
// worker threads load TensorFlow, meet at a barrier and then send every dtype through the
// TensorBridge together. Needs a build (`npx tsc -p tsconfig.build.json`).
//
//   node scripts/diagnostics/tfjs-attr-race.mjs [--primed] [--threads=8] [--runs=60]
//
// --primed lets one thread go first (and stay up), as InferencePool.start does. On 2026-12-07
// (tfjs-node 4.22, 8 threads, 2 cores): 9 of 60 runs died with SIGSEGV without it, 0 of 60 with it.
import { spawnSync } from 'node:child_process';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const dist = new URL('../../dist/server/servables/tensorflow/', import.meta.url);

async function runThreads(threads, primed) {
  const start = (n, sab) => new Worker(new URL(import.meta.url), { workerData: { sab, n } });
  const done = (w) => new Promise((resolve, reject) => (w.once('message', resolve), w.once('error', reject)));
  // The first thread stays up, as the pool's does: the last thread to stop unloads TensorFlow.
  const first = primed ? start(1, new SharedArrayBuffer(4)) : undefined;
  if (first) await done(first);
  const sab = new SharedArrayBuffer(4);
  const workers = Array.from({ length: threads }, () => start(threads, sab));
  await Promise.all(workers.map(done));
  process.stdout.write('ops done\n');
  await Promise.all([...workers, ...(first ? [first] : [])].map((w) => w.terminate()));
}

if (!isMainThread) {
  const { loadTfBinding } = await import(new URL('tf-binding.js', dist));
  const { primeTensorflow } = await import(new URL('prime-tensorflow.js', dist));
  const binding = loadTfBinding();
  const arrived = new Int32Array(workerData.sab);
  // The last to arrive wakes the others, so that they start within microseconds of each other.
  if (Atomics.add(arrived, 0, 1) + 1 === workerData.n) Atomics.notify(arrived, 0);
  else while (Atomics.load(arrived, 0) < workerData.n) Atomics.wait(arrived, 0, Atomics.load(arrived, 0), 5);
  primeTensorflow(binding);
  parentPort.postMessage('done');
  // Stay up until terminated, as inference threads do: a thread that ends may unload TensorFlow
  // (and the binding's attribute names with it) if it held the last reference.
  parentPort.on('message', () => undefined);
} else if (process.env.TFJS_ATTR_RACE_CHILD) {
  await runThreads(arg('threads', 8), process.argv.includes('--primed'));
} else {
  const runs = arg('runs', 60);
  let duringOps = 0;
  let afterOps = 0;
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath, process.argv.slice(1), { env: { ...process.env, TFJS_ATTR_RACE_CHILD: '1', TF_CPP_MIN_LOG_LEVEL: '2' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    if (child.status === 0) continue;
    if (child.stdout.includes('ops done')) afterOps += 1;
    else duringOps += 1;
  }
  const mode = process.argv.includes('--primed') ? 'one thread first' : 'all threads at once';
  console.log(`${runs} runs (${mode}): ${duringOps} crashed while the threads ran their first ops, ${afterOps} while stopping`);
  process.exitCode = 0;
}
