import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  makeInformer,
  PolicyV1Api,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
  type V1EndpointSlice,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, KIND, PLURAL, VERSION, type ServedModel } from '../../api/served-model-types.js';
import { ServedModelReconciler } from '../servedmodel/reconciler.js';
import type { RenderConfig } from '../specs/operator-config.js';
import { OWNED_SELECTOR, SERVED_MODEL_LABEL } from '../specs/owned-meta.js';
import { KubeClusterAccess } from './kube-cluster-access.js';
import type { OperatorMetrics } from './metrics.js';
import { ModelServerProber, type FetchLike, type ModelServerProberOptions } from './model-server-prober.js';
import { ResilientInformer } from './resilient-informer.js';
import { WorkQueue, type QueueTimers } from './work-queue.js';

export interface ControllerDeps {
  readonly kubeConfig: KubeConfig;
  readonly metrics: OperatorMetrics;
  readonly logger: Logger;
  readonly timers: QueueTimers;
  readonly now: () => Date;
  readonly render: RenderConfig;
  readonly identity: string;
  /** Watch one namespace only; all namespaces when undefined. */
  readonly namespace?: string;
  readonly workers?: number;
  /** Re-reconcile everything this often, to notice what no watch reports (e.g. a new Secret). */
  readonly resyncMs?: number;
  /** How long an HPA may fail to scale before Degraded says so; default 180000. */
  readonly autoscalingGraceMs?: number;
  /** Ask the ready pods what they serve (status.versions, RoutingReady); off when undefined. */
  readonly podStatus?: PodStatusSettings;
}

export interface PodStatusSettings extends ModelServerProberOptions {
  readonly fetch: FetchLike;
  /** Re-ask a ServedModel's pods this often while it has ready pods; default 15000 ms. */
  readonly intervalMs?: number;
}

type AnyList = KubernetesListObject<KubernetesObject>;

/** Informers on ServedModels and what they own, a work queue, and workers running the reconciler. */
export class ServedModelController {
  private readonly queue: WorkQueue;
  private readonly informers: ResilientInformer<KubernetesObject>[] = [];
  private synced = false;

