import { parseArgs } from 'node:util';
import type { OperatorOptions } from '../operator/main.js';

export const OPERATOR_HELP = `Usage: tensorfleet operator [flags]

Reconciles ServedModel resources into model server Deployments.

Flags:
  --kubeconfig=<path>            kubeconfig to use (default: in-cluster, else $KUBECONFIG / ~/.kube/config)
  --namespace=<ns>               watch one namespace only (default: all namespaces)
  --leader-elect                 campaign for a Lease so only one replica acts
  --leader-election-namespace=<ns>
  --leader-election-name=<name>  Lease name (default tensorfleet-operator); one per release sharing a namespace
  --metrics-host=<address>       address of the health/metrics server (default 0.0.0.0)
  --resync=<seconds>             re-reconcile everything this often (default 300)
  --pod-status-interval=<seconds>  ask ready pods what they serve this often (default 15; 0 turns it off)
  --pod-status-timeout=<seconds>   timeout of one such request (default 2)
  --autoscaling-grace=<seconds>  how long a ServedModel's autoscaler may fail to scale before status says Degraded (default 180)
  --metrics-port=<port>          /healthz, /readyz and /metrics (default 8080)
  --image=<image>                model server image for ServedModels that name none
  --workers=<n>                  concurrent reconciles (default 2)
  --log-level=<level>            trace, debug, info, warn, error (default info)`;

/** Flags of `tensorfleet operator` as OperatorOptions (the logger is added by the caller). */
export function parseOperatorArgs(argv: readonly string[]): OperatorOptions & { logLevel: string } {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'leader-elect': { type: 'boolean' },
      'leader-election-namespace': { type: 'string' },
      'leader-election-name': { type: 'string' },
      'metrics-host': { type: 'string' },
      resync: { type: 'string' },
      'pod-status-interval': { type: 'string' },
      'pod-status-timeout': { type: 'string' },
      'autoscaling-grace': { type: 'string' },
      'metrics-port': { type: 'string' },
      image: { type: 'string' },
      workers: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
    },
  });
  const num = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v));
  const seconds = (v: string | undefined): number | undefined => (v === undefined ? undefined : Number(v) * 1000);
  return {
    kubeconfig: values.kubeconfig,
    namespace: values.namespace,
    leaderElect: values['leader-elect'] ?? false,
    leaderElectionNamespace: values['leader-election-namespace'],
    leaderElectionName: values['leader-election-name'],
    metricsHost: values['metrics-host'],
    resyncMs: seconds(values.resync),
    podStatusIntervalMs: seconds(values['pod-status-interval']),
    podStatusTimeoutMs: seconds(values['pod-status-timeout']),
    autoscalingGraceMs: seconds(values['autoscaling-grace']),
    metricsPort: num(values['metrics-port']),
    image: values.image,
    workers: num(values.workers),
    logLevel: values['log-level'],
  };
}
