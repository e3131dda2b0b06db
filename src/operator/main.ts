/**
 * The operator process: reads its environment, creates the clients, logger and timers, and runs
 * the ServedModel controller (behind leader election when asked). The CLI
 * (`tensorfleet operator`) parses flags into OperatorOptions and calls runOperator.
 */
import { hostname } from 'node:os';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import { invalidArgument } from '../shared/errors.js';
import { startHealthServer } from './runtime/health-server.js';
import { LeaderElector } from './runtime/leader-election.js';
import { OperatorMetrics } from './runtime/metrics.js';
import { ServedModelController } from './runtime/served-model-controller.js';
import type { QueueTimers } from './runtime/work-queue.js';
import { DEFAULT_IMAGE } from './specs/operator-config.js';

export interface OperatorOptions {
  /** Path to a kubeconfig; default: in-cluster config, else $KUBECONFIG / ~/.kube/config. */
  readonly kubeconfig?: string;
  /** Watch and reconcile one namespace only (a Role is then enough); default all namespaces. */
  readonly namespace?: string;
  /** Campaign for a Lease before acting, so several replicas never act at once. Default false. */
  readonly leaderElect?: boolean;
  /** Namespace of the Lease; default $POD_NAMESPACE, else `namespace`, else "default". */
  readonly leaderElectionNamespace?: string;
  /** Lease name; default "tensorfleet-operator". */
  readonly leaderElectionName?: string;
  /** This replica's identity in the Lease; default $POD_NAME, else hostname + pid. */
  readonly identity?: string;
  /** Lease timings (ms); defaults 15000 / 10000 / 2000 as client-go. */
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** Port of /healthz, /readyz and /metrics; 0 picks a free one; default 8080. */
  readonly metricsPort?: number;
  /** Address to bind the health/metrics server; default 0.0.0.0. */
  readonly metricsHost?: string;
  /** Model server image for ServedModels that name none; default tensorfleet/tensorfleet:0.1.0. */
  readonly image?: string;
  readonly workers?: number;
  readonly resyncMs?: number;
  /**
   * Ask each ServedModel's ready pods (`GET /v1/models/<name>` on their REST port) what they
   * serve this often, so status.versions and RoutingReady follow the pods; 0 turns it off
   * (status then reports what was configured). Default 15000.
   */
  readonly podStatusIntervalMs?: number;
  /**
   * How long a ServedModel's HorizontalPodAutoscaler may report that it cannot scale (no metrics,
   * no scale access) before status says Degraded (AutoscalingInactive); new pods lack metrics for a
   * while. Default 180000.
   */
  readonly autoscalingGraceMs?: number;
  /** Per-pod timeout of that query; default 2000. */
  readonly podStatusTimeoutMs?: number;
  /** Pods asked at once per ServedModel; default 8. */
  readonly podStatusConcurrency?: number;
  /** Test hook: base URL of a pod's REST port (EndpointSlices cannot hold loopback addresses). */
  readonly modelServerBaseUrl?: (ip: string, port: number) => string;
  /** Root logger; default pino at $LOG_LEVEL (info). */
  readonly logger?: Logger;
  /** Called once /metrics is listening, with the bound port. */
  readonly onListening?: (port: number) => void;
}

function check(options: OperatorOptions): void {
  const problems: string[] = [];
  const positive = (name: string, v: number | undefined): void => {
    if (v !== undefined && (!Number.isFinite(v) || v <= 0)) problems.push(`${name} must be a positive number, got ${v}`);
  };
  positive('leaseDurationMs', options.leaseDurationMs);
  positive('renewDeadlineMs', options.renewDeadlineMs);
  positive('retryPeriodMs', options.retryPeriodMs);
  positive('workers', options.workers);
  positive('resyncMs', options.resyncMs);
  positive('podStatusTimeoutMs', options.podStatusTimeoutMs);
  positive('podStatusConcurrency', options.podStatusConcurrency);
  if (options.autoscalingGraceMs !== undefined && (!Number.isFinite(options.autoscalingGraceMs) || options.autoscalingGraceMs < 0)) {
    problems.push(`autoscalingGraceMs must be 0 or a positive number, got ${options.autoscalingGraceMs}`);
  }
  if (options.podStatusIntervalMs !== undefined && (!Number.isFinite(options.podStatusIntervalMs) || options.podStatusIntervalMs < 0)) {
    problems.push(`podStatusIntervalMs must be 0 (off) or a positive number, got ${options.podStatusIntervalMs}`);
  }
  if (options.metricsPort !== undefined && (!Number.isInteger(options.metricsPort) || options.metricsPort < 0 || options.metricsPort > 65535)) {
    problems.push(`metricsPort must be 0-65535, got ${options.metricsPort}`);
  }
  if (options.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.namespace)) problems.push(`namespace "${options.namespace}" is not a valid namespace name`);
  const lease = options.leaseDurationMs ?? 15_000;
  const renew = options.renewDeadlineMs ?? 10_000;
  if (renew >= lease) problems.push(`renewDeadlineMs (${renew}) must be shorter than leaseDurationMs (${lease})`);
  if (problems.length > 0) throw invalidArgument(`invalid operator options: ${problems.join('; ')}`);
}

