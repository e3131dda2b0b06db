/**
 * A real Kubernetes control plane on loopback for integration tests: etcd, kube-apiserver and
 * kube-controller-manager (Deployments, ReplicaSets, garbage collection, namespaces, disruption
 * budgets, resource quotas, horizontal pod autoscalers without a metrics API), built by
 * scripts/k8s/ensure-control-plane.sh. No kubelet: pods never run.
 *
 * Two identities: `admin` (system:masters) and `operator`, which has only the permissions
 * deploy/rbac.yaml grants the operator's ServiceAccount (bound by the tests), so the operator
 * is tested under least privilege.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const K8S_VERSION = 'v1.36.3';
export const OPERATOR_USER = 'tensorfleet-operator-test';

export function controlPlaneBinDir(): string {
  if (process.env.TENSORFLEET_K8S_BIN_DIR) return process.env.TENSORFLEET_K8S_BIN_DIR;
  const cache = process.env.TENSORFLEET_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'tensorfleet');
  return join(cache, 'k8s', K8S_VERSION, 'bin');
}

/** Why the control plane cannot start here, or undefined when it can. */
export function missingControlPlane(): string | undefined {
  const bin = controlPlaneBinDir();
  const missing = ['etcd', 'kube-apiserver', 'kube-controller-manager'].filter((b) => !existsSync(join(bin, b)));
  if (missing.length === 0) return undefined;
  return `control plane binaries missing in ${bin} (${missing.join(', ')}): run scripts/k8s/ensure-control-plane.sh first, or set TENSORFLEET_SKIP_K8S_TESTS=1 to skip the Kubernetes tests`;
}

/** Whether the Kubernetes integration tests are deliberately skipped. */
export const k8sTestsSkipped = (): boolean => process.env.TENSORFLEET_SKIP_K8S_TESTS === '1';

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

function kubeconfigYaml(server: string, user: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: test',
    '  cluster:',
    `    server: ${server}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: test',
    '  context:',
    '    cluster: test',
    `    user: ${user}`,
    '    namespace: default',
    'current-context: test',
    '',
  ].join('\n');
}

export interface ControlPlane {
  readonly server: string;
  readonly dir: string;
  /** Kubeconfig of a system:masters user. */
  readonly adminKubeconfig: string;
  /** Kubeconfig of OPERATOR_USER, who holds only what the tests bind to it. */
  readonly operatorKubeconfig: string;
  /** Stop and start kube-apiserver (the operator must ride it out). */
  restartApiServer(): Promise<void>;
  stop(): Promise<void>;
}

interface Proc {
  child: ChildProcess;
  name: string;
}

function startProc(bin: string, name: string, args: string[], logDir: string): Proc {
  const log = createWriteStream(join(logDir, `${name}.log`));
  const child = spawn(join(bin, name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return { child, name };
}

async function stopProc(proc: Proc): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, logs: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  throw new Error(`${what} did not become ready within ${timeoutMs} ms; logs in ${logs}`);
}

async function httpsOk(url: string, token: string): Promise<boolean> {
  // The apiserver's serving certificate is self-signed; trust it for loopback only.
  const { request } = await import('node:https');
  return new Promise((resolve) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export async function startControlPlane(): Promise<ControlPlane> {
  const missing = missingControlPlane();
  if (missing) throw new Error(missing);
  const bin = controlPlaneBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'tensorfleet-k8s-'));
  const [etcdPort, peerPort, apiPort, kcmPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const adminToken = randomBytes(16).toString('hex');
  const operatorToken = randomBytes(16).toString('hex');
  const kcmToken = randomBytes(16).toString('hex');
  writeFileSync(
    join(dir, 'tokens.csv'),
    [
      `${adminToken},admin,admin,"system:masters"`,
      `${kcmToken},system:kube-controller-manager,kcm,"system:masters"`,
      `${operatorToken},${OPERATOR_USER},operator,"system:authenticated"`,
      '',
    ].join('\n'),
  );
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  const server = `https://127.0.0.1:${apiPort}`;
  const adminKubeconfig = join(dir, 'admin.kubeconfig');
  const operatorKubeconfig = join(dir, 'operator.kubeconfig');
  const kcmKubeconfig = join(dir, 'kcm.kubeconfig');
  writeFileSync(adminKubeconfig, kubeconfigYaml(server, 'admin', adminToken));
  writeFileSync(operatorKubeconfig, kubeconfigYaml(server, OPERATOR_USER, operatorToken));
  writeFileSync(kcmKubeconfig, kubeconfigYaml(server, 'kcm', kcmToken));

  const etcd = startProc(bin, 'etcd', [
    '--name=default',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=http://127.0.0.1:${etcdPort}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
    '--unsafe-no-fsync',
    '--log-level=warn',
  ], dir);
  const procs: Proc[] = [etcd];
  const apiArgs = [
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    `--secure-port=${apiPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--cert-dir=${join(dir, 'certs')}`,
    // /16: room for the 1,000-ServedModel benchmark's ClusterIPs.
    '--service-cluster-ip-range=10.0.0.0/16',
    '--authorization-mode=RBAC',
    `--token-auth-file=${join(dir, 'tokens.csv')}`,
    '--service-account-issuer=https://kubernetes.default.svc',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--disable-admission-plugins=ServiceAccount',
    '--allow-privileged=true',
    `--audit-policy-file=${join(dir, 'audit-policy.yaml')}`,
    `--audit-log-path=${join(dir, 'audit.log')}`,
  ];
  writeFileSync(join(dir, 'audit-policy.yaml'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  verbs: [create, update, patch, delete]\n- level: None\n');
  let api: Proc | undefined;
  const startApi = async (): Promise<void> => {
    api = startProc(bin, 'kube-apiserver', apiArgs, dir);
    await waitFor('kube-apiserver', () => httpsOk(`${server}/readyz`, adminToken), 90_000, dir);
  };
  let kcm: Proc | undefined;
  const stop = async (): Promise<void> => {
    for (const p of [kcm, api, etcd]) if (p) await stopProc(p);
    if (process.env.TENSORFLEET_KEEP_K8S_DIR !== '1') rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor('etcd', async () => (await fetch(`http://127.0.0.1:${etcdPort}/health`)).ok, 30_000, dir);
    await startApi();
    kcm = startProc(bin, 'kube-controller-manager', [
      `--kubeconfig=${kcmKubeconfig}`,
      `--authentication-kubeconfig=${kcmKubeconfig}`,
      `--authorization-kubeconfig=${kcmKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${kcmPort}`,
      `--cert-dir=${join(dir, 'kcm-certs')}`,
      '--leader-elect=false',
      '--use-service-account-credentials=false',
      `--service-account-private-key-file=${join(dir, 'sa.key')}`,
      '--controllers=deployment-controller,replicaset-controller,garbage-collector-controller,namespace-controller,disruption-controller,resourcequota-controller,horizontal-pod-autoscaler-controller,persistentvolume-binder-controller',
      // spec.autoscaling's tests wait for the HPA controller; its default period is 15 s.
      '--horizontal-pod-autoscaler-sync-period=1s',
      // pvc:// sources' tests wait for a claim to bind to a volume they create.
      '--pvclaimbinder-sync-period=1s',
    ], dir);
    procs.push(kcm);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    server,
    dir,
    adminKubeconfig,
    operatorKubeconfig,
    async restartApiServer() {
      if (api) await stopProc(api);
      await startApi();
    },
    stop,
  };
}

export { sleep };
