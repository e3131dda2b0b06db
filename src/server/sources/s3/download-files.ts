import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { setMaxListeners } from 'node:events';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ServingError } from '../../../shared/errors.js';
import { WRITE_PIECE_BYTES } from './disk-write-protocol.js';
import { DiskWriter, sharedDiskWriter } from './disk-writer.js';
import type { Limiter } from './limiter.js';
import type { ObjectGetter } from './object-getter.js';
import type { RemoteFile } from './remote-version.js';

export interface TransferSettings {
  /** Objects larger than this are fetched as parallel ranged GETs. */
  readonly multipartThresholdBytes: number;
  /** Size of one ranged GET (the smallest one, when maxPartSizeBytes is larger). */
  readonly partSizeBytes: number;
  /** Big objects get parts up to this size (see partSizeFor); default partSizeBytes. */
  readonly maxPartSizeBytes?: number;
}

const MiB = 1024 * 1024;

/**
 * The ranged-GET size for an object: large enough that the object needs about one GET per slot
 * of the limiter, within [partSizeBytes, maxPartSizeBytes], in whole MiB. Every GET costs a
 * request and, on a store that closes each connection, a connect plus TCP's receive-window
 * ramp-up; fewer, larger GETs for a big object keep all slots busy with less of that.
 */
export function partSizeFor(objectBytes: number, transfer: TransferSettings, slots: number): number {
  const base = transfer.partSizeBytes;
  const max = Math.max(base, transfer.maxPartSizeBytes ?? base);
  const perSlot = Math.ceil(objectBytes / Math.max(1, slots) / MiB) * MiB;
  return Math.min(max, Math.max(base, perSlot));
}

export interface DownloadFilesOptions {
  readonly getter: ObjectGetter;
  readonly bucket: string;
  readonly files: readonly RemoteFile[];
  /** The staging directory. */
  readonly dir: string;
  /** Shared by every download of the process: bounds connections and memory. */
  readonly limiter: Limiter;
  readonly transfer: TransferSettings;
  readonly signal: AbortSignal;
  readonly onBytes: (bytes: number) => void;
  /**
   * Parts already written into `dir` by an earlier attempt (ids `path` or `path#part`); the
   * download adds to it, so a retry after a fault fetches only what is missing.
   */
  readonly done: Set<string>;
}

/**
 * Downloads a version's objects into `dir`. Every GET carries `If-Match` with the listed ETag
 * (S3 refuses it if the object changed since it was listed) and the received byte count is
 * checked against the listed size, so a file is written whole or the download fails. Small
 * objects are created by the writer thread in one message (DiskWriter); larger bodies are
 * streamed to disk in batches (memory stays bounded by the number of GETs in flight).
 * The first failure aborts the rest and is thrown as a ServingError naming the object.
 */
