import { readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { RequestLoggingConfig } from '../config/model-config.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import { predictionLogOf, type LoggedCall, type LoggedSpec } from './prediction-log.js';
import { isS3Uri } from '../sources/s3/s3-uri.js';
import { parseS3LogPrefix } from './log-prefix.js';
import type { S3LogShipper } from './s3-log-shipper.js';
import { TfRecordLogFile } from './tfrecord-log-file.js';

/** How files of s3:// filename prefixes are written locally and shipped. */
export interface RequestLogS3Options {
  /** The uploader, made on first use (it needs an S3 client). */
  readonly shipper: () => S3LogShipper;
  /** Files are written here, then uploaded and deleted. */
  readonly spoolDir: string;
  /** Part of every file name, unique among the servers writing to one prefix (host name and pid). */
  readonly instance: string;
  /** An open file is closed and uploaded after this long, so logs reach S3 without waiting for 64 MiB. */
  readonly rotateMs: number;
  /** How long close() keeps uploading. */
  readonly closeDeadlineMs: number;
}

export interface RequestLoggerOptions {
  readonly rng: () => number;
  readonly now: () => number;
  /** The --saved_model_tags the versions were loaded with (logged in each record's metadata). */
  readonly tags: readonly string[];
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly maxFileBytes?: number;
  readonly maxPendingBytes?: number;
  /** Needed for s3:// filename prefixes. */
  readonly s3?: RequestLogS3Options;
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
  private shipper: S3LogShipper | undefined;
  private readonly rotation: NodeJS.Timeout | undefined;

  constructor(private readonly options: RequestLoggerOptions) {
    const s3 = options.s3;
    if (s3) this.rotation = setInterval(() => void this.rotateS3Files(), s3.rotateMs).unref();
  }

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

  /**
   * Follows the model config: opens the log series of every model with logging, so that files an
   * earlier run left for an s3:// prefix are uploaded now rather than at the first sampled call,
   * and closes the current file of prefixes no model names any more (an S3 one is uploaded).
   */
  open(models: readonly { readonly name: string; readonly logging?: RequestLoggingConfig }[]): void {
    const wanted = new Set(models.flatMap((m) => (m.logging ? [m.logging.filenamePrefix] : [])));
    // Rotated rather than dropped: a prefix that comes back goes on with the next file number.
    for (const [prefix, file] of this.files) if (!wanted.has(prefix)) void file.rotate();
    for (const { name, logging } of models) {
      if (!logging || !isS3Uri(logging.filenamePrefix)) continue;
      try {
        this.fileFor(logging.filenamePrefix, name);
      } catch (error) {
        this.options.logger.warn({ model: name, err: error }, 'could not open the request log');
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.rotation);
    await Promise.all([...this.files.values()].map((file) => file.close()));
    await this.shipper?.close(this.options.s3?.closeDeadlineMs ?? 0);
  }

  private async rotateS3Files(): Promise<void> {
    for (const [prefix, file] of this.files) if (isS3Uri(prefix)) await file.rotate();
  }

  private fileFor(prefix: string, model: string): TfRecordLogFile {
    let file = this.files.get(prefix);
    if (!file) {
      file = new TfRecordLogFile({
        prefix,
        ...(isS3Uri(prefix) ? this.spooled(prefix) : {}),
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

  /** For an s3:// prefix: write into the spool directory, ship each closed file, and ship what an earlier run left there. */
  private spooled(prefix: string): { prefix: string; instance: string; onFileClosed: (path: string, bytes: number) => void } {
    const s3 = this.options.s3;
    const target = parseS3LogPrefix(prefix);
    if (!s3 || typeof target === 'string') throw new Error(`cannot log to ${prefix}: ${typeof target === 'string' ? target : 'no S3 settings'}`);
    const shipper = (this.shipper ??= s3.shipper());
    const local = join(s3.spoolDir, encodeURIComponent(`${target.bucket}/${target.key}`));
    const ship = (path: string, bytes: number): void => shipper.ship(path, bytes, target.bucket, `${target.key}${path.slice(local.length)}`);
    // Listed before this run opens its first file there, so only earlier runs' files are found.
    const leftovers = leftoverFiles(local);
    void this.shipLeftovers(local, leftovers, ship);
    return { prefix: local, instance: s3.instance, onFileClosed: ship };
  }

  private async shipLeftovers(local: string, leftovers: readonly string[], ship: (path: string, bytes: number) => void): Promise<void> {
    const dir = dirname(local);
    for (const file of leftovers) {
      const path = join(dir, file);
      const size = await stat(path).then((st) => st.size, () => undefined);
      if (size !== undefined) ship(path, size);
    }
    if (leftovers.length > 0) this.options.logger.info({ files: leftovers.length, dir }, 'shipping request log files an earlier run left');
  }
}


/** Request log files of this prefix in the spool directory, oldest first (their names start with the start time). */
function leftoverFiles(local: string): string[] {
  const name = `${basename(local)}.`;
  try {
    return readdirSync(dirname(local)).filter((f) => f.startsWith(name) && f.endsWith('.tfrecord')).sort();
  } catch {
    return [];
  }
}
