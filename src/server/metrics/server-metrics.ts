import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { RequestCounter, RequestHistogram } from './request-metrics.js';

/** Microsecond buckets, as TensorFlow Serving reports request latency. */
const MICROS_BUCKETS = [50, 100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000, 5_000_000];
const SECONDS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The model server's Prometheus metrics: TF Serving's names (so existing dashboards work) plus
 * TensorFleet's per-version and per-variant series (so an A/B test can be read off Prometheus).
 */
export class ServerMetrics {
  readonly registry = new Registry();

  // The four request metrics below are recorded on every call: request-metrics.ts says why they are not prom-client's.

  /** TF Serving: requests by model and status ("OK" or the gRPC code name). */
  readonly tfsRequestCount = new RequestCounter({
    name: ':tensorflow:serving:request_count',
    help: 'The total number of requests.',
    labelNames: ['model_name', 'status'],
    registers: [this.registry],
  });

  /** TF Serving: request latency in microseconds by model, API and entrypoint. */
  readonly tfsRequestLatency = new RequestHistogram({
    name: ':tensorflow:serving:request_latency',
    help: 'Distribution of wall time (in microseconds) for TensorFlow Serving requests.',
    labelNames: ['model_name', 'API', 'entrypoint'],
    buckets: MICROS_BUCKETS,
    registers: [this.registry],
  });

  readonly requests = new RequestCounter({
    name: 'tensorfleet_requests_total',
    help: 'Requests by model, serving version, routing variant, API and status code.',
    labelNames: ['model', 'version', 'variant', 'api', 'code'],
    registers: [this.registry],
  });

  readonly requestDuration = new RequestHistogram({
    name: 'tensorfleet_request_duration_seconds',
    help: 'Request latency by model, serving version, routing variant and API.',
    labelNames: ['model', 'version', 'variant', 'api'],
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });

  readonly versionAvailable = new Gauge({
    name: 'tensorfleet_model_version_available',
    help: '1 while a model version is AVAILABLE.',
    labelNames: ['model', 'version'],
    registers: [this.registry],
  });

  readonly versionLoads = new Counter({
    name: 'tensorfleet_version_loads_total',
    help: 'Version load attempts by outcome (ok, error).',
    labelNames: ['model', 'outcome'],
    registers: [this.registry],
  });

  readonly versionLoadDuration = new Histogram({
    name: 'tensorfleet_version_load_duration_seconds',
    help: 'Time to load a version into TensorFlow.',
    labelNames: ['model'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  readonly versionUnloads = new Counter({
    name: 'tensorfleet_version_unloads_total',
    help: 'Versions unloaded.',
    labelNames: ['model'],
    registers: [this.registry],
  });

  readonly routingFallbacks = new Counter({
    name: 'tensorfleet_routing_fallbacks_total',
    help: 'Requests whose routed version was unavailable and went to the stable version instead.',
    labelNames: ['model', 'wanted_version'],
    registers: [this.registry],
  });

  readonly shadowRequests = new Counter({
    name: 'tensorfleet_shadow_requests_total',
    help: 'Shadow copies by outcome: agree, disagree (outputs beyond tolerance) or error.',
    labelNames: ['model', 'version', 'outcome'],
    registers: [this.registry],
  });

  readonly shadowLatencyDelta = new Histogram({
    name: 'tensorfleet_shadow_latency_delta_seconds',
    help: 'Shadow latency minus primary latency (negative values clamp to the first bucket).',
    labelNames: ['model', 'version'],
    buckets: [-0.01, -0.001, 0, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'tensorfleet_batch_size',
    help: 'Rows per batch run with --enable_batching (before padding).',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });

  readonly batchPaddingRows = new Counter({
    name: 'tensorfleet_batch_padding_rows_total',
    help: 'Rows added to batches to reach an allowed_batch_sizes entry.',
    registers: [this.registry],
  });

  readonly batchQueueDelay = new Histogram({
    name: 'tensorfleet_batch_queue_delay_seconds',
    help: 'How long the oldest request of a batch waited in the batching queue.',
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });

  /** Listing failures of any source (the manager's source-failed events). */
  readonly sourceFailures = new Counter({
    name: 'tensorfleet_source_failures_total',
    help: 'Failed listings of a model source (the loaded versions keep serving).',
    labelNames: ['model'],
    registers: [this.registry],
  });

  readonly s3SyncBytes = new Counter({
    name: 'tensorfleet_s3_sync_bytes_total',
    help: 'Bytes downloaded from S3 into the model store.',
    labelNames: ['model'],
    registers: [this.registry],
  });

  readonly s3SyncVersions = new Counter({
    name: 'tensorfleet_s3_sync_versions_total',
    help: 'Version downloads from S3 by outcome (ok, error).',
    labelNames: ['model', 'outcome'],
    registers: [this.registry],
  });

  readonly s3Failures = new Counter({
    name: 'tensorfleet_s3_failures_total',
    help: 'Failed S3 operations by kind (list, download); retried with backoff.',
    labelNames: ['model', 'operation'],
    registers: [this.registry],
  });

  readonly s3SyncRemainingBytes = new Gauge({
    name: 'tensorfleet_s3_sync_remaining_bytes',
    help: 'Bytes left in the running S3 download (0 when none runs).',
    labelNames: ['model'],
    registers: [this.registry],
  });

  readonly s3SyncRate = new Gauge({
    name: 'tensorfleet_s3_sync_bytes_per_second',
    help: 'Rate of the running (or last) S3 download.',
    labelNames: ['model'],
    registers: [this.registry],
  });

  readonly requestLogRecords = new Counter({
    name: 'tensorfleet_request_log_records_total',
    help: 'Sampled requests by model and outcome: queued for the log file, dropped (write queue full) or failed (not encoded or not written).',
    labelNames: ['model', 'outcome'],
    registers: [this.registry],
  });

  readonly requestLogUploads = new Counter({
    name: 'tensorfleet_request_log_uploads_total',
    help: 'Request log files sent to an s3:// filename_prefix, by outcome: uploaded, or failed (the upload is retried).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  readonly tlsCertificateExpiry = new Gauge({
    name: 'tensorfleet_grpc_tls_certificate_expiry_timestamp_seconds',
    help: "When the gRPC port's TLS certificate from --grpc_tls_cert_file expires (Unix time), for alerts on a rotation that did not happen.",
    registers: [this.registry],
  });

  /**
   * Busy time and count of the inference threads, read when Prometheus scrapes:
   * rate(busy) / threads is their utilization, the signal to scale replicas on.
   */
  observeInferenceThreads(threads: { busyMs(): number; readonly size: number }): void {
    let countedMs = 0;
    new Counter({
      name: 'tensorfleet_inference_busy_seconds_total',
      help: 'Time the inference threads had work (a call posted and not yet answered), summed over threads.',
      registers: [this.registry],
      collect() {
        const busyMs = threads.busyMs();
        if (busyMs > countedMs) this.inc((busyMs - countedMs) / 1000);
        countedMs = Math.max(countedMs, busyMs);
      },
    });
    new Gauge({
      name: 'tensorfleet_inference_threads',
      help: 'Inference threads (--inference_threads); rate(tensorfleet_inference_busy_seconds_total) divided by this is their utilization.',
      registers: [this.registry],
      collect() {
        this.set(threads.size);
      },
    });
  }

  constructor(options: { processMetrics: boolean } = { processMetrics: true }) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
