/*
 * gRPC's length-prefixed framing, read back into whole messages as HTTP/2 DATA arrives: a compressed
 * flag byte, a 4-byte big-endian length, then the message. Each message is handed on as one buffer
 * holding its 5-byte prefix and its bytes, the shape grpc-js's own StreamDecoder produces.
 *
 * Why our own: grpc-js keeps every chunk of a message until the last one arrives, then joins them.
 * Those chunks are views into Node's 64 KiB socket read buffers, and a large request that arrives
 * over many round trips keeps them alive across young-generation collections. Promoted, they are
 * freed only by a full collection, and V8 counts them as external memory: on a server receiving
 * 602 KB requests they started a full collection on the event loop every 2-3 s, 4-8 ms of pause
 * plus marking steps of up to 8 ms (docs/decisions/0013-grpc-message-assembly.md). Here each
 * chunk is copied into the message's buffer as it arrives, so the read buffers die young.
 *
 * The buffer grows with what has arrived (to four times the bytes received, at least 16 KiB, never
 * past the declared length) rather than being sized from the prefix at once: a client that declares
 * a large message and sends little of it reserves little memory. Growing by four rather than two
 * took as few young-generation collections as grpc-js's decoder (one copy fewer per large message).
 */

/** Bytes of gRPC framing before each message: compressed flag and length. */
export const MESSAGE_PREFIX_BYTES = 5;
/** The smallest buffer a message being assembled starts with: one HTTP/2 DATA frame of the default maximum size. */
const MIN_ASSEMBLY_BYTES = 16 * 1024;
/** How far ahead of what has arrived a message's buffer may grow. */
const GROWTH_FACTOR = 4;

export class GrpcMessageDecoder {
  private readonly prefix = Buffer.alloc(MESSAGE_PREFIX_BYTES);
  private prefixFilled = 0;
  /** The message being assembled, prefix included; undefined between messages. */
  private message: Buffer | undefined;
  private messageFilled = 0;
  private messageBytes = 0;

  /** @param maxMessageBytes the largest message accepted (prefix excluded); -1 for no limit. */
  constructor(private readonly maxMessageBytes: number) {}

  /**
   * Consumes one chunk of the stream and returns the messages it completed, each with its prefix.
   * Throws when a prefix declares a message over the limit (grpc-js answers RESOURCE_EXHAUSTED
   * with this error's message).
   */
  write(data: Buffer): Buffer[] {
    const completed: Buffer[] = [];
    let offset = 0;
    while (offset < data.length) {
      if (this.message === undefined) {
        offset = this.readPrefix(data, offset);
        if (this.prefixFilled < MESSAGE_PREFIX_BYTES) break;
        this.startMessage(data.length - offset);
        if (this.messageFilled < this.messageBytes) continue;
      } else {
        const take = Math.min(this.messageBytes - this.messageFilled, data.length - offset);
        this.reserve(this.messageFilled + take);
        data.copy(this.message, this.messageFilled, offset, offset + take);
        this.messageFilled += take;
        offset += take;
        if (this.messageFilled < this.messageBytes) continue;
      }
      completed.push(this.message!);
      this.message = undefined;
    }
    return completed;
  }

  private readPrefix(data: Buffer, offset: number): number {
    const take = Math.min(MESSAGE_PREFIX_BYTES - this.prefixFilled, data.length - offset);
    data.copy(this.prefix, this.prefixFilled, offset, offset + take);
    this.prefixFilled += take;
    return offset + take;
  }

  /** Begins the message the prefix announces, sized for what this chunk still holds. */
  private startMessage(available: number): void {
    const length = this.prefix.readUInt32BE(1);
    this.prefixFilled = 0;
    if (this.maxMessageBytes !== -1 && length > this.maxMessageBytes) {
      throw new Error(`Received message larger than max (${length} vs ${this.maxMessageBytes})`);
    }
    this.messageBytes = MESSAGE_PREFIX_BYTES + length;
    this.message = Buffer.allocUnsafe(this.capacityFor(MESSAGE_PREFIX_BYTES + available));
    this.prefix.copy(this.message, 0);
    this.messageFilled = MESSAGE_PREFIX_BYTES;
  }

  private capacityFor(needed: number): number {
    return Math.min(this.messageBytes, Math.max(GROWTH_FACTOR * needed, MIN_ASSEMBLY_BYTES));
  }

  /** Grows the message's buffer to hold `needed` bytes, copying what it has. */
  private reserve(needed: number): void {
    if (needed <= this.message!.length) return;
    const grown = Buffer.allocUnsafe(this.capacityFor(needed));
    this.message!.copy(grown, 0, 0, this.messageFilled);
    this.message = grown;
  }
}