export async function downloadFiles(options: DownloadFilesOptions): Promise<void> {
  const { files, dir, transfer } = options;
  const controller = new AbortController();
  // Every GET in flight listens to this signal: as many listeners as the limiter allows is normal.
  setMaxListeners(0, controller.signal);
  const onAbort = (): void => controller.abort(options.signal.reason);
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener('abort', onAbort, { once: true });
  const dirs = new Set(files.map((f) => dirname(join(dir, f.path))));
  try {
    for (const d of [...dirs].sort()) await mkdir(d, { recursive: true });
    const tasks: Promise<void>[] = [];
    let failure: unknown;
    const track = (p: Promise<void>): void => {
      tasks.push(
        p.catch((error: unknown) => {
          failure ??= error;
          controller.abort(error);
        }),
      );
    };
    for (const file of files) {
      const target = join(dir, file.path);
      if (options.done.has(file.path)) continue;
      if (file.size === 0) {
        track(sharedDiskWriter().createFile(target, Buffer.alloc(0)).then(() => void options.done.add(file.path)));
      } else if (file.size <= transfer.multipartThresholdBytes) {
        track(options.limiter.run(() => fetchRange(options, controller.signal, file, target, 0, file.size, 'w')).then(() => void options.done.add(file.path)));
      } else {
        track(fetchParts(options, controller.signal, file, target, track));
      }
      if (controller.signal.aborted) break;
    }
    // Tasks add more tasks (a big object's parts) while we wait: wait until the list stops growing.
    let settled = 0;
    while (settled < tasks.length) {
      const batch = tasks.slice(settled);
      settled += batch.length;
      await Promise.all(batch);
    }
    if (failure !== undefined) throw describeFailure(failure, options.bucket);
    options.signal.throwIfAborted();
    const missing = files.find((f) => !options.done.has(f.path));
    if (missing !== undefined) throw new ServingError('INTERNAL', `object ${missing.key} was not downloaded completely`);
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
}

async function fetchParts(
  options: DownloadFilesOptions,
  signal: AbortSignal,
  file: RemoteFile,
  target: string,
  track: (p: Promise<void>) => void,
): Promise<void> {
  const partSize = partSizeFor(file.size, options.transfer, options.limiter.limit);
  const count = Math.ceil(file.size / partSize);
  const ids = Array.from({ length: count }, (_, i) => `${file.path}#${i}`);
  if (!ids.some((id) => options.done.has(id))) {
    // Pre-size the file so parts can land at their offsets in any order.
    const fh = await open(target, 'w');
    try {
      await fh.truncate(file.size);
    } finally {
      await fh.close();
    }
  }
  let remaining = ids.filter((id) => !options.done.has(id)).length;
  const finished = (): void => {
    if (--remaining === 0) options.done.add(file.path);
  };
  if (remaining === 0) options.done.add(file.path);
  for (let i = 0; i < count; i++) {
    const id = ids[i]!;
    if (options.done.has(id)) continue;
    const start = i * partSize;
    const length = Math.min(partSize, file.size - start);
    track(
      options.limiter.run(async () => {
        signal.throwIfAborted();
        await fetchRange(options, signal, file, target, start, length, 'r+');
        options.done.add(id);
        finished();
      }),
    );
  }
}

async function fetchRange(
  options: DownloadFilesOptions,
  signal: AbortSignal,
  file: RemoteFile,
  target: string,
  start: number,
  length: number,
  flags: 'w' | 'r+',
): Promise<void> {
  signal.throwIfAborted();
  const whole = start === 0 && length === file.size;
  const { stream, etag, recycle } = await options.getter.get(
    { bucket: options.bucket, key: file.key, etag: file.etag, ...(whole ? {} : { range: { start, length } }) },
    signal,
  );
  if (etag !== undefined && etag !== file.etag) {
    stream.destroy();
    throw new ServingError('ABORTED', `object ${file.key} changed while it was downloaded (ETag "${etag}", listed "${file.etag}")`);
  }
  const tooMuch = (): ServingError => new ServingError('UNAVAILABLE', `object ${file.key} sent more than the ${length} bytes asked for`);
  let written: number;
  try {
    if (whole && length <= BUFFERED_OBJECT_BYTES) {
      // Small object: one write of the whole body instead of one per network chunk.
      const chunks: Buffer[] = [];
      let received = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > length) throw tooMuch();
        chunks.push(chunk);
      }
      if (received === length) await sharedDiskWriter().createFile(target, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
      written = received;
      options.onBytes(received);
    } else {
      const fh = await open(target, flags);
      try {
        written = await streamToFile(stream, fh, start, length, tooMuch, options.onBytes, recycle);
      } finally {
        await fh.close();
      }
    }
  } catch (error) {
    stream.destroy();
    throw error;
  }
  if (written !== length) {
    throw new ServingError('UNAVAILABLE', `object ${file.key} was truncated: got ${written} of ${length} bytes${whole ? '' : ` at offset ${start}`}`);
  }
}

/** Objects up to this size are received into memory and handed to the writer thread whole. */
const BUFFERED_OBJECT_BYTES = 1024 * 1024;
/** Received data waiting for the disk beyond this pauses the socket (per GET). */
const WRITE_BATCH_BYTES = 1024 * 1024;

/**
 * Writes a body at `position` while it keeps arriving: chunks that come in during a write wait
 * for the next round of writes (one thread-pool job for all of them), and the socket pauses only
 * when more than WRITE_BATCH_BYTES wait for the disk. Written chunks go back to the getter
 * (`recycle`). Returns the bytes received (the caller compares them with the length it asked for).
 */
