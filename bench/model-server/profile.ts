/**
 * Profiles the server under tiny-model load: starts it with --cpu-prof, runs gRPC Predict at the
 * given concurrency, stops it and prints a summary of each profile (main thread and workers).
 *
 *   node --import tsx bench/model-server/profile.ts [--concurrency=32] [--seconds=10] [--threads=1] [--model=tiny|mobilenet]
 *     [--client=go|grpc-js] [--node-args=--trace-gc,...] [--probe] [-- more serve flags]
 *
 * --probe also runs the benchmark's GetModelStatus probe (one call every ~10 ms) during the load.
 *
 * The Go client (the default) is the benchmark's own; grpc-js clients take more of the two cores.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarizeProfile, type Profile } from '../lib/cpu-profile-summary.js';
import { benchInput } from '../lib/inputs.js';
import { runLoad } from '../lib/load-runner.js';
import { freePort } from '../lib/machine.js';
import { ensureMobilenet } from '../lib/mobilenet.js';
import { GET_MODEL_STATUS_METHOD, PREDICT_METHOD, predictRequestBytes, statusRequestBytes } from '../lib/requests.js';
import { startServer, threadCpuMs } from '../lib/server-process.js';
import { fmt } from '../lib/stats.js';
import { grpcProbe } from '../lib/status-probe.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const flag = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

async function main(): Promise<void> {
  const concurrency = Number(flag('concurrency', '32'));
  const seconds = Number(flag('seconds', '10'));
  const threads = Number(flag('threads', '1'));
  const mobilenet = flag('model', 'tiny') === 'mobilenet';
  const client = flag('client', 'go');
  if (client !== 'go' && client !== 'grpc-js') throw new Error(`--client must be go or grpc-js, not ${client}`);
  const dashes = process.argv.indexOf('--');
  const serveArgs = dashes === -1 ? [] : process.argv.slice(dashes + 1);
  const dir = mkdtempSync(join(tmpdir(), 'tensorfleet-profile-'));
  const base = mobilenet ? ensureMobilenet(process.env, console.log) : join(REPO, 'test/fixtures/models/tiny');
  const config = join(dir, 'models.yaml');
  writeFileSync(config, `model_config_list:\n  - {name: m, base_path: ${JSON.stringify(base)}}\n`);
  const server = await startServer({
    configFile: config,
    grpcPort: await freePort(),
    restPort: await freePort(),
    inferenceThreads: threads,
    serveArgs,
    nodeArgs: [
      ...(process.argv.includes('--no-cpu-prof') ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]),
      ...flag('node-args', '').split(',').filter(Boolean),
    ],
    logFile: join(dir, 'server.log'),
  });
  const shape = mobilenet ? [1, 224, 224, 3] : [1, 4];
  const input = mobilenet ? 'images' : 'x';
  const request = predictRequestBytes({ model: 'm', inputs: { [input]: { shape, values: benchInput(shape) } } });
  const processes = concurrency >= 16 ? 2 : 1;
  try {
    const before = threadCpuMs(server.pid);
    const probe = process.argv.includes('--probe') ? [grpcProbe(server.grpcAddress, GET_MODEL_STATUS_METHOD, statusRequestBytes('m'), 1000, seconds * 1000)] : [];
    const [r, status] = await runLoad([
      {
        client,
        processes,
        job: {
          target: { kind: 'grpc', address: server.grpcAddress, method: PREDICT_METHOD, requestBase64: request.toString('base64') },
          concurrency: concurrency / processes,
          warmupMs: 1000,
          durationMs: seconds * 1000,
        },
      },
      ...probe,
    ]);
    console.log(`${fmt(r!.rps)} req/s p50 ${fmt(r!.p50)} ms p99 ${fmt(r!.p99)} ms errors ${r!.errors}`);
    if (status) console.log(`GetModelStatus p50 ${fmt(status.p50)} ms p99 ${fmt(status.p99)} ms (to the client's socket: p99 ${fmt(status.toSocket?.p99 ?? NaN)} ms)`);
    // Per-thread CPU over warm-up + window, per recorded call (threads grouped by name).
    const after = threadCpuMs(server.pid);
    const calls = r!.count * ((seconds + 1) / seconds);
    const rows = [...after].map(([key, ms]) => {
      const [tid, ...name] = key.split(' ');
      const label = tid === String(server.pid) ? 'main thread (event loop)' : name.join(' ');
      return { label: `${label} [${tid}]`, us: ((ms - (before.get(key) ?? 0)) * 1000) / calls };
    });
    console.log('server CPU per recorded call, by thread (µs; Node threads are all named "node": the busiest after main is the inference worker):');
    for (const row of rows.filter((x) => x.us >= 0.5).sort((x, y) => y.us - x.us)) console.log(`  ${row.us.toFixed(1).padStart(7)}  ${row.label}`);
    console.log(`  ${rows.reduce((n, x) => n + x.us, 0).toFixed(1).padStart(7)}  total`);
  } finally {
    await server.stop();
  }
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    console.log(`\n== ${join(dir, file)}`);
    console.log(summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile, 25));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
