import { readFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type http from 'node:http';
import type { Logger } from 'pino';
import type { S3Client } from '@aws-sdk/client-s3';
import { ServingError } from '../shared/errors.js';
import { readFlagFile } from './flag-file.js';
import type { ModelServerConfig } from './config/model-config.js';
import { parseModelConfig, singleModelConfig } from './config/parse-model-config.js';
import { BatchScheduler } from './batching/batch-scheduler.js';
import { defaultBatchingParameters, parseBatchingParameters, type BatchingParameters } from './batching/batching-parameters.js';
import { parseMonitoringConfig, type MonitoringConfig } from './metrics/monitoring-config.js';
import { grpcTransportSecurity } from './transports/grpc/grpc-credentials.js';
import { RequestLogger } from './request-log/request-logger.js';
import { S3LogShipper } from './request-log/s3-log-shipper.js';
import { parseSslConfig, type SslConfig } from './transports/grpc/ssl-config.js';
import { BatchingLoader } from './batching/batching-servable.js';
import type { ServableLoader } from './core/servable.js';
import { ModelManager, type ManagerClock, type ManagerEvent } from './core/model-manager.js';
import { ServerMetrics } from './metrics/server-metrics.js';
import type { ModelCatalog } from './predict/model-catalog.js';
import { PredictService } from './predict/predict-service.js';
import { savedModelTags, type ServeOptions } from './serve-options.js';
import { UtilizationMeter } from './servables/tensorflow/utilization-meter.js';
import { InferencePool } from './servables/tensorflow/inference-pool.js';
import { TensorflowLoader } from './servables/tensorflow/tensorflow-servable.js';
import { DirectorySource } from './sources/directory-source.js';
import { closeS3Client, createS3Client } from './sources/s3/create-s3-client.js';
import { S3VersionSource } from './sources/s3/s3-version-source.js';
import { describeS3Settings, resolveS3Settings, type S3Settings } from './sources/s3/s3-settings.js';
import { VersionSourceRouter, unsupportedBasePath } from './sources/version-source-router.js';
import { flowControlOptions, parseChannelArguments } from './transports/grpc/channel-arguments.js';
import { loggingUnexpectedErrors } from './transports/grpc/grpc-errors.js';
import { GrpcHealth, addReflection, bindGrpcServer, bindGrpcSocket, createGrpcServer, shutdownGrpcServer } from './transports/grpc/grpc-server.js';
import { installHttp2Tuning } from './transports/grpc/http2-tuning.js';
import { inferenceServiceHandlers } from './transports/grpc/inference-service-handlers.js';
import { modelServiceHandlers } from './transports/grpc/model-service-handlers.js';
import { predictionHandlers } from './transports/grpc/prediction-handlers.js';
import { loadTensorflowServingGrpc } from './transports/grpc/proto-loader.js';
import { JsonDecodePool } from './transports/rest/json-decode-pool.js';
import { HttpDrain } from './transports/rest/http-drain.js';
import { UnspokenConnections } from './transports/grpc/unspoken-connections.js';
import { createRestServer } from './transports/rest/rest-server.js';

/** What main.ts hands in: everything that touches the outside world. */
export interface ServerEnvironment {
  readonly logger: Logger;
  readonly now: () => number;
  readonly rng: () => number;
  /** S3 access resolved by main.ts from flags and the environment; default: from the flags alone. */
  readonly s3?: S3Settings;
}

export interface RunningServer {
  readonly grpcPort: number;
  readonly restPort: number | undefined;
  readonly manager: ModelManager;
  /** Resolves when every configured model has an available version. */
  whenReady(signal?: AbortSignal): Promise<void>;
  /** Graceful: stop taking calls, finish in-flight ones, unload, exit. */
  stop(): Promise<void>;
}

async function readConfig(options: ServeOptions): Promise<{ config: ModelServerConfig; text?: string }> {
  if (options.model_config_file === undefined) return { config: singleModelConfig(options.model_name, options.model_base_path!) };
  const text = await readFile(options.model_config_file, 'utf8').catch((error: unknown) => {
    throw new ServingError('INVALID_ARGUMENT', `cannot read --model_config_file ${options.model_config_file}: ${String(error)}`);
  });
  return { config: resolveBasePaths(parseModelConfig(text), dirname(resolve(options.model_config_file))), text };
}

/** Relative local base paths are taken relative to the config file, so config files can move. */
function resolveBasePaths(config: ModelServerConfig, dir: string): ModelServerConfig {
  const local = (path: string): boolean => !/^[a-z][a-z0-9+.-]*:\/\//i.test(path) && !isAbsolute(path);
  return { models: config.models.map((m) => (local(m.basePath) ? { ...m, basePath: resolve(dir, m.basePath) } : m)) };
}

function refuseUnsupportedSources(config: ModelServerConfig): void {
  const unsupported = unsupportedBasePath(config.models.map((m) => m.basePath), { s3: true });
  if (unsupported !== undefined) {
    throw new ServingError('UNIMPLEMENTED', `base_path ${unsupported}: only local directories and s3:// are supported`);
  }
}

async function readMonitoringConfig(options: ServeOptions): Promise<MonitoringConfig> {
  if (options.monitoring_config_file === undefined) return { metricsPath: undefined };
  return parseMonitoringConfig(await readFlagFile('monitoring_config_file', options.monitoring_config_file));
}

async function readSslConfig(options: ServeOptions): Promise<SslConfig | undefined> {
  if (options.ssl_config_file === undefined) return undefined;
  return parseSslConfig(await readFlagFile('ssl_config_file', options.ssl_config_file));
}

async function readBatchingParameters(options: ServeOptions): Promise<BatchingParameters> {
  const defaults = defaultBatchingParameters(options.inference_threads);
  if (options.batching_parameters_file === undefined) return defaults;
  return parseBatchingParameters(await readFlagFile('batching_parameters_file', options.batching_parameters_file), defaults);
}

/** How long a stopping server keeps uploading request logs; what is left is shipped at the next start. */
const REQUEST_LOG_UPLOAD_DEADLINE_MS = 10_000;

/** Saturated inference threads keep gRPC receive windows small (flow-control.ts, decision 0012). */
const UTILIZATION_INTERVAL_MS = 100;

/** With --enable_batching, every loaded version runs through one shared batch scheduler. */
function batchingLoader(loader: ServableLoader, params: BatchingParameters, perModel: boolean, metrics: ServerMetrics, clock: ManagerClock): ServableLoader {
  const scheduler = new BatchScheduler(params, clock, {
    batchStarted(rows, paddedRows, oldestWaitMs) {
      metrics.batchSize.observe(rows);
      if (paddedRows > rows) metrics.batchPaddingRows.inc(paddedRows - rows);
      metrics.batchQueueDelay.observe(oldestWaitMs / 1000);
    },
  });
  return new BatchingLoader(loader, scheduler, perModel);
}

/** The versions a manager holds in any state but END must stay on disk. */
function inUse(manager: ModelManager, model: string, version: number): boolean {
  try {
    return manager.status(model, version).some((s) => s.state !== 'END');
  } catch {
    return false;
  }
}

/**
 * Starts a model server: manager, inference pool, gRPC and REST. When a step fails (a port in use,
 * a socket path taken), what was already started (loads, inference threads, timers, listeners) is
 * stopped before the error is thrown, so the process ends with that error and nothing else.
 */
export async function startModelServer(options: ServeOptions, env: ServerEnvironment): Promise<RunningServer> {
  const started: (() => unknown)[] = [];
  try {
    return await startComponents(options, env, started);
  } catch (error) {
    for (const stop of started.reverse()) await Promise.resolve().then(stop).catch(() => undefined);
    throw error;
  }
}

/** startModelServer's steps; each component started pushes how to stop it onto `started`. */
async function startComponents(options: ServeOptions, env: ServerEnvironment, started: (() => unknown)[]): Promise<RunningServer> {
  const { logger } = env;
  const initial = await readConfig(options);
  refuseUnsupportedSources(initial.config);
  const metrics = new ServerMetrics();
  const batching = options.enable_batching ? await readBatchingParameters(options) : undefined;
  const monitoring = await readMonitoringConfig(options);
  const transportSecurity = await grpcTransportSecurity(
    await readSslConfig(options),
    options.grpc_tls_cert_file !== undefined && options.grpc_tls_key_file !== undefined
      ? { certFile: options.grpc_tls_cert_file, keyFile: options.grpc_tls_key_file, clientCaFile: options.grpc_tls_client_ca_file, reloadMs: options.grpc_tls_reload_seconds * 1000 }
      : undefined,
    logger.child({ component: 'grpc-tls' }),
    (validTo) => metrics.tlsCertificateExpiry.set(validTo.getTime() / 1000),
  );
  started.push(() => transportSecurity.close());
  const poolLogger = logger.child({ component: 'inference-pool' });
  // Set once health reporting exists (below); a worker can only be lost after startup.
  let onWorkerLost = (): void => undefined;
  const pool = await InferencePool.start(options.inference_threads, {
    niceness: options.inference_thread_niceness,
    onWorkerEvent: (event) => {
      if (event.type === 'worker-died') poolLogger.error({ worker: event.index, err: event.error }, 'inference worker died; starting a replacement');
      else if (event.type === 'worker-restarted') poolLogger.warn({ worker: event.index, models: event.models }, 'inference worker replaced; its models are loaded again');
      else {
        poolLogger.error({ worker: event.index, err: event.error }, 'inference worker could not be replaced; its calls fail with UNAVAILABLE and /healthz fails');
        onWorkerLost();
      }
    },
  });
  started.push(() => pool.close());
  // A lost worker does not come back on its own: fail liveness so Kubernetes restarts the pod.
  const livenessProblem = (): string | undefined => {
    const lost = pool.lostWorkers();
    return lost.length === 0 ? undefined : `inference worker ${lost.join(', ')} died and could not be replaced`;
  };
  // Set on stop: readiness and health say so during --shutdown_delay_seconds, while calls are still served.
  let draining = false;
  const isReady = (): boolean => !draining && livenessProblem() === undefined && manager.isReady();
  let s3Source: S3VersionSource | undefined;
  let s3Client: S3Client | undefined;
  // One client for S3 model sources and request logs, made when first needed.
  const caBundleChanged = (problem: string | undefined): void =>
    problem === undefined ? logger.info('S3 CA bundle changed: new connections to the store trust the new one') : logger.warn({ problem }, 'S3 CA bundle unreadable');
  const sharedS3Client = (): S3Client => (s3Client ??= createS3Client(env.s3 ?? resolveS3Settings(options, {}), env.now, undefined, caBundleChanged));
  const source: VersionSourceRouter = new VersionSourceRouter({
    directory: new DirectorySource({ logger: logger.child({ component: 'source' }), now: env.now }),
    s3: (): S3VersionSource => {
      const settings = env.s3 ?? resolveS3Settings(options, {});
      const storeDir = resolve(options.model_store ?? join(tmpdir(), 'tensorfleet-model-store'));
      const s3Logger = logger.child({ component: 's3-source' });
      s3Logger.info({ ...describeS3Settings(settings), store: storeDir }, 'S3 source configured');
      s3Source = new S3VersionSource({
        client: sharedS3Client(),
        storeDir,
        logger: s3Logger,
        now: env.now,
        sleep: (ms, signal) => sleep(ms, undefined, { signal }),
        isInUse: (model: string, version: number): boolean => inUse(manager, model, version),
        concurrency: settings.concurrency,
        transfer: settings.transfer,
        ...(settings.completionMarker !== undefined ? { completionMarker: settings.completionMarker } : {}),
        metrics: {
          bytes: metrics.s3SyncBytes,
          versions: metrics.s3SyncVersions,
          failures: metrics.s3Failures,
          remainingBytes: metrics.s3SyncRemainingBytes,
          bytesPerSecond: metrics.s3SyncRate,
        },
      });
      return s3Source;
    },
  });
  started.push(async () => {
    await s3Source?.close();
    if (s3Client !== undefined) closeS3Client(s3Client);
  });
  const timers = { setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms).unref(), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
  const limits = { maxElements: options.max_tensor_elements };
  const warmup = options.enable_model_warmup
    ? { options: { iterations: Math.max(1, options.num_request_iterations_for_warmup), limits, maxRecordBytes: options.max_request_bytes, checkMethodNames: options.enable_signature_method_name_check }, logger: logger.child({ component: 'warmup' }) }
    : undefined;
  const tensorflow = new TensorflowLoader(pool, { tags: savedModelTags(options.saved_model_tags), warmup, logger });
  // Batching waits are often below a millisecond, so its clock is the monotonic one.
  const loader = batching ? batchingLoader(tensorflow, batching, options.enable_per_model_batching_parameters, metrics, { now: () => performance.now(), ...timers }) : tensorflow;
  const inferenceUtilization = new UtilizationMeter(() => pool.busyMs(), () => pool.size, () => performance.now());
  metrics.observeInferenceThreads(pool);
  const utilizationTimer = setInterval(() => inferenceUtilization.sample(), UTILIZATION_INTERVAL_MS).unref();
  started.push(() => clearInterval(utilizationTimer));
  if (batching) logger.info({ batching }, 'batching enabled');
  for (const { flag, reason } of options.ignoredFlags) logger.warn({ flag, reason }, `ignored TF Serving flag --${flag}`);
  const manager: ModelManager = new ModelManager({
    loader,
    source,
    logger: logger.child({ component: 'manager' }),
    clock: { now: env.now, ...timers },
    pollIntervalMs: options.file_system_poll_wait_seconds * 1000,
    numLoadThreads: options.num_load_threads,
    maxNumLoadRetries: options.max_num_load_retries,
    loadRetryIntervalMs: options.load_retry_interval_micros / 1000,
    allowVersionLabelsForUnavailableModels: options.allow_version_labels_for_unavailable_models,
  });

  const health = new GrpcHealth();
  const refreshHealth = (): void => {
    const serving = !draining && livenessProblem() === undefined;
    const models = new Map(manager.modelNames().map((name) => [name, serving && manager.availableVersions(name).length > 0]));
    health.update(isReady(), models);
  };
  manager.subscribe((event) => {
    recordEvent(metrics, event);
    refreshHealth();
  });
  onWorkerLost = refreshHealth;

  const catalog: ModelCatalog = {
    acquire: (model, selector) => manager.acquire(model, selector),
    availableVersions: (model) => manager.availableVersions(model),
    labels: (model) => manager.labels(model),
    routing: (model) => manager.modelConfig(model)?.routing,
    logging: (model) => manager.modelConfig(model)?.logging,
  };
  const requestLogLogger = logger.child({ component: 'request-log' });
  const requestLog = new RequestLogger({
    rng: env.rng,
    now: env.now,
    tags: savedModelTags(options.saved_model_tags),
    metrics,
    logger: requestLogLogger,
    s3: {
      shipper: () =>
        new S3LogShipper({
          client: sharedS3Client(),
          logger: requestLogLogger,
          count: (outcome) => metrics.requestLogUploads.inc({ outcome }),
          sleep: (ms, signal) => sleep(ms, undefined, { signal }),
        }),
      spoolDir: resolve(options.request_log_spool_dir ?? join(tmpdir(), 'tensorfleet-request-logs')),
      instance: `${hostname()}.${process.pid}`,
      rotateMs: options.request_log_upload_interval_seconds * 1000,
      closeDeadlineMs: REQUEST_LOG_UPLOAD_DEADLINE_MS,
    },
  });
  started.push(() => requestLog.close());
  // Its clock only times calls: monotonic and below a millisecond (Date.now would round a 0.3 ms call to 0 or 1 ms).
  const predict = new PredictService(catalog, metrics, logger.child({ component: 'predict' }), env.rng, () => performance.now(), {
    checkMethodNames: options.enable_signature_method_name_check,
    requestLog,
  });

  const lifetime = new AbortController();
  started.push(() => {
    lifetime.abort();
    return manager.stop();
  });
  const reloadConfig = async (config: ModelServerConfig): Promise<void> => {
    refuseUnsupportedSources(config);
    await manager.reconcile(config);
    requestLog.open(config.models);
    refreshHealth();
  };
  await manager.reconcile(initial.config);
  requestLog.open(initial.config.models);
  void manager.start(lifetime.signal);
  refreshHealth();
  if (options.model_config_file !== undefined && options.model_config_file_poll_wait_seconds > 0) {
    watchConfigFile(options.model_config_file, options.model_config_file_poll_wait_seconds * 1000, initial.text, reloadConfig, logger, lifetime.signal);
  }

  const grpcApi = loadTensorflowServingGrpc();
  const channelArguments = parseChannelArguments(options.grpc_channel_arguments ?? '').arguments;
  const grpcServer = createGrpcServer({
    host: options.grpc_bind_address,
    port: options.port,
    maxMessageBytes: options.max_request_bytes,
    maxConnectionAgeSeconds: options.max_connection_age_seconds,
    channelArguments,
  });
  started.push(() => grpcServer.forceShutdown());
  grpcServer.addService(
    grpcApi.predictionService,
    loggingUnexpectedErrors('PredictionService', predictionHandlers(predict, limits, { useTensorContent: options.enable_serialization_as_tensor_content }), logger),
  );
  grpcServer.addService(
    grpcApi.modelService,
    loggingUnexpectedErrors('ModelService', modelServiceHandlers({ status: (model, version) => manager.status(model, version), reloadConfig }), logger),
  );
  grpcServer.addService(
    grpcApi.inferenceService,
    loggingUnexpectedErrors(
      'GRPCInferenceService',
      inferenceServiceHandlers({ predict, limits, status: (model, version) => manager.status(model, version), modelNames: () => manager.modelNames(), isReady, livenessProblem }),
      logger,
    ),
  );
  health.addToServer(grpcServer);
  addReflection(grpcServer, grpcApi.packageDefinition);
  const grpcPort = await bindGrpcServer(grpcServer, options.grpc_bind_address, options.port, transportSecurity.credentials);
  const grpcSocket = options.grpc_socket_path === undefined ? undefined : await bindGrpcSocket(grpcServer, options.grpc_socket_path, transportSecurity.credentials);
  const flowControl = { ...flowControlOptions(channelArguments), serverSaturated: () => inferenceUtilization.saturated };
  installHttp2Tuning(grpcServer, { promptTrailers: options.grpc_prompt_trailers, flowControl }, logger);
  const unspoken = new UnspokenConnections(grpcServer, (reason) => logger.warn({ reason }, 'gRPC connections that never spoke HTTP/2 may hold a shutdown for its grace period'));

  let restServer: http.Server | undefined;
  let restDrain: HttpDrain | undefined;
  let restPort: number | undefined;
  const jsonDecoder = options.rest_api_port !== 0 && options.rest_json_threads > 0 ? new JsonDecodePool(options.rest_json_threads, options.inference_thread_niceness) : undefined;
  started.push(() => jsonDecoder?.close());
  if (options.rest_api_port !== 0) {
    restServer = createRestServer(
      {
        predict,
        metrics,
        status: (model, version) => manager.status(model, version),
        labels: (model) => manager.labels(model),
        isReady,
        livenessProblem,
        modelNames: () => manager.modelNames(),
        unreadyModels: () => manager.modelNames().filter((name) => manager.availableVersions(name).length === 0),
      },
      { maxRequestBytes: options.max_request_bytes, limits, timeoutMs: options.rest_api_timeout_in_ms, jsonDecoder, metricsPath: monitoring.metricsPath, cors: options.rest_api_enable_cors_support },
      logger.child({ component: 'rest' }),
    );
    restDrain = new HttpDrain(restServer);
    restPort = await listen(restServer, options.rest_api_bind_address, options.rest_api_port);
  }
  logger.info({ grpcPort, ...(grpcSocket ? { grpcSocket } : {}), restPort, models: manager.modelNames() }, 'server started');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      draining = true;
      refreshHealth();
      const delaySeconds = options.shutdown_delay_seconds ?? 0;
      if (delaySeconds > 0) {
        logger.info({ delaySeconds }, 'server draining: still serving while readiness and health say not serving, so that Services drop this pod');
        await sleep(delaySeconds * 1000);
      }
      logger.info({ graceSeconds: options.shutdown_grace_seconds }, 'server stopping');
      health.update(false, new Map());
      lifetime.abort();
      clearInterval(utilizationTimer);
      const graceMs = options.shutdown_grace_seconds * 1000;
      const grpcClosed = shutdownGrpcServer(grpcServer, graceMs);
      unspoken.closeUnspoken();
      await Promise.all([grpcClosed, restDrain?.close(graceMs)]);
      await jsonDecoder?.close();
      transportSecurity.close();
      await requestLog.close();
      await manager.stop();
      await s3Source?.close();
      if (s3Client !== undefined) closeS3Client(s3Client);
      await pool.close();
      logger.info('server stopped');
    })());

  return { grpcPort, restPort, manager, whenReady: (signal) => manager.whenReady(signal), stop };
}

