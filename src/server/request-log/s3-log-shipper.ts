import { createReadStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';

/** A closed log file waiting to go to S3. */
interface Shipment {
  readonly path: string;
  readonly bytes: number;
  readonly bucket: string;
  readonly key: string;
}

export interface S3LogShipperOptions {
  readonly client: S3Client;
  readonly logger: Logger;
  /** Counts upload attempts by outcome (`failed` ones are retried). */
  readonly count: (outcome: 'uploaded' | 'failed') => void;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** First wait after a failed upload; doubles up to maxRetryDelayMs. */
  readonly retryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
}

/**
 * Uploads closed request-log files to S3, oldest first, one at a time, and deletes each local file
 * once S3 has it. A failed upload is retried with backoff for as long as the server runs, so an S3
 * outage delays the logs but loses none; whatever is still queued at close() stays on disk, where
 * the next server start on the same spool directory ships it.
 */
export class S3LogShipper {
  private readonly queue: Shipment[] = [];
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(private readonly options: S3LogShipperOptions) {}

  ship(path: string, bytes: number, bucket: string, key: string): void {
    this.queue.push({ path, bytes, bucket, key });
    this.running ??= this.run().finally(() => (this.running = undefined));
  }

  /** Files not uploaded yet, oldest first. */
  get pending(): readonly string[] {
    return this.queue.map((s) => s.path);
  }

  /** Keeps uploading until the queue is empty or `deadlineMs` passed; then stops retrying. */
  async close(deadlineMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
    await Promise.race([this.drained(), deadline]);
    clearTimeout(timer);
    this.stopping.abort();
    await this.running?.catch(() => undefined);
    if (this.queue.length > 0) this.options.logger.warn({ files: this.pending }, 'request log files not uploaded before shutdown; they stay in the spool directory');
  }

  private async drained(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    const { retryDelayMs = 1000, maxRetryDelayMs = 60_000 } = this.options;
    let delay = retryDelayMs;
    while (this.queue.length > 0 && !this.stopping.signal.aborted) {
      const shipment = this.queue[0]!;
      try {
        await this.upload(shipment);
        this.queue.shift();
        delay = retryDelayMs;
      } catch (error) {
        if (this.stopping.signal.aborted) return;
        this.options.count('failed');
        this.options.logger.warn({ file: shipment.path, target: `s3://${shipment.bucket}/${shipment.key}`, err: error, retryInMs: delay }, 'request log upload failed; retrying');
        await this.options.sleep(delay, this.stopping.signal).catch(() => undefined);
        delay = Math.min(delay * 2, maxRetryDelayMs);
      }
    }
  }

  private async upload({ path, bytes, bucket, key }: Shipment): Promise<void> {
    await this.options.client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(path), ContentLength: bytes, ContentType: 'application/octet-stream' }),
      { abortSignal: this.stopping.signal },
    );
    this.options.count('uploaded');
    this.options.logger.info({ target: `s3://${bucket}/${key}`, bytes }, 'request log file uploaded');
    await unlink(path).catch((error: unknown) => this.options.logger.warn({ file: path, err: error }, 'could not delete an uploaded request log file'));
  }
}
