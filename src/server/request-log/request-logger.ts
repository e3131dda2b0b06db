import type { Logger } from 'pino';
import type { RequestLoggingConfig } from '../config/model-config.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import { predictionLogOf, type LoggedCall, type LoggedSpec } from './prediction-log.js';
import { TfRecordLogFile } from './tfrecord-log-file.js';

export interface RequestLoggerOptions {
  readonly rng: () => number;
  readonly now: () => number;
  /** The --saved_model_tags the versions were loaded with (logged in each record's metadata). */
  readonly tags: readonly string[];
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly maxFileBytes?: number;
  readonly maxPendingBytes?: number;
}

const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_PENDING_BYTES = 16 * 1024 * 1024;

/**
 * TF Serving's request logging (a model's logging_config) with one collector: a sampled share of
 * successful calls is written as PredictionLogs to TFRecord files, one series per filename prefix.
 * Logging never fails or slows a call beyond encoding its record: writes happen in the background,
 * and records that find the queue full are dropped and counted.
 */
export class RequestLogger {
  private readonly files = new Map<string, TfRecordLogFile>();

  constructor(private readonly options: RequestLoggerOptions) {}

  /** Whether this call is one to log, at the model's sampling rate. */
  sample(config: RequestLoggingConfig | undefined): config is RequestLoggingConfig {
    return config !== undefined && config.samplingRate > 0 && this.options.rng() < config.samplingRate;
  }

  log(config: RequestLoggingConfig, spec: LoggedSpec, call: LoggedCall): void {
    const { metrics, logger } = this.options;
    try {
      const record = predictionLogOf(spec, call, { samplingRate: config.samplingRate, tags: this.options.tags, nowMs: this.options.now() });
      const queued = this.fileFor(config.filenamePrefix, spec.model).append(record);
      metrics.requestLogRecords.inc({ model: spec.model, outcome: queued ? 'queued' : 'dropped' });
    } catch (error) {
      metrics.requestLogRecords.inc({ model: spec.model, outcome: 'failed' });
      logger.warn({ model: spec.model, err: error }, 'could not log a request');
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.files.values()].map((file) => file.close()));
  }

  private fileFor(prefix: string, model: string): TfRecordLogFile {
    let file = this.files.get(prefix);
    if (!file) {
      file = new TfRecordLogFile({
        prefix,
        maxFileBytes: this.options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
        maxPendingBytes: this.options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
        now: this.options.now,
        onError: (error) => {
          this.options.metrics.requestLogRecords.inc({ model, outcome: 'failed' });
          this.options.logger.warn({ prefix, err: error }, 'could not write the request log');
        },
      });
      this.files.set(prefix, file);
    }
    return file;
  }
}