function recordEvent(metrics: ServerMetrics, event: ManagerEvent): void {
  switch (event.type) {
    case 'version-loaded':
      metrics.versionLoads.inc({ model: event.model, outcome: 'ok' });
      metrics.versionLoadDuration.observe({ model: event.model }, event.durationMs / 1000);
      metrics.versionAvailable.set({ model: event.model, version: String(event.version) }, 1);
      break;
    case 'version-reloaded':
      metrics.versionLoads.inc({ model: event.model, outcome: 'ok' });
      metrics.versionLoadDuration.observe({ model: event.model }, event.durationMs / 1000);
      break;
    case 'version-load-failed':
      metrics.versionLoads.inc({ model: event.model, outcome: 'error' });
      break;
    case 'version-unloading':
      metrics.versionAvailable.set({ model: event.model, version: String(event.version) }, 0);
      break;
    case 'version-unloaded':
      metrics.versionUnloads.inc({ model: event.model });
      break;
    case 'source-failed':
      metrics.sourceFailures.inc({ model: event.model });
      break;
    default:
      break;
  }
}

/** Re-reads the config file; a change is applied, a broken file is reported and ignored. */
function watchConfigFile(
  path: string,
  intervalMs: number,
  initialText: string | undefined,
  apply: (config: ModelServerConfig) => Promise<void>,
  logger: Logger,
  signal: AbortSignal,
): void {
  let lastText = initialText;
  const timer = setInterval(() => {
    readFile(path, 'utf8')
      .then(async (text) => {
        if (text === lastText) return;
        lastText = text;
        await apply(resolveBasePaths(parseModelConfig(text), dirname(resolve(path))));
        logger.info({ path }, 'model config reloaded');
      })
      .catch((error: unknown) => logger.error({ path, err: error }, 'model config not reloaded; keeping the current one'));
  }, intervalMs);
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

