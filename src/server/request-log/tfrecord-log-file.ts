import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { tfRecordOf } from './tfrecord-frame.js';

export interface TfRecordLogFileOptions {
  /** Files are <prefix>.<start time>.<instance>.<n>.tfrecord. */
  readonly prefix: string;
  /** Tells this process's files from others' with the same prefix; default the pid. */
  readonly instance?: string;
  /** A new file starts once this many bytes were written to the current one. */
  readonly maxFileBytes: number;
  /** Records waiting to be written beyond this many bytes are dropped (the disk is slower than the calls). */
  readonly maxPendingBytes: number;
  readonly now: () => number;
  readonly onError: (error: unknown) => void;
  /** A file was closed and will not be written again (rotation or close()), with its size. */
  readonly onFileClosed?: (path: string, bytes: number) => void;
}

/**
 * An append-only series of TFRecord files written off the request path: `append` only queues,
 * one write at a time drains the queue, and what exceeds the queue's bound is dropped rather
 * than held in memory. A file that cannot be written is reported and the next record tries again.
 */
export class TfRecordLogFile {
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private file: FileHandle | undefined;
  private fileBytes = 0;
  private fileCount = 0;
  private readonly stamp: string;
  private draining: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: TfRecordLogFileOptions) {
    this.stamp = new Date(options.now()).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  }

  /** Queues one record; false when it was dropped (queue full or file closed). */
  append(data: Uint8Array): boolean {
    const record = tfRecordOf(data);
    if (this.closed || this.pendingBytes + record.length > this.options.maxPendingBytes) return false;
    this.pending.push(record);
    this.pendingBytes += record.length;
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    return true;
  }

  /** Resolves once everything queued so far is written (or failed). */
  async flushed(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Writes what is queued, then closes the current file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flushed();
    await this.closeFile();
  }

  /** Closes the current file once what is queued is written, if it holds anything; the next record starts a new one. */
  async rotate(): Promise<void> {
    await this.flushed();
    if (this.fileBytes > 0) await this.closeFile();
  }

  /** Paths of files this writer has opened, oldest first. */
  get paths(): string[] {
    return Array.from({ length: this.fileCount }, (_, i) => this.pathOf(i + 1));
  }

  private pathOf(n: number): string {
    return `${this.options.prefix}.${this.stamp}.${this.options.instance ?? process.pid}.${n}.tfrecord`;
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      const bytes = Buffer.concat(batch);
      this.pendingBytes -= bytes.length;
      try {
        if (!this.file || this.fileBytes >= this.options.maxFileBytes) await this.nextFile();
        await this.file!.write(bytes);
        this.fileBytes += bytes.length;
      } catch (error) {
        this.options.onError(error);
      }
    }
  }

  private async closeFile(): Promise<void> {
    const file = this.file;
    if (!file) return;
    // A record appended meanwhile opens the next file: read this one's name and size first.
    const path = this.pathOf(this.fileCount);
    const bytes = this.fileBytes;
    this.file = undefined;
    this.fileBytes = 0;
    try {
      await file.close();
    } catch (error) {
      // Reported like a failed write; rotate() and close() never throw.
      this.options.onError(error);
      return;
    }
    this.options.onFileClosed?.(path, bytes);
  }

  private async nextFile(): Promise<void> {
    await this.closeFile();
    this.fileCount += 1;
    const path = this.pathOf(this.fileCount);
    await mkdir(dirname(path), { recursive: true });
    this.file = await open(path, 'wx');
    this.fileBytes = 0;
  }
}
