import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../../../../../src/server/core/host-tensor.js';
import { isWholeMessageBuffer, noteRequestMessage } from '../../../../../src/server/core/message-buffers.js';
import { joinRowBlocks, type RowBlocks } from '../../../../../src/server/core/row-blocks.js';
import { postableTensors, type RunInput } from '../../../../../src/server/servables/tensorflow/inference-protocol.js';

/** Larger than Node's buffer pool, whose size changes between versions (8 KiB in 20, 64 KiB in 24). */
const LARGE = Buffer.poolSize + 20_000;

/** A request message as grpc-js hands it to the deserializer: its own buffer, after 5 bytes of framing. */
function framedMessage(bytes: number): Buffer {
  const framed = Buffer.alloc(bytes + 5);
  for (let i = 0; i < framed.length; i++) framed[i] = i % 251;
  return framed.subarray(5);
}

/** Posts through a real MessageChannel, as the pool does, and returns what the other side gets. */
async function roundTrip(inputs: RunInput[], transfer: ArrayBuffer[]): Promise<RunInput[]> {
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<RunInput[]>((resolve) => port2.once('message', resolve));
  port1.postMessage(inputs, transfer);
  const result = await received;
  port1.close();
  return result;
}

describe('noteRequestMessage', () => {
  it('notes a message that fills its own buffer after the framing', () => {
    const message = framedMessage(LARGE);
    noteRequestMessage(message);
    expect(isWholeMessageBuffer(message.buffer)).toBe(true);
  });

  it.each([
    ['a small message (Node pools small buffers)', Buffer.from('small message')],
    ['a view that stops before the end of its buffer', framedMessage(LARGE).subarray(0, 10_000)],
    ['a view that starts past the framing', framedMessage(LARGE).subarray(100)],
    ['a message no larger than the pool', framedMessage(Buffer.poolSize - 5)],
  ])('ignores %s', (_name, message) => {
    noteRequestMessage(message);
    expect(isWholeMessageBuffer(message.buffer)).toBe(false);
  });
});

describe('postableTensors', () => {
  const floatsIn = (bytes: Uint8Array): HostTensor => ({ dtype: 'DT_FLOAT', shape: [bytes.byteLength / 4], bytes });

  it('moves a consumed tensor that is a view into its own request message: no copy, same view on the other side', async () => {
    const message = framedMessage(2 * LARGE);
    noteRequestMessage(message);
    const view = message.subarray(1000, 1000 + 4 * 4000);
    const { tensors, transfer } = postableTensors([floatsIn(view)], true);
    expect(transfer).toEqual([message.buffer]);
    expect((tensors[0] as { bytes: Uint8Array }).bytes).toBe(view);
    const expected = [...view];
    const [got] = await roundTrip(tensors, transfer);
    expect(message.buffer.byteLength).toBe(0); // detached: it moved
    expect([...(got as { bytes: Uint8Array }).bytes]).toEqual(expected);
  });

  it('copies such a view when the caller keeps its inputs, and leaves the message alone', async () => {
    const message = framedMessage(2 * LARGE);
    noteRequestMessage(message);
    const view = message.subarray(1000, 1400);
    const { tensors, transfer } = postableTensors([floatsIn(view)], false);
    const copy = (tensors[0] as { bytes: Uint8Array }).bytes;
    expect(copy).not.toBe(view);
    expect(transfer).toEqual([copy.buffer]);
    await roundTrip(tensors, transfer);
    expect(message.buffer.byteLength).toBe(2 * LARGE + 5);
  });

  it('copies a view into a buffer it cannot prove belongs to the request alone, even when consumed', () => {
    const shared = new Uint8Array(64 * 1024);
    const view = shared.subarray(16, 16 + 400);
    const { tensors, transfer } = postableTensors([floatsIn(view)], true);
    expect((tensors[0] as { bytes: Uint8Array }).bytes).not.toBe(view);
    expect(transfer).not.toContain(shared.buffer);
  });

  it('moves row blocks with their message buffers, and the worker joins and pads them', async () => {
    const messages = [framedMessage(LARGE), framedMessage(LARGE)];
    messages.forEach(noteRequestMessage);
    const rowBytes = 8;
    const blocks = [messages[0]!.subarray(100, 100 + rowBytes), messages[1]!.subarray(200, 200 + 2 * rowBytes)];
    const expected = [...blocks[0]!, ...blocks[1]!, ...blocks[0]!]; // the padded row repeats the first
    const input: RowBlocks = { kind: 'row-blocks', dtype: 'DT_FLOAT', shape: [4, 2], blocks };
    const { tensors, transfer } = postableTensors([input], false);
    expect(transfer).toEqual([messages[0]!.buffer, messages[1]!.buffer]);
    const [got] = await roundTrip(tensors, transfer);
    expect([...joinRowBlocks(got as RowBlocks).bytes]).toEqual(expected);
  });

  it('leaves string tensors to postMessage', () => {
    const strings: HostTensor = { dtype: 'DT_STRING', shape: [1], strings: [new Uint8Array([1, 2])] };
    expect(postableTensors([strings], true)).toEqual({ tensors: [strings], transfer: [] });
  });
});
