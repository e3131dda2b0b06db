/**
 * ArrayBuffers that hold one decoded request message and nothing else. Tensors decoded from such
 * a message are views into it, and once the request's inputs are consumed the whole buffer can
 * move to the inference thread instead of being copied out (inference-protocol.ts).
 */
const wholeMessageBuffers = new WeakSet<ArrayBuffer>();

/** grpc-js prefixes each message with 5 bytes of framing in the same allocation. */
const MAX_FRAMING_BYTES = 5;

/**
 * Records `message` if it fills its ArrayBuffer from just after the framing to the end. grpc-js
 * joins every message into a fresh buffer of exactly its framed size, and hands the deserializer
 * the part after the prefix. Small buffers come from Node's shared pool, which holds other
 * data; they are never exactly that size, and buffers up to the pool size are skipped anyway.
 */
export function noteRequestMessage(message: Uint8Array): void {
  const { buffer } = message;
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength <= Buffer.poolSize) return;
  if (message.byteOffset <= MAX_FRAMING_BYTES && message.byteOffset + message.byteLength === buffer.byteLength) wholeMessageBuffers.add(buffer);
}

/** True for a buffer noted by noteRequestMessage (and not yet detached). */
export function isWholeMessageBuffer(buffer: ArrayBufferLike): buffer is ArrayBuffer {
  return buffer instanceof ArrayBuffer && buffer.byteLength > 0 && wholeMessageBuffers.has(buffer);
}