/** Runs until `signal` aborts (graceful: workers finish, the Lease is released). */
export async function runOperator(options: OperatorOptions, signal: AbortSignal): Promise<void> {
  check(options);
  const logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info', name: 'tensorfleet-operator' });
  const kubeConfig = new KubeConfig();
  if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
  else kubeConfig.loadFromDefault();
  const identity = options.identity ?? process.env.POD_NAME ?? `${hostname()}-${process.pid}`;
  const timers: QueueTimers = {
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  };
  const now = (): Date => new Date();
  const metrics = new OperatorMetrics();
  let controller: ServedModelController | undefined;
  let leading = false;
  const leaderElect = options.leaderElect ?? false;
  const { server, port } = await startHealthServer(
    options.metricsPort ?? 8080,
    options.metricsHost ?? '0.0.0.0',
    {
      live: () => !signal.aborted,
      // A standby replica is healthy: it is ready to take over.
      ready: () => (leaderElect && !leading ? true : controller?.hasSynced === true),
    },
    metrics,
  );
  options.onListening?.(port);
  logger.info({ port, identity, namespace: options.namespace ?? '(all)', leaderElect }, 'operator started');

  const podStatusIntervalMs = options.podStatusIntervalMs ?? 15_000;
  const runController = async (runSignal: AbortSignal): Promise<void> => {
    controller = new ServedModelController({
      kubeConfig,
      metrics,
      logger: logger.child({ component: 'servedmodel-controller' }),
      timers,
      now,
      render: { image: options.image ?? DEFAULT_IMAGE },
      identity,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      ...(options.workers ? { workers: options.workers } : {}),
      ...(options.resyncMs ? { resyncMs: options.resyncMs } : {}),
      ...(options.autoscalingGraceMs !== undefined ? { autoscalingGraceMs: options.autoscalingGraceMs } : {}),
      ...(podStatusIntervalMs > 0
        ? {
            podStatus: {
              fetch: (url, init) => fetch(url, init),
              intervalMs: podStatusIntervalMs,
              timeoutMs: options.podStatusTimeoutMs ?? 2000,
              concurrency: options.podStatusConcurrency ?? 8,
              // Reuse a result for the reconcile our own status write triggers, never across periods.
              reuseMs: Math.min(1000, podStatusIntervalMs / 2),
              ...(options.modelServerBaseUrl ? { baseUrl: options.modelServerBaseUrl } : {}),
            },
          }
        : {}),
    });
    await controller.run(runSignal);
  };

  try {
    if (!leaderElect) {
      await runController(signal);
      return;
    }
    const elector = new LeaderElector(
      {
        namespace: options.leaderElectionNamespace ?? process.env.POD_NAMESPACE ?? options.namespace ?? 'default',
        name: options.leaderElectionName ?? 'tensorfleet-operator',
        identity,
        leaseDurationMs: options.leaseDurationMs ?? 15_000,
        renewDeadlineMs: options.renewDeadlineMs ?? 10_000,
        retryPeriodMs: options.retryPeriodMs ?? 2_000,
      },
      { api: kubeConfig.makeApiClient(CoordinationV1Api), now, timers, logger: logger.child({ component: 'leader-election' }) },
    );
    let lostLeadership = false;
    await elector.run(signal, async (leadingSignal) => {
      leading = true;
      metrics.set('tensorfleet_operator_leader', 1);
      try {
        await runController(leadingSignal);
      } finally {
        leading = false;
        metrics.set('tensorfleet_operator_leader', 0);
        lostLeadership = !signal.aborted;
      }
    });
    // Like client-go: a replica that lost its Lease stops rather than risk acting beside the new leader.
    if (lostLeadership) throw new Error('lost leadership; stopping so a fresh process can campaign again');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    logger.info('operator stopped');
  }
}
