/*
 * gRPC's length-prefixed framing, read back into whole messages as HTTP/2 DATA arrives: a compressed
 * flag byte, a 4-byte big-endian length, then the message. Each message is handed on as one buffer
 * holding its 5-byte prefix and its bytes, the shape grpc-js's own StreamDecoder produces.
 *
 * Why our own: grpc-js keeps every chunk of a message until the last one arrives, then joins them,
 * and those chunks keep Node's socket read buffers alive. Here each message is assembled as it
 * arrives (byte-assembler.ts; docs/decisions/0013-grpc-message-assembly.md has the numbers).
 */
import { ByteAssembler } from '../byte-assembler.js';

/** Bytes of gRPC framing before each message: compressed flag and length. */
export const MESSAGE_PREFIX_BYTES = 5;

export class GrpcMessageDecoder {
  private readonly prefix = Buffer.alloc(MESSAGE_PREFIX_BYTES);
  private prefixFilled = 0;
  /** The message being assembled, prefix included; undefined between messages. */
  private message: ByteAssembler | undefined;
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
      } else {
        const take = Math.min(this.messageBytes - this.message.length, data.length - offset);
        this.message.append(data.subarray(offset, offset + take));
        offset += take;
      }
      if (this.message!.length < this.messageBytes) continue;
      completed.push(this.message!.bytes());
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

  /** Begins the message the prefix announces, with room for what this chunk still holds. */
  private startMessage(available: number): void {
    const length = this.prefix.readUInt32BE(1);
    this.prefixFilled = 0;
    if (this.maxMessageBytes !== -1 && length > this.maxMessageBytes) {
      throw new Error(`Received message larger than max (${length} vs ${this.maxMessageBytes})`);
    }
    this.messageBytes = MESSAGE_PREFIX_BYTES + length;
    this.message = new ByteAssembler(this.messageBytes);
    this.message.reserve(MESSAGE_PREFIX_BYTES + available);
    this.message.append(this.prefix);
  }
}
