import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoFile = (path: string): string => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
export const CHART = repoFile('charts/tensorfleet');
/** Helm built from source defaults to an old Kubernetes version; render for the one we test against. */
export const KUBE_VERSION = 'v1.36.3';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules?: unknown[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
  spec?: Record<string, unknown>;
}

function run(cmd: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Path of the helm binary, built once by scripts/k8s/ensure-helm.sh (cached by version). */
export async function ensureHelm(): Promise<string> {
  const result = await run('bash', [repoFile('scripts/k8s/ensure-helm.sh')]);
  if (result.code !== 0) throw new Error(`scripts/k8s/ensure-helm.sh failed: ${result.stderr}`);
  return result.stdout.trim();
}

export async function helm(bin: string, args: readonly string[]): Promise<string> {
  const result = await run(bin, args);
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** `helm template` of the chart: the YAML text and its parsed documents. */
export async function template(bin: string, release: string, namespace: string, sets: readonly string[] = [], extra: readonly string[] = []): Promise<{ text: string; docs: Manifest[] }> {
  const text = await helm(bin, ['template', release, CHART, '--namespace', namespace, '--kube-version', KUBE_VERSION, ...sets.flatMap((s) => ['--set', s]), ...extra]);
  const docs = parseAllDocuments(text)
    .map((d) => d.toJS() as Manifest | null)
    .filter((d): d is Manifest => d !== null);
  return { text, docs };
}
