/*
 * A message or body read chunk by chunk into one buffer of its own. Keeping the chunks and joining
 * them at the end would keep Node's socket read buffers (which the chunks are views of) alive until
 * the last chunk. For a large request that arrives slowly they then outlive young-generation
 * collections, and only full collections on the event loop free them
 * (docs/decisions/0013-grpc-message-assembly.md). Here each chunk is copied on arrival.
 *
 * The buffer grows with what has arrived (to four times the bytes so far, at least 16 KiB, never
 * past `maxBytes`) rather than being sized from a declared length at once: a client that announces
 * a large message and sends little of it makes us reserve little memory.
 */

/** The smallest buffer: one HTTP/2 DATA frame of the default maximum size. */
const MIN_BYTES = 16 * 1024;
/** How far ahead of what has arrived the buffer may grow. */
const GROWTH_FACTOR = 4;

export class ByteAssembler {
  private buffer: Buffer | undefined;
  private filled = 0;

  /** @param maxBytes the most this will hold: a declared length, or a limit. */
  constructor(private readonly maxBytes: number) {}

  get length(): number {
    return this.filled;
  }

  /** Bytes reserved so far (what arrived plus room to grow). */
  get capacity(): number {
    return this.buffer?.length ?? 0;
  }

  /** Copies `chunk` in; the caller keeps the total within `maxBytes`. */
  append(chunk: Uint8Array): void {
    const needed = this.filled + chunk.length;
    if (needed > this.maxBytes) throw new RangeError(`${needed} bytes exceed the ${this.maxBytes} this assembler may hold`);
    this.reserve(needed);
    this.buffer!.set(chunk, this.filled);
    this.filled = needed;
  }

  /** Makes room for `bytes` in all (growing as usual past them), when the caller knows that many are at hand. */
  reserve(bytes: number): void {
    if (this.buffer === undefined || bytes > this.buffer.length) this.grow(Math.min(bytes, this.maxBytes));
  }

  /**
   * The bytes so far. When they fill `maxBytes`, they are a buffer of their own (which can move to
   * another thread without a copy); otherwise a view of the first `length` bytes.
   */
  bytes(): Buffer {
    if (this.buffer === undefined) return Buffer.alloc(0);
    return this.filled === this.buffer.length ? this.buffer : this.buffer.subarray(0, this.filled);
  }

  private grow(needed: number): void {
    const grown = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(GROWTH_FACTOR * needed, MIN_BYTES)));
    this.buffer?.copy(grown, 0, 0, this.filled);
    this.buffer = grown;
  }
}
