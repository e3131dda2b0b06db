/** The operator benchmark's result, rendered as the `## Operator` section of docs/benchmarks.md. */

export interface WindowResult {
  readonly seconds: number;
  /** Writes counted by the apiserver's audit log (the operator's identity). */
  readonly auditWrites: number;
  /** The operator's own tensorfleet_operator_api_writes_total over the same window. */
  readonly metricWrites: number;
  readonly reconciles: number;
}

export interface OperatorBenchResult {
  readonly date: string;
  readonly machine: string;
  readonly node: string;
  readonly kubernetes: string;
  readonly command: string;
  /** 1-minute load average before and after the run (other work on the same cores skews the numbers). */
  readonly load: { readonly before: number; readonly after: number };
  readonly count: number;
  readonly concurrency: number;
  readonly workers: number;
  /** Seconds from the first create until the last ServedModel was created. */
  readonly applySeconds: number;
  /** Seconds from the first create until the operator's last write that convergence needed (audit log). */
  readonly convergeSeconds: number;
  /** Seconds from the first create until a poll saw every ServedModel converged (an upper bound). */
  readonly convergeObservedSeconds: number;
  readonly converged: number;
  readonly writesToConverge: { readonly audit: number; readonly metric: number; readonly byKind: Readonly<Record<string, number>> };
  /** After convergence, until the write counter stayed still (kube-controller-manager still updates Deployment status). */
  readonly settle: WindowResult;
  /** Nothing changes: no writes expected. */
  readonly idle: WindowResult;
  /** Every ServedModel annotated (metadata only: no new generation): each is reconciled again, no writes expected. */
  readonly touched: WindowResult;
  readonly memory: {
    readonly baselineRssMiB: number;
    readonly peakRssMiB: number;
    readonly steadyRssMiB: number;
    readonly steadyHeapUsedMiB: number;
    readonly peakHeapUsedMiB: number;
  };
  /** Operator CPU seconds (user + system) from the first create until convergence was observed. */
  readonly cpuSecondsToConverge: number;
}

export const SECTION_START = '<!-- bench:operator:start -->';
export const SECTION_END = '<!-- bench:operator:end -->';

const f1 = (n: number): string => n.toFixed(1);
const f2 = (n: number): string => n.toFixed(2);

export function renderSection(r: OperatorBenchResult): string {
  const perModel = r.writesToConverge.audit / Math.max(1, r.count);
  const kinds = Object.entries(r.writesToConverge.byKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const windowRow = (label: string, w: WindowResult): string =>
    `| ${label} | ${f1(w.seconds)} s | ${w.auditWrites} | ${w.metricWrites} | ${w.reconciles} |`;
  return [
    SECTION_START,
    '## Operator',
    '',
    `${r.count} ServedModels created at once (${r.concurrency} creates in flight) against a real kube-apiserver + etcd +`,
    'kube-controller-manager on loopback (`test/helpers/k8s/control-plane.ts`; no kubelet, so pods stay Pending and',
    'status reports 0 ready). The operator runs as a child process (`node bin/tensorfleet.js operator`, no leader',
    `election, ${r.workers} workers) under the least-privilege RBAC of \`deploy/rbac.yaml\`. Writes are counted twice: by the`,
    "apiserver's audit log (requests by the operator's identity) and by the operator's",
    '`tensorfleet_operator_api_writes_total`. Converged = every ServedModel has `status.observedGeneration ==',
    'metadata.generation` and its Deployment, Service, headless Service and ConfigMap exist.',
    '',
    `- Date: ${r.date}`,
    `- Machine: ${r.machine}; Node ${r.node}; Kubernetes ${r.kubernetes}`,
    `- Command: \`${r.command}\``,
    `- Load average (1 min) before / after: ${f2(r.load.before)} / ${f2(r.load.after)}`,
    '',
    '| measure | value |',
    '|---|---|',
    `| ServedModels | ${r.count} (${r.converged} converged) |`,
    `| all created after | ${f1(r.applySeconds)} s |`,
    `| all reconciled after (operator's last needed write) | ${f1(r.convergeSeconds)} s |`,
    `| all reconciled, as seen by a 1 s poll | ${f1(r.convergeObservedSeconds)} s |`,
    `| API writes to converge (audit log / operator metric) | ${r.writesToConverge.audit} / ${r.writesToConverge.metric} |`,
    `| API writes per ServedModel | ${f2(perModel)} |`,
    `| operator CPU time to converge | ${f1(r.cpuSecondsToConverge)} s |`,
    `| operator RSS: idle before / peak / steady | ${f1(r.memory.baselineRssMiB)} / ${f1(r.memory.peakRssMiB)} / ${f1(r.memory.steadyRssMiB)} MiB |`,
    `| operator JS heap used: peak / steady | ${f1(r.memory.peakHeapUsedMiB)} / ${f1(r.memory.steadyHeapUsedMiB)} MiB |`,
    '',
    `Writes by kind while converging: ${kinds || 'none'}.`,
    '',
    'After convergence:',
    '',
    '| window | length | writes (audit) | writes (metric) | reconciles |',
    '|---|---|---|---|---|',
    windowRow('settling (Deployment status updates from kube-controller-manager)', r.settle),
    windowRow('steady state, nothing changes', r.idle),
    windowRow('steady state, every ServedModel re-annotated (forces a reconcile of each, no spec change)', r.touched),
    '',
    'Steady-state writes must be 0. Reproduce with `npx tsx bench/operator/run.ts` (`--count=100` for a quick run;',
    '`--help` for flags). Needs the control plane from `scripts/k8s/ensure-control-plane.sh`.',
    SECTION_END,
  ].join('\n');
}

/** `doc` with the operator section replaced (or appended); a missing doc becomes a title plus the section. */
export function replaceSection(doc: string | undefined, section: string): string {
  if (doc === undefined || doc.trim() === '') return `# Benchmarks\n\n${section}\n`;
  const start = doc.indexOf(SECTION_START);
  const end = doc.indexOf(SECTION_END);
  if (start >= 0 && end > start) return `${doc.slice(0, start)}${section}${doc.slice(end + SECTION_END.length)}`;
  return `${doc.replace(/\s*$/, '')}\n\n${section}\n`;
}
