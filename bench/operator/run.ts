/**
 * Operator benchmark (issue 4): N ServedModels created at once against a real control plane;
 * time until all are reconciled, API writes per ServedModel, writes at steady state (must be 0),
 * operator memory. Prints the result and writes the `## Operator` section of docs/benchmarks.md.
 *
 *   npx tsx bench/operator/run.ts [--count=1000] [--concurrency=16] [--workers=2]
 *                                 [--steady-seconds=30] [--timeout-seconds=480] [--no-build] [--write-docs|--no-docs]
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { K8S_VERSION, OPERATOR_USER, startControlPlane, type ControlPlane } from '../../test/helpers/k8s/control-plane.js';
import { installCrdAndRbac } from '../../test/helpers/k8s/install-operator-rbac.js';
import { kubectlOk } from '../../test/helpers/k8s/kubectl.js';
import { countWrites } from './audit-writes.js';
import { convergedNames, type Named } from './convergence.js';
import { renderSection, replaceSection, type OperatorBenchResult, type WindowResult } from './report.js';

const HELP = `Usage: npx tsx bench/operator/run.ts [flags]
  --count=N              ServedModels to create (default 1000)
  --concurrency=N        creates in flight (default 16)
  --workers=N            operator workers (default 2, the operator's default)
  --steady-seconds=N     length of each steady-state window (default 30)
  --timeout-seconds=N    give up waiting for convergence after this (default 480)
  --no-build             use dist/ as it is (default: compile with tsc first)
  --write-docs           update docs/benchmarks.md even for --count below 1000
  --no-docs              never update docs/benchmarks.md`;

const root = fileURLToPath(new URL('../../', import.meta.url));
const GROUP = 'tensorfleet.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'servedmodels';
const NAMESPACE = 'bench';
const WRITES = 'tensorfleet_operator_api_writes_total';
const RECONCILES = 'tensorfleet_operator_reconciles_total';
const MiB = 1024 * 1024;
const SERVICE_CIDR = 'apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: bench-extra}\nspec: {cidrs: [10.96.0.0/16]}\n';

interface Flags {
  count: number;
  concurrency: number;
  workers: number;
  steadySeconds: number;
  timeoutSeconds: number;
  build: boolean;
  docs: 'auto' | 'always' | 'never';
}

function parseFlags(argv: string[]): Flags | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      count: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '16' },
      workers: { type: 'string', default: '2' },
      'steady-seconds': { type: 'string', default: '30' },
      'timeout-seconds': { type: 'string', default: '480' },
      'no-build': { type: 'boolean', default: false },
      'write-docs': { type: 'boolean', default: false },
      'no-docs': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return undefined;
  const positive = (name: string, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${v}"`);
    return n;
  };
  return {
    count: positive('count', values.count),
    concurrency: positive('concurrency', values.concurrency),
    workers: positive('workers', values.workers),
    steadySeconds: positive('steady-seconds', values['steady-seconds']),
    timeoutSeconds: positive('timeout-seconds', values['timeout-seconds']),
    build: !values['no-build'],
    docs: values['no-docs'] ? 'never' : values['write-docs'] ? 'always' : 'auto',
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function bounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => lane()));
}

/** A varied but valid spec: most minimal, every tenth with labels and a canary split. */
function servedModel(i: number): Record<string, unknown> {
  const name = `model-${String(i).padStart(4, '0')}`;
  const spec: Record<string, unknown> =
    i % 10 === 0
      ? { source: { uri: `s3://models/${name}` }, versionPolicy: { latest: { count: 2 } }, versionLabels: { stable: 1, canary: 2 }, routing: { canary: { version: 2, percent: 10 } } }
      : { source: { uri: `s3://models/${name}` } };
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'ServedModel', metadata: { name, namespace: NAMESPACE }, spec };
}

interface MemorySample {
  rss: number;
  heapUsed: number;
  cpuUs: number;
}

