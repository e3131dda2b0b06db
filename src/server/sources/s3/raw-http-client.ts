import net from 'node:net';
import { Readable } from 'node:stream';

/** One plain-HTTP GET. */
export interface RawGet {
  readonly hostname: string;
  readonly port: number;
  /** Path and query, already encoded. */
  readonly path: string;
  /** Request headers, `host` included. */
  readonly headers: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  readonly connectTimeoutMs?: number | undefined;
  /** Longest the connection may stay silent while the GET is under way. */
  readonly idleTimeoutMs?: number | undefined;
}

export interface RawResponse {
  readonly statusCode: number;
  /** Lower-case names; a repeated header keeps its last value. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body, delivered in blocks of up to BODY_BLOCK_BYTES. */
  readonly body: Readable;
  /**
   * Hands a body chunk back for reuse once nothing refers to it any more (e.g. after it was
   * written). Optional: chunks that are not handed back are simply collected.
   */
  readonly recycle: (chunk: Buffer) => void;
}

/** Socket reads land in one reused buffer of this size per connection. */
const READ_BUFFER_BYTES = 64 * 1024;
/**
 * Body bytes are copied out of the read buffer into blocks of this size. Blocks are recycled
 * (RawResponse.recycle): fresh 1 MiB allocations are fresh pages from the kernel (malloc maps
 * them), and faulting those in cost more system time than the download here.
 */
const BODY_BLOCK_BYTES = 1024 * 1024;
/** Bodies with at least this much left are read straight into their blocks; less is copied from the read buffer. */
const DIRECT_READ_MIN_BYTES = 64 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_IDLE_PER_ORIGIN = 64;
/** Free blocks kept for reuse (memory held while idle: this many MiB). */
const MAX_FREE_BLOCKS = 32;