function streamToFile(
  stream: Readable,
  fh: FileHandle,
  position: number,
  length: number,
  tooMuch: () => Error,
  onBytes: (n: number) => void,
  recycle: ((chunk: Buffer) => void) | undefined,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let received = 0;
    let writing: Promise<void> | undefined;
    let ended = false;
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed) return;
      failed = true;
      stream.destroy();
      const rejection = error instanceof Error ? error : new Error(String(error));
      // The caller closes the file once this settles: never while a write to it is under way.
      if (writing === undefined) reject(rejection);
      else writing.then(() => reject(rejection), () => reject(rejection));
    };
    const flush = (): void => {
      if (failed || writing !== undefined) return;
      if (pending.length === 0) {
        if (ended) resolve(received);
        return;
      }
      const buffers = pending;
      const bytes = pendingBytes;
      pending = [];
      pendingBytes = 0;
      const write = writeBatch(fh, buffers, position);
      writing = write;
      write.then(
        () => {
          writing = undefined;
          // Written: the getter may reuse these chunks' memory for the next ones.
          if (recycle !== undefined) for (const b of buffers) recycle(b);
          position += bytes;
          onBytes(bytes);
          if (stream.isPaused() && !ended) stream.resume();
          flush();
        },
        (error: unknown) => {
          writing = undefined;
          fail(error);
        },
      );
    };
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > length) return fail(tooMuch());
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= WRITE_BATCH_BYTES) stream.pause();
      flush();
    });
    stream.once('end', () => {
      ended = true;
      flush();
    });
    stream.once('error', fail);
    // The body may have failed or closed while the file was being opened, before these listeners.
    if (stream.errored) fail(stream.errored);
    else if (stream.destroyed && !stream.readableEnded) fail(new Error('the response body closed before it was read'));
  });
}

/** Writes `buffers` at `position`: on the writer thread when they are in shared memory. */
function writeBatch(fh: FileHandle, buffers: readonly Buffer[], position: number): Promise<void> {
  return DiskWriter.accepts(buffers) ? sharedDiskWriter().write(fh.fd, buffers, position) : writeAll(fh, buffers, position);
}

/** Writes `buffers` at `position` through the thread pool in calls of WRITE_PIECE_BYTES, retrying short writes. */
async function writeAll(fh: FileHandle, buffers: readonly Buffer[], position: number): Promise<void> {
  for (const buffer of buffers) {
    for (let at = 0; at < buffer.length; ) {
      const end = Math.min(buffer.length, at + WRITE_PIECE_BYTES);
      while (at < end) {
        const { bytesWritten } = await fh.write(buffer, at, end - at, position);
        if (bytesWritten === 0) throw new Error('the disk accepted no bytes');
        at += bytesWritten;
        position += bytesWritten;
      }
    }
  }
}

/** Names what went wrong in words an operator can act on. */
function describeFailure(error: unknown, bucket: string): ServingError {
  if (error instanceof ServingError) return error;
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (e.code === 'ENOSPC') return new ServingError('RESOURCE_EXHAUSTED', 'the model store is full (ENOSPC); served versions are untouched', { cause: error });
  if (e.code === 'EDQUOT') return new ServingError('RESOURCE_EXHAUSTED', 'the model store is over its quota (EDQUOT); served versions are untouched', { cause: error });
  return s3Error(error, `download from bucket ${bucket}`);
}

const CREDENTIAL_ERRORS = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'XAdminUserNotFound']);

/** Maps an S3 SDK or network error to a ServingError without leaking request details. */
export function s3Error(error: unknown, what: string): ServingError {
  if (error instanceof ServingError) return error;
  const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? 'Error';
  const detail = `${what} failed: ${name}${status !== undefined ? ` (HTTP ${status})` : ''}${e.message && e.message !== name ? `: ${e.message}` : ''}`;
  if (name === 'AbortError') return new ServingError('CANCELLED', `${what} was cancelled`, { cause: error });
  // versitygw answers an unknown access key with 404 XAdminUserNotFound: still a credentials problem.
  if (status === 403 || CREDENTIAL_ERRORS.has(name)) {
    return new ServingError('PERMISSION_DENIED', detail, { cause: error });
  }
  if (status === 404 || name === 'NoSuchKey' || name === 'NoSuchBucket') return new ServingError('NOT_FOUND', detail, { cause: error });
  if (status === 412 || name === 'PreconditionFailed') return new ServingError('ABORTED', `${detail} (the object changed since it was listed)`, { cause: error });
  return new ServingError('UNAVAILABLE', detail, { cause: error });
}