/** The operator CLI as a child process, with a memory/CPU probe injected through --import (no file, no code change). */
function startOperatorProcess(kubeconfig: string, port: number, workers: number, logFile: string) {
  const probe =
    'const t=setInterval(()=>{const m=process.memoryUsage();const c=process.cpuUsage();' +
    'process.send?.({rss:m.rss,heapUsed:m.heapUsed,cpuUs:c.user+c.system})},250);t.unref();process.channel?.unref();';
  const log = openSync(logFile, 'a');
  const child = spawn(
    process.execPath,
    [
      `--import=data:text/javascript,${encodeURIComponent(probe)}`,
      join(root, 'bin/tensorfleet.js'),
      'operator',
      `--kubeconfig=${kubeconfig}`,
      `--metrics-port=${port}`,
      `--workers=${workers}`,
      '--log-level=info',
    ],
    { stdio: ['ignore', log, log, 'ipc'], cwd: root },
  );
  closeSync(log);
  let latest: MemorySample = { rss: 0, heapUsed: 0, cpuUs: 0 };
  let peakHeapUsed = 0;
  child.on('message', (m: MemorySample) => {
    latest = m;
    peakHeapUsed = Math.max(peakHeapUsed, m.heapUsed);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    memory: () => ({ ...latest, peakHeapUsed }),
    /** Peak resident set size the kernel recorded (VmHWM), in bytes. */
    peakRss: (): number => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = /VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1];
      return kb ? Number(kb) * 1024 : latest.rss;
    },
    async metric(name: string): Promise<number> {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
      return sum;
    },
    async ready(): Promise<boolean> {
      try {
        return (await fetch(`http://127.0.0.1:${port}/readyz`)).ok;
      } catch {
        return false;
      }
    },
    async stop(): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, ${type()} ${release()}`;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (!flags) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const say = (msg: string): void => void process.stderr.write(`[bench:operator] ${msg}\n`);
  if (flags.build) {
    say('compiling dist/ (tsc -p tsconfig.build.json)');
    const built = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('tsc failed; fix the build or pass --no-build to use dist/ as it is');
  }
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build` first');

  const loadBefore = loadavg()[0] ?? 0;
  say('starting etcd, kube-apiserver and kube-controller-manager');
  const cp: ControlPlane = await startControlPlane();
  let operator: ReturnType<typeof startOperatorProcess> | undefined;
  // Ctrl-C must not leave etcd, the apiserver or the operator behind.
  const interrupted = (): void => {
    say('interrupted; stopping the operator and the control plane');
    void (operator?.stop() ?? Promise.resolve()).then(() => cp.stop()).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await installCrdAndRbac(cp);
    // The harness's service range is a /24 (254 ClusterIPs); every ServedModel needs one. A second
    // ServiceCIDR (GA since Kubernetes 1.33) gives the apiserver room, as a cluster admin would.
    await kubectlOk(cp.adminKubeconfig, ['apply', '--server-side', '-f', '-'], SERVICE_CIDR);
    // kube-controller-manager's servicecidrs controller marks it Ready; the harness does not run that
    // controller, so set the condition as it would (the apiserver allocates only from Ready ranges).
    const ready = { type: 'Ready', status: 'True', reason: 'BenchSetUp', message: 'set by bench/operator', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
    await kubectlOk(cp.adminKubeconfig, ['patch', 'servicecidr', 'bench-extra', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions: [ready] } })]);
    await kubectlOk(cp.adminKubeconfig, ['create', 'namespace', NAMESPACE]);
    const kc = new KubeConfig();
    kc.loadFromFile(cp.adminKubeconfig);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const selector = 'app.kubernetes.io/managed-by=tensorfleet-operator';

    const port = await freePort();
    const op = startOperatorProcess(cp.operatorKubeconfig, port, flags.workers, join(cp.dir, 'operator.log'));
    operator = op;
    const readyBy = Date.now() + 60_000;
    while (!(await op.ready())) {
      if (Date.now() > readyBy || op.child.exitCode !== null) throw new Error(`operator did not become ready; log in ${join(cp.dir, 'operator.log')}`);
      await sleep(200);
    }
    await sleep(2000);
    const baselineRss = op.memory().rss;
    say(`operator ready (RSS ${(baselineRss / MiB).toFixed(1)} MiB); creating ${flags.count} ServedModels`);

    const writes0 = await op.metric(WRITES);
    const cpu0 = op.memory().cpuUs;
    const t0 = Date.now();
    const models = Array.from({ length: flags.count }, (_, i) => servedModel(i));
    await bounded(models, flags.concurrency, async (body) => {
      await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NAMESPACE, plural: PLURAL, body });
    });
    const tCreated = Date.now();
    say(`created all in ${((tCreated - t0) / 1000).toFixed(1)} s; waiting for convergence`);

    let converged = 0;
    let tConverged = 0;
    for (;;) {
      const [sms, deps, svcs, cms] = await Promise.all([
        custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NAMESPACE, plural: PLURAL }) as Promise<{ items: Named[] }>,
        apps.listNamespacedDeployment({ namespace: NAMESPACE, labelSelector: selector }),
        core.listNamespacedService({ namespace: NAMESPACE, labelSelector: selector }),
        core.listNamespacedConfigMap({ namespace: NAMESPACE, labelSelector: selector }),
      ]);
      converged = convergedNames(sms.items, { deployments: deps.items, services: svcs.items as Named[], configMaps: cms.items }).size;
      if (converged === flags.count) {
        tConverged = Date.now();
        break;
      }
      if (Date.now() - t0 > flags.timeoutSeconds * 1000) {
        tConverged = Date.now();
        say(`timed out with ${converged}/${flags.count} converged`);
        break;
      }
      await sleep(1000);
    }
    const writesConverged = await op.metric(WRITES);
    const cpuConverge = (op.memory().cpuUs - cpu0) / 1e6;
    say(`${converged}/${flags.count} converged after ${((tConverged - t0) / 1000).toFixed(1)} s; letting it settle`);

    // Settle: kube-controller-manager keeps updating Deployment status for a while; wait for 10 s without writes.
    const window = async (run: () => Promise<void>): Promise<{ from: number; to: number; writes: number; reconciles: number }> => {
      const [w, r] = [await op.metric(WRITES), await op.metric(RECONCILES)];
      const from = Date.now();
      await run();
      const to = Date.now();
      return { from, to, writes: (await op.metric(WRITES)) - w, reconciles: (await op.metric(RECONCILES)) - r };
    };
    const settle = await window(async () => {
      let last = await op.metric(WRITES);
      let stillSince = Date.now();
      const until = Date.now() + 120_000;
      while (Date.now() - stillSince < 10_000 && Date.now() < until) {
        await sleep(1000);
        const now = await op.metric(WRITES);
        if (now !== last) [last, stillSince] = [now, Date.now()];
      }
    });
    say(`settled (${settle.writes} writes in ${((settle.to - settle.from) / 1000).toFixed(1)} s); steady state for ${flags.steadySeconds} s`);
    const idle = await window(() => sleep(flags.steadySeconds * 1000));
    const steadyMemory = op.memory();
    say(`idle: ${idle.writes} writes, ${idle.reconciles} reconciles; now re-annotating every ServedModel`);
    const touched = await window(async () => {
      const end = Date.now() + flags.steadySeconds * 1000;
      await bounded(models, flags.concurrency, async (m) => {
        const name = (m.metadata as { name: string }).name;
        await custom.patchNamespacedCustomObject(
          { group: GROUP, version: VERSION, namespace: NAMESPACE, plural: PLURAL, name, body: { metadata: { annotations: { 'bench.tensorfleet.dev/touched': String(t0) } } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
      });
      await sleep(Math.max(0, end - Date.now()));
    });
    say(`touched: ${touched.writes} writes, ${touched.reconciles} reconciles`);
    const peakRss = op.peakRss();
    const peakHeap = op.memory().peakHeapUsed;
    await op.stop();

    const audit = readFileSync(join(cp.dir, 'audit.log'), 'utf8').split('\n');
    const count = (fromMs: number, toMs: number) => countWrites(audit, { user: OPERATOR_USER, fromMs, toMs });
    const toConverge = count(t0, tConverged);
    const asWindow = (w: { from: number; to: number; writes: number; reconciles: number }): WindowResult => ({
      seconds: (w.to - w.from) / 1000,
      auditWrites: count(w.from, w.to).total,
      metricWrites: w.writes,
      reconciles: w.reconciles,
    });
    const argv = process.argv.slice(2).filter((a) => a !== '--write-docs');
    const result: OperatorBenchResult = {
      date: new Date().toISOString().slice(0, 10),
      machine: machine(),
      node: process.version,
      kubernetes: K8S_VERSION,
      command: ['npx tsx bench/operator/run.ts', ...argv].join(' '),
      load: { before: loadBefore, after: loadavg()[0] ?? 0 },
      count: flags.count,
      concurrency: flags.concurrency,
      workers: flags.workers,
      applySeconds: (tCreated - t0) / 1000,
      convergeSeconds: ((toConverge.lastMs ?? tConverged) - t0) / 1000,
      convergeObservedSeconds: (tConverged - t0) / 1000,
      converged,
      writesToConverge: { audit: toConverge.total, metric: writesConverged - writes0, byKind: toConverge.byKind },
      settle: asWindow(settle),
      idle: asWindow(idle),
      touched: asWindow(touched),
      memory: {
        baselineRssMiB: baselineRss / MiB,
        peakRssMiB: peakRss / MiB,
        steadyRssMiB: steadyMemory.rss / MiB,
        steadyHeapUsedMiB: steadyMemory.heapUsed / MiB,
        peakHeapUsedMiB: peakHeap / MiB,
      },
      cpuSecondsToConverge: cpuConverge,
    };
    const section = renderSection(result);
    process.stdout.write(`${section}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (flags.docs === 'always' || (flags.docs === 'auto' && flags.count >= 1000)) {
      const file = join(root, 'docs/benchmarks.md');
      writeFileSync(file, replaceSection(existsSync(file) ? readFileSync(file, 'utf8') : undefined, section));
      say(`wrote the Operator section of ${file}`);
    }
    if (converged !== flags.count) process.exitCode = 1;
    if (result.idle.auditWrites !== 0 || result.touched.auditWrites !== 0) {
      say('steady-state writes were not 0');
      process.exitCode = 1;
    }
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await operator?.stop();
    await cp.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench:operator] failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exitCode = 1;
});