function codedError(message: string, code: string): Error {
  const e = new Error(message) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

/** A successful answer framed other than by Content-Length (chunked): use another HTTP client. */
export class UnframedResponseError extends Error {
  constructor(readonly statusCode: number, transferEncoding: string | undefined) {
    super(`S3 answered HTTP ${statusCode} without a Content-Length (transfer-encoding ${transferEncoding ?? 'none'})`);
    this.name = 'UnframedResponseError';
  }
}

function timeoutError(message: string): Error {
  const e = new Error(message);
  e.name = 'TimeoutError';
  return e;
}

/** The parts of one request/response exchange that the connection's read callback drives. */
interface Exchange {
  onBytes(bytes: Uint8Array, length: number): void;
  onClose(error: Error): void;
  /** Where the next socket read should land: the body's place in its block, or undefined for the connection's buffer. */
  readTarget(): Uint8Array | undefined;
}

/**
 * A keep-alive connection whose socket reads (`onread`) into one static buffer, or, while a body
 * is under way, straight into the body's block (Exchange.readTarget): receiving a body then
 * allocates nothing per network chunk, emits no per-chunk events and copies nothing in user space.
 */
class Connection {
  exchange: Exchange | undefined;
  readonly socket: net.Socket;
  closed = false;

  constructor(hostname: string, port: number, lookup: net.LookupFunction | undefined, onClosed: (c: Connection) => void) {
    const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
    this.socket = net.connect({
      host: hostname,
      port,
      noDelay: true,
      ...(lookup !== undefined ? { lookup } : {}),
      onread: {
        // Asked after every read for the next read's buffer.
        buffer: () => this.exchange?.readTarget() ?? buffer,
        callback: (length: number, bytes: Uint8Array) => {
          if (this.exchange === undefined) {
            // Bytes nobody asked for: the connection is out of step; never reuse it.
            this.socket.destroy();
            return false;
          }
          this.exchange.onBytes(bytes, length);
          return true;
        },
      },
    } as net.NetConnectOpts);
    const close = (error?: Error): void => {
      if (this.closed) return;
      this.closed = true;
      onClosed(this);
      this.exchange?.onClose(error ?? codedError('S3 closed the connection before the response was complete', 'ECONNRESET'));
    };
    this.socket.on('error', close);
    this.socket.on('close', () => close());
  }
}

/**
 * GETs over plain HTTP/1.1 with keep-alive, for S3 endpoints on `http:`. node:http parses every
 * 64 KiB socket chunk through its parser, allocates a Buffer for it and emits events; for big
 * objects that cost ~1.5 CPU-seconds per GiB here, as much as the rest of the download. This
 * client has the socket read the body straight into 1 MiB blocks and hands those on. Through a
 * Readable, as downloads consume it, 1 GiB takes ~0.3 CPU-seconds, against 0.9 when the body was
 * copied out of a reused read buffer and 1.2-1.3 with node:http (`raw` in bench/s3-sync/probe.ts).
 *
 * It understands what S3 answers to a GET: a status line, headers, and a body framed by
 * Content-Length. A response framed otherwise (chunked) is read to its end only when it is an
 * error (for its message); a successful one is refused with UnframedResponseError, for the
 * caller to repeat the GET with a general-purpose client.
 */
export class RawHttpClient {
  private readonly idle = new Map<string, Connection[]>();
  private readonly freeBlocks: Buffer[] = [];
  private readonly recycle = (chunk: Buffer): void => {
    // Only whole blocks this client allocated (a final, shorter block is a view of one).
    if (chunk.buffer.byteLength !== BODY_BLOCK_BYTES || this.freeBlocks.length >= MAX_FREE_BLOCKS) return;
    this.freeBlocks.push(Buffer.from(chunk.buffer, 0, BODY_BLOCK_BYTES));
  };

  private block(size: number): Buffer {
    if (size < BODY_BLOCK_BYTES) return Buffer.allocUnsafe(size);
    // Shared memory, so the disk writer thread can write the block without a copy (DiskWriter).
    return this.freeBlocks.pop() ?? Buffer.from(new SharedArrayBuffer(BODY_BLOCK_BYTES));
  }

  /** `lookup` replaces DNS resolution (as node:http agents accept it). */
  constructor(private readonly lookup?: net.LookupFunction) {}

  async get(request: RawGet): Promise<RawResponse> {
    request.signal.throwIfAborted();
    const origin = `${request.hostname}:${request.port}`;
    let connection: Connection | undefined;
    const pool = this.idle.get(origin);
    while (pool !== undefined && pool.length > 0) {
      const candidate = pool.pop()!;
      if (!candidate.closed) {
        connection = candidate;
        break;
      }
    }
    const reused = connection !== undefined;
    connection?.socket.ref();
    connection ??= new Connection(request.hostname, request.port, this.lookup, (c) => this.forget(origin, c));
    if (!reused) await this.connected(connection, request);
    return this.exchange(connection, origin, request);
  }

  /** Closes the idle connections. */
  close(): void {
    for (const pool of this.idle.values()) for (const c of pool) c.socket.destroy();
    this.idle.clear();
  }

  private forget(origin: string, connection: Connection): void {
    const pool = this.idle.get(origin);
    const at = pool?.indexOf(connection) ?? -1;
    if (at >= 0) pool!.splice(at, 1);
  }

  private release(origin: string, connection: Connection): void {
    connection.exchange = undefined;
    connection.socket.setTimeout(0);
    // The last block may have paused reading (consumer behind); the next GET needs it reading.
    connection.socket.resume();
    const pool = this.idle.get(origin) ?? [];
    if (connection.closed || pool.length >= MAX_IDLE_PER_ORIGIN) {
      connection.socket.destroy();
      return;
    }
    // An idle connection must not keep the process alive (as node:http's agents do).
    connection.socket.unref();
    pool.push(connection);
    this.idle.set(origin, pool);
  }

  private connected(connection: Connection, request: RawGet): Promise<void> {
    return new Promise((resolve, reject) => {
      const { socket } = connection;
      let timer: NodeJS.Timeout | undefined;
      const done = (error?: Error): void => {
        clearTimeout(timer);
        socket.off('connect', onConnect);
        socket.off('error', done);
        request.signal.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else {
          socket.destroy();
          reject(error);
        }
      };
      const onConnect = (): void => done();
      const onAbort = (): void => done(request.signal.reason instanceof Error ? request.signal.reason : new Error(String(request.signal.reason)));
      socket.once('connect', onConnect);
      socket.once('error', done);
      request.signal.addEventListener('abort', onAbort, { once: true });
      if (request.connectTimeoutMs !== undefined) {
        const ms = request.connectTimeoutMs;
        timer = setTimeout(() => done(timeoutError(`could not connect to S3 within ${ms} ms`)), ms);
      }
    });
  }

  private exchange(connection: Connection, origin: string, request: RawGet): Promise<RawResponse> {
    const { socket } = connection;
    return new Promise<RawResponse>((resolve, reject) => {
      let head = '';
      let response: { statusCode: number; headers: Record<string, string> } | undefined;
      let remaining = 0;
      let reusable = true;
      let block: Buffer | undefined;
      let filled = 0;
      let settled = false;
      let bodyStream: Readable | undefined;
      // An error answer without Content-Length: its body runs until the server closes.
      let readUntilClose = false;
      let chunked = false;
      let raw = '';

      const finish = (error?: Error): void => {
        if (settled) return;
        settled = true;
        request.signal.removeEventListener('abort', onAbort);
        if (error !== undefined) {
          connection.exchange = undefined;
          socket.destroy();
          if (bodyStream !== undefined) bodyStream.destroy(error);
          else reject(error);
          return;
        }
        if (reusable) this.release(origin, connection);
        else {
          // Done with: its close is no news (and building an error for it costs a stack trace).
          connection.exchange = undefined;
          socket.destroy();
        }
        bodyStream?.push(null);
      };
      const onAbort = (): void => finish(request.signal.reason instanceof Error ? request.signal.reason : new Error(String(request.signal.reason)));

      const flushBlock = (): void => {
        if (block === undefined || filled === 0) return;
        const out = filled === block.length ? block : block.subarray(0, filled);
        block = undefined;
        filled = 0;
        // Past the stream's high-water mark: stop reading until the consumer catches up.
        if (!bodyStream!.push(out)) socket.pause();
      };
      /** The rest of the current block, for the socket to read the body into (see Connection). */
      const readTarget = (): Uint8Array | undefined => {
        if (response === undefined || readUntilClose || settled || remaining < DIRECT_READ_MIN_BYTES) return undefined;
        block ??= this.block(Math.min(remaining, BODY_BLOCK_BYTES));
        return block.subarray(filled, filled + Math.min(block.length - filled, remaining));
      };
      /** Body bytes the socket read straight into `block` at `filled`. */
      const tookInPlace = (bytes: Uint8Array, length: number): boolean => {
        if (block === undefined || bytes.buffer !== block.buffer || bytes.byteOffset !== block.byteOffset + filled) return false;
        filled += length;
        remaining -= length;
        if (filled === block.length || remaining === 0) flushBlock();
        if (remaining === 0) finish();
        return true;
      };
      const takeBody = (bytes: Uint8Array, from: number, to: number): void => {
        let at = from;
        while (at < to && remaining > 0) {
          block ??= this.block(Math.min(remaining + filled, BODY_BLOCK_BYTES));
          const n = Math.min(to - at, block.length - filled, remaining);
          block.set(bytes.subarray(at, at + n), filled);
          filled += n;
          at += n;
          remaining -= n;
          if (filled === block.length) flushBlock();
        }
        if (at < to) {
          // More than Content-Length announced: the connection cannot be trusted any more.
          reusable = false;
        }
        if (remaining === 0) {
          flushBlock();
          finish();
        }
      };
      const startBody = (statusCode: number, headers: Record<string, string>, rest: Uint8Array): void => {
        const length = headers['content-length'];
        const framed = length !== undefined && /^\d+$/.test(length);
        if (!framed && statusCode >= 200 && statusCode < 300) {
          finish(new UnframedResponseError(statusCode, headers['transfer-encoding']));
          return;
        }
        if (headers['connection']?.toLowerCase() === 'close') reusable = false;
        bodyStream = new Readable({
          highWaterMark: 2 * BODY_BLOCK_BYTES,
          read: () => {
            if (!settled) socket.resume();
          },
          destroy: (error, callback) => {
            // The consumer gave up early: the rest of the body would still arrive on this socket.
            if (!settled) {
              settled = true;
              request.signal.removeEventListener('abort', onAbort);
              connection.exchange = undefined;
              socket.destroy();
            }
            callback(error);
          },
        });
        // A failure can come before the consumer listens (it may still be opening its file): it
        // must not be an uncaught 'error'. The consumer then finds it in `body.errored`.
        bodyStream.on('error', () => undefined);
        resolve({ statusCode, headers, body: bodyStream, recycle: this.recycle });
        if (framed) {
          remaining = Number(length);
          if (remaining === 0) finish();
          else takeBody(rest, 0, rest.length);
          return;
        }
        reusable = false;
        readUntilClose = true;
        chunked = headers['transfer-encoding']?.toLowerCase() === 'chunked';
        if (rest.length > 0) connection.exchange!.onBytes(rest, rest.length);
      };

      connection.exchange = {
        onBytes: (bytes, length) => {
          if (settled) return;
          if (response === undefined) {
            head += Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('latin1');
            const end = head.indexOf('\r\n\r\n');
            if (end < 0) {
              if (head.length > MAX_HEAD_BYTES) finish(codedError(`S3's response headers exceed ${MAX_HEAD_BYTES} bytes`, 'EPROTO'));
              return;
            }
            const parsed = parseHead(head.slice(0, end));
            if (parsed === undefined) {
              finish(codedError(`S3 sent a malformed HTTP response: ${JSON.stringify(head.slice(0, 80))}`, 'EPROTO'));
              return;
            }
            // `head` holds latin1 characters, one per byte: its tail length is the body bytes read.
            const bodyBytes = head.length - end - 4;
            response = parsed;
            // 100 Continue and other interim answers are not sent to GETs without Expect.
            startBody(parsed.statusCode, parsed.headers, bytes.subarray(length - bodyBytes, length));
            return;
          }
          if (readUntilClose) {
            const chunk = Buffer.from(bytes.subarray(0, length));
            if (!chunked) {
              bodyStream!.push(chunk);
              return;
            }
            // A chunked error body: small, so gathered whole and decoded at its zero-size chunk.
            raw += chunk.toString('latin1');
            const decoded = decodeChunked(raw);
            if (decoded.state === 'malformed' || raw.length > MAX_HEAD_BYTES) finish(codedError('S3 sent a malformed chunked error body', 'EPROTO'));
            else if (decoded.state === 'complete') {
              bodyStream!.push(Buffer.from(decoded.body, 'latin1'));
              finish();
            }
            return;
          }
          if (!tookInPlace(bytes, length)) takeBody(bytes, 0, length);
        },
        readTarget,
        onClose: (error) => {
          if (readUntilClose) finish();
          else finish(error);
        },
      };

      request.signal.addEventListener('abort', onAbort, { once: true });
      if (request.idleTimeoutMs !== undefined) {
        const ms = request.idleTimeoutMs;
        socket.setTimeout(ms, () => finish(timeoutError(`no data from S3 for ${ms} ms`)));
      }
      const lines = [`GET ${request.path} HTTP/1.1`, ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    });
  }
}

/** Status line and headers; undefined when they do not look like HTTP/1.x. */
export function parseHead(text: string): { statusCode: number; headers: Record<string, string> } | undefined {
  const lines = text.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (status === null) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { statusCode: Number(status[1]), headers };
}

const INCOMPLETE = { state: 'incomplete' } as const;
const MALFORMED = { state: 'malformed' } as const;

export type ChunkedBody = { readonly state: 'complete'; readonly body: string } | { readonly state: 'incomplete' } | { readonly state: 'malformed' };

/**
 * The payload of a chunked body (latin1 in and out): complete once the zero-size chunk and the
 * end of the trailers arrived. Chunk extensions and trailers are skipped.
 */
export function decodeChunked(raw: string): ChunkedBody {
  let body = '';
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd < 0) return raw.length - at > 1024 ? MALFORMED : INCOMPLETE;
    const sizeText = raw.slice(at, lineEnd).split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return MALFORMED;
    const size = parseInt(sizeText, 16);
    if (size === 0) return raw.indexOf('\r\n\r\n', lineEnd) >= 0 ? { state: 'complete', body } : INCOMPLETE;
    const dataEnd = lineEnd + 2 + size;
    if (raw.length < dataEnd + 2) return INCOMPLETE;
    if (raw.slice(dataEnd, dataEnd + 2) !== '\r\n') return MALFORMED;
    body += raw.slice(lineEnd + 2, dataEnd);
    at = dataEnd + 2;
  }
}