  constructor(private readonly deps: ControllerDeps) {
    this.queue = new WorkQueue(deps.timers, { baseDelayMs: 200, maxDelayMs: 60_000, now: () => deps.now().getTime() });
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  private informer(name: string, path: string, list: () => Promise<AnyList>, labelSelector?: string): ResilientInformer<KubernetesObject> {
    const { kubeConfig, timers, logger, metrics } = this.deps;
    const raw = makeInformer<KubernetesObject>(kubeConfig, path, list, labelSelector);
    const informer = new ResilientInformer(name, raw, {
      timers,
      logger,
      onError: () => metrics.inc('tensorfleet_operator_watch_restarts_total', { informer: name }),
    });
    this.informers.push(informer);
    return informer;
  }

  async run(signal: AbortSignal): Promise<void> {
    const { kubeConfig, namespace, logger, metrics } = this.deps;
    const ns = namespace;
    const prefix = (group: string): string => `${group}${ns ? `/namespaces/${ns}` : ''}`;
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const policy = kubeConfig.makeApiClient(PolicyV1Api);
    const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
    const autoscaling = kubeConfig.makeApiClient(AutoscalingV2Api);
    const labelSelector = OWNED_SELECTOR;

    const servedModels = this.informer(
      'servedmodels',
      `${prefix(`/apis/${GROUP}/${VERSION}`)}/${PLURAL}`,
      () =>
        (ns
          ? custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL })
          : custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as Promise<AnyList>,
    );
    const owned: Record<string, ResilientInformer<KubernetesObject>> = {
      ConfigMap: this.informer('configmaps', `${prefix('/api/v1')}/configmaps`, () =>
        (ns ? core.listNamespacedConfigMap({ namespace: ns, labelSelector }) : core.listConfigMapForAllNamespaces({ labelSelector })), labelSelector),
      Service: this.informer('services', `${prefix('/api/v1')}/services`, () =>
        (ns ? core.listNamespacedService({ namespace: ns, labelSelector }) : core.listServiceForAllNamespaces({ labelSelector })), labelSelector),
      Deployment: this.informer('deployments', `${prefix('/apis/apps/v1')}/deployments`, () =>
        (ns ? apps.listNamespacedDeployment({ namespace: ns, labelSelector }) : apps.listDeploymentForAllNamespaces({ labelSelector })), labelSelector),
      PodDisruptionBudget: this.informer('poddisruptionbudgets', `${prefix('/apis/policy/v1')}/poddisruptionbudgets`, () =>
        (ns ? policy.listNamespacedPodDisruptionBudget({ namespace: ns, labelSelector }) : policy.listPodDisruptionBudgetForAllNamespaces({ labelSelector })), labelSelector),
      HorizontalPodAutoscaler: this.informer('horizontalpodautoscalers', `${prefix('/apis/autoscaling/v2')}/horizontalpodautoscalers`, () =>
        (ns
          ? autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace: ns, labelSelector })
          : autoscaling.listHorizontalPodAutoscalerForAllNamespaces({ labelSelector })), labelSelector),
    };

    // The EndpointSlice controller copies a Service's labels onto its slices, so the slices of our
    // headless Service carry the owned-object labels, including which ServedModel they serve.
    const endpointSlices = this.deps.podStatus
      ? this.informer('endpointslices', `${prefix('/apis/discovery.k8s.io/v1')}/endpointslices`, () =>
          (ns ? discovery.listNamespacedEndpointSlice({ namespace: ns, labelSelector }) : discovery.listEndpointSliceForAllNamespaces({ labelSelector })), labelSelector)
      : undefined;

    const enqueueModel = (obj: KubernetesObject): void => {
      const { name, namespace: objNs } = obj.metadata ?? {};
      if (name && objNs) this.queue.add(`${objNs}/${name}`);
    };
    const enqueueOwner = (obj: KubernetesObject): void => {
      const owner = obj.metadata?.ownerReferences?.find((r) => r.controller && r.kind === KIND);
      if (owner && obj.metadata?.namespace) this.queue.add(`${obj.metadata.namespace}/${owner.name}`);
    };
    const enqueueServedBy = (obj: KubernetesObject): void => {
      const served = obj.metadata?.labels?.[SERVED_MODEL_LABEL];
      if (served && obj.metadata?.namespace) this.queue.add(`${obj.metadata.namespace}/${served}`);
    };
    for (const verb of ['add', 'update', 'delete'] as const) {
      servedModels.informer.on(verb, enqueueModel);
      for (const inf of Object.values(owned)) inf.informer.on(verb, enqueueOwner);
      endpointSlices?.informer.on(verb, enqueueServedBy);
    }

    const cluster = new KubeClusterAccess({
      kubeConfig,
      servedModels: servedModels.cache as unknown as ObjectCache<ServedModel>,
      owned: Object.fromEntries(Object.entries(owned).map(([k, v]) => [k, v.cache])),
      ...(endpointSlices ? { endpointSlices: endpointSlices.cache as unknown as ObjectCache<V1EndpointSlice> } : {}),
      metrics,
      now: this.deps.now,
      identity: this.deps.identity,
    });
    const podStatus = this.deps.podStatus;
    const observer = podStatus
      ? new ModelServerProber({ fetch: podStatus.fetch, timers: this.deps.timers, now: () => this.deps.now().getTime(), metrics }, podStatus)
      : undefined;
    const reconciler = new ServedModelReconciler({
      cluster,
      config: this.deps.render,
      now: this.deps.now,
      logger,
      ...(observer ? { observer, podStatusIntervalMs: podStatus?.intervalMs ?? 15_000 } : {}),
      ...(this.deps.autoscalingGraceMs !== undefined ? { autoscalingGraceMs: this.deps.autoscalingGraceMs } : {}),
      onRouteTargets: (namespace, name, unavailable) => {
        const labels = { namespace, servedmodel: name };
        if (unavailable === undefined) metrics.unset('tensorfleet_operator_route_target_unavailable', labels);
        else metrics.set('tensorfleet_operator_route_target_unavailable', unavailable ? 1 : 0, labels);
      },
    });

    await Promise.all(this.informers.map((i) => i.start()));
    await Promise.race([Promise.all(this.informers.map((i) => i.waitForSync())), new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
    if (!signal.aborted) {
      this.synced = true;
      logger.info({ namespace: ns ?? '(all)' }, 'caches synced; reconciling');
      for (const sm of servedModels.cache.list()) enqueueModel(sm);
    }

    let resync: unknown;
    const scheduleResync = (): void => {
      resync = this.deps.timers.setTimeout(() => {
        for (const sm of servedModels.cache.list()) enqueueModel(sm);
        scheduleResync();
      }, this.deps.resyncMs ?? 300_000);
    };
    if (!signal.aborted) scheduleResync();
    const worker = async (): Promise<void> => {
      for (;;) {
        metrics.set('tensorfleet_operator_queue_depth', this.queue.length);
        const key = await this.queue.get();
        if (key === undefined) return;
        const [keyNs = '', keyName = ''] = key.split('/');
        try {
          const result = await reconciler.reconcile(keyNs, keyName);
          this.queue.forget(key);
          if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
          metrics.inc('tensorfleet_operator_reconciles_total', { result: 'success' });
        } catch (error) {
          const delayMs = this.queue.addRateLimited(key);
          metrics.inc('tensorfleet_operator_reconciles_total', { result: 'error' });
          logger.warn({ servedModel: key, err: error, retryInMs: delayMs }, 'reconcile failed; retrying');
        } finally {
          this.queue.done(key);
        }
      }
    };
    const workers = signal.aborted ? [] : Array.from({ length: this.deps.workers ?? 2 }, () => worker());
    await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
    if (resync !== undefined) this.deps.timers.clearTimeout(resync);
    this.queue.shutDown();
    await Promise.all(workers);
    await Promise.all(this.informers.map((i) => i.stop()));
    logger.info('controller stopped');
  }
}
