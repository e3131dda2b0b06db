/**
 * Large REST predict bodies are parsed and decoded in a JSON thread (json-decode-pool.ts). Two
 * real servers get the same bodies: one as shipped, one with --rest_json_threads=0, which decodes
 * on the event loop as the rest of the suite checks against Python TensorFlow. Every answer, error
 * or not, must be the same. Bodies are made large with JSON whitespace where the case is small.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonDecodePool } from '../../../src/server/transports/rest/json-decode-pool.js';
import { REPO_ROOT } from '../../helpers/server/build-check.js';
import { processThreads } from '../../helpers/server/process-threads.js';
import { rest, type RestReply } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

const CONFIG = join(REPO_ROOT, 'test/fixtures/model-config.yaml');
/** Whitespace that takes a small body past the size the JSON thread handles. */
const PADDING = ' '.repeat(JsonDecodePool.MIN_BODY_BYTES);

let shipped: ServerProcess;
let onLoop: ServerProcess;

beforeAll(async () => {
  [shipped, onLoop] = await Promise.all([startServer({ configFile: CONFIG }), startServer({ configFile: CONFIG, args: ['--rest_json_threads=0'] })]);
}, 120_000);

afterAll(async () => {
  await Promise.all([shipped?.stop(), onLoop?.stop()]);
});

async function both(path: string, body: string): Promise<[RestReply, RestReply]> {
  expect(body.length).toBeGreaterThanOrEqual(JsonDecodePool.MIN_BODY_BYTES);
  return Promise.all([rest(shipped.restUrl, path, { body }), rest(onLoop.restUrl, path, { body })]);
}

const rows = (count: number): number[][] => Array.from({ length: count }, (_, i) => [i, i / 2, -i, i % 7]);

describe('REST predict bodies of 64 KiB or more', () => {
  it('go to the JSON thread, which starts with the first of them at nice 10, behind the event loop (Linux: threads of the server process)', async () => {
    const before = [processThreads(shipped.pid), processThreads(onLoop.pid)];
    const [thread, loop] = await both('/v1/models/tiny:predict', JSON.stringify({ instances: rows(4000) }));
    expect([thread.status, loop.status]).toEqual([200, 200]);
    const known = new Set(before[0]!.map((t) => t.tid));
    // The JSON thread (TensorFlow's own threads, at nice 10 anyway, may start with the first call too).
    const started = processThreads(shipped.pid).filter((t) => !known.has(t.tid) && !t.comm.startsWith('tf_'));
    expect(started.length, JSON.stringify(started)).toBeGreaterThan(0);
    expect(started.every((t) => t.nice === 10), JSON.stringify(started)).toBe(true);
    expect(processThreads(onLoop.pid).length).toBe(before[1]!.length);
  });

  it.each([
    ['row format, 4000 instances', 'tiny', { instances: rows(4000) }],
    ['columnar format', 'tiny', { inputs: { x: rows(4000) } }],
    // Bodies of one dense list of numbers take the JSON thread's fast path (dense-json-body.ts).
    ['float32 values written as 17-digit doubles, as numpy sends them', 'tiny', { instances: Array.from({ length: 4000 }, (_, i) => [Math.fround(i / 1000), Math.fround(-i / 3), Math.fround(1 / (i + 1)), Math.fround(i * 1e-7)]) }],
    ['a named signature (mnist, 40 images)', 'mnist', { signature_name: 'predict_images', instances: Array.from({ length: 40 }, (_, i) => Array.from({ length: 28 }, () => Array.from({ length: 28 }, () => [(i % 10) / 10]))) }],
  ])('%s: the same answer as on the event loop', async (_name, model, request) => {
    const [thread, loop] = await both(`/v1/models/${model}:predict`, JSON.stringify(request));
    expect(thread.status, thread.text.slice(0, 300)).toBe(200);
    expect(thread.text).toBe(loop.text);
    expect(thread.headers.get('x-tensorfleet-model-version')).toBe(loop.headers.get('x-tensorfleet-model-version'));
  });

  it('a response of 20000 outputs, written in the JSON thread: the same answer as on the event loop', async () => {
    const request = JSON.stringify({ instances: Array.from({ length: 20_000 }, (_, i) => Math.fround(i / 3 - 1000)) });
    const [thread, loop] = await both('/v1/models/versioned:predict', request);
    expect(thread.status, thread.text.slice(0, 300)).toBe(200);
    expect((thread.json as { predictions: number[] }).predictions).toHaveLength(20_000);
    expect(thread.text).toBe(loop.text);
    expect(thread.headers.get('content-type')).toBe(loop.headers.get('content-type'));
  });

  it('int64 beyond 2^53 (the exact parser) gives the same exact sum', async () => {
    const body = `{"signature_name": "add", "inputs": {"a": 9007199254740993, "b": 2}}${PADDING}`;
    const [thread, loop] = await both('/v1/models/adder:predict', body);
    expect(thread.status, thread.text).toBe(200);
    expect(thread.text).toBe(loop.text);
    expect(thread.text).toContain('9007199254740995');
  });

  it.each([
    ['malformed JSON', '/v1/models/tiny:predict', `{"instances": [[1, 2, 3, 4]${PADDING}`, 400],
    ['a body that is not an object', '/v1/models/tiny:predict', `[1, 2]${PADDING}`, 400],
    ['an unknown signature', '/v1/models/tiny:predict', `{"signature_name": "nope", "instances": [[1, 2, 3, 4]]}${PADDING}`, 404],
    ['a string where the signature wants floats', '/v1/models/tiny:predict', `{"instances": [["a", "b", "c", "d"]]}${PADDING}`, 400],
    ['both instances and inputs', '/v1/models/tiny:predict', `{"instances": [[1, 2, 3, 4]], "inputs": {"x": [[1, 2, 3, 4]]}}${PADDING}`, 400],
    ['a signature named __proto__', '/v1/models/tiny:predict', `{"signature_name": "__proto__", "instances": [[1, 2, 3, 4]]}${PADDING}`, 404],
    ['ragged rows', '/v1/models/tiny:predict', `{"instances": [[1, 2, 3, 4], [1, 2, 3]]}${PADDING}`, 400],
    ['an unknown model', '/v1/models/nope:predict', `{"instances": [[1, 2, 3, 4]]}${PADDING}`, 404],
    // TF Serving parses the body before it looks up the model.
    ['malformed JSON for an unknown model', '/v1/models/nope:predict', `{"instances": [[1, 2, 3, 4]${PADDING}`, 400],
    ['malformed JSON for an unknown version', '/v1/models/tiny/versions/9:predict', `{"instances": [[1, 2, 3, 4]${PADDING}`, 400],
    // Walking such lists overflowed the stack (INTERNAL) before the depth was checked against TensorFlow's 254 dimensions.
    ['lists nested 100000 deep', '/v1/models/tiny:predict', `{"instances": ${'['.repeat(100_000)}1${']'.repeat(100_000)}}`, 400],
    ['lists nested 100000 deep, columnar', '/v1/models/tiny:predict', `{"inputs": ${'['.repeat(100_000)}1${']'.repeat(100_000)}}`, 400],
    // JSON.parse reads 1e400 as Infinity; it is refused, as TF Serving's parser refuses it.
    ['a number beyond a double in a dense body', '/v1/models/tiny:predict', `{"instances": [[1, 2, 3, 1e400]]}${PADDING}`, 400],
    // One leading byte order mark is skipped (below), a second one is not JSON.
    ['two byte order marks before a dense body', '/v1/models/tiny:predict', `\uFEFF\uFEFF{"instances": [[1, 2, 3, 4]]}${PADDING}`, 400],
    ['a byte order mark after whitespace', '/v1/models/tiny:predict', ` \uFEFF{"instances": [{"x": [1, 2, 3, 4]}]}${PADDING}`, 400],
  ])('%s: the same error as on the event loop, counted alike in the request metrics', async (_name, path, body, status) => {
    const model = /\/v1\/models\/([^/:]+)/.exec(path)![1]!;
    const counts = (server: ServerProcess): Promise<string> =>
      fetch(`${server.restUrl}/metrics`).then(async (r) => (await r.text()).split('\n').filter((l) => l.startsWith(`:tensorflow:serving:request_count{model_name="${model}"`)).join('\n'));
    const before = await Promise.all([counts(shipped), counts(onLoop)]);
    expect(before[0]).toBe(before[1]);
    const [thread, loop] = await both(path, body);
    expect(thread.status, thread.text).toBe(status);
    expect(thread.json).toEqual(loop.json);
    expect((thread.json as { error?: unknown }).error).toEqual(expect.any(String));
    const [threadCounts, loopCounts] = await Promise.all([counts(shipped), counts(onLoop)]);
    expect(threadCounts).toBe(loopCounts);
  });

  it('serves status calls and small bodies while large ones are decoded', async () => {
    const large = JSON.stringify({ instances: rows(20_000) });
    const pending = Array.from({ length: 4 }, () => rest(shipped.restUrl, '/v1/models/tiny:predict', { body: large }));
    const small = await rest(shipped.restUrl, '/v1/models/tiny:predict', { body: { instances: [[1, 2, 3, 4]] } });
    expect(small.status).toBe(200);
    expect((await rest(shipped.restUrl, '/v1/models/tiny')).status).toBe(200);
    for (const reply of await Promise.all(pending)) expect(reply.status).toBe(200);
  });
});

// TF Serving reads /v1 bodies through rapidjson's UTF-8 input stream, which skips a leading byte
// order mark; Windows PowerShell, for one, writes UTF-8 files with one.
describe('a UTF-8 byte order mark before a /v1 body', () => {
  it.each([
    ['a small body (event loop)', '/v1/models/tiny:predict', '{"instances": [[1, 2, 3, 4]]}'],
    ['a large dense body (JSON thread, fast path)', '/v1/models/tiny:predict', `{"instances": [[1, 2, 3, 4]]}${PADDING}`],
    ['a large body of objects (JSON thread, general path)', '/v1/models/tiny:predict', `{"instances": [{"x": [1, 2, 3, 4]}]}${PADDING}`],
    ['classify', '/v1/models/census:classify', '{"signature_name": "classify", "examples": [{"age": 39.0, "hours": 40.0}]}'],
    ['regress', '/v1/models/census:regress', '{"signature_name": "regress", "examples": [{"age": 39.0, "hours": 40.0}]}'],
  ])('%s: skipped, the same answer as without it on both servers', async (_name, path, body) => {
    for (const server of [shipped, onLoop]) {
      const [marked, plain] = await Promise.all([rest(server.restUrl, path, { body: `\uFEFF${body}` }), rest(server.restUrl, path, { body })]);
      expect(plain.status, plain.text).toBe(200);
      expect(marked.status, marked.text).toBe(200);
      expect(marked.text).toBe(plain.text);
    }
  });

  it('is not skipped on /v2, whose protocol is not TF Serving\'s', async () => {
    const reply = await rest(shipped.restUrl, '/v2/models/tiny/infer', { body: `\uFEFF{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}` });
    expect(reply.status, reply.text).toBe(400);
  });
});

describe('a large body cut off mid-upload (the caller hangs up)', () => {
  /** Sends the head and `sent` bytes of a body that declares `declared`, then closes the connection. */
  const hangUp = (server: ServerProcess, path: string, declared: number, sent: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const socket = connect(Number(new URL(server.restUrl).port), '127.0.0.1', () => {
        socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
        socket.write(`{"instances": [${'1, '.repeat(sent / 3)}`, () => setTimeout(() => socket.destroy(), 50));
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });

  it.each(['/v1/models/tiny:predict', '/v2/models/tiny/infer'])('%s: the server stays up and decodes the next large body', async (path) => {
    for (const server of [shipped, onLoop]) {
      await Promise.all(Array.from({ length: 4 }, () => hangUp(server, path, 3_000_000, 600_000)));
      const next = await rest(server.restUrl, '/v1/models/tiny:predict', { body: JSON.stringify({ instances: rows(4000) }) });
      expect(next.status, next.text.slice(0, 300)).toBe(200);
      expect(server.logs.filter((line) => typeof line.msg === 'string' && line.msg.includes('unexpectedly'))).toEqual([]);
    }
  });
});

describe('Open Inference Protocol (/v2) bodies whose JSON is 64 KiB or more', () => {
  const v2 = (count: number): Record<string, unknown> => ({ id: 'big', inputs: [{ name: 'x', shape: [count, 4], datatype: 'FP32', data: rows(count).flat() }] });

  it.each([
    ['JSON tensors, 4000 rows', 'tiny', v2(4000)],
    ['a named signature (mnist, 40 images)', 'mnist', { parameters: { signature_name: 'predict_images' }, inputs: [{ name: 'images', shape: [40, 28, 28, 1], datatype: 'FP32', data: Array.from({ length: 40 * 784 }, (_, i) => (i % 10) / 10) }] }],
    ['binary outputs asked for', 'tiny', { ...v2(4000), parameters: { binary_data_output: true } }],
    // 12000 and 20000 output elements: their JSON is written in the JSON thread too.
    ['20000 JSON outputs', 'versioned', { inputs: [{ name: 'x', shape: [20_000], datatype: 'FP32', data: Array.from({ length: 20_000 }, (_, i) => i / 8) }] }],
  ])('%s: the same answer as on the event loop', async (_name, model, request) => {
    const [thread, loop] = await both(`/v2/models/${model}/infer`, JSON.stringify(request));
    expect(thread.status, thread.text.slice(0, 300)).toBe(200);
    expect(thread.text).toBe(loop.text);
    expect(thread.headers.get('inference-header-content-length')).toBe(loop.headers.get('inference-header-content-length'));
  });

  it('binary tensors after a large JSON header', async () => {
    const head = Buffer.from(`{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":16}}]}${PADDING}`);
    const body = Buffer.concat([head, Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)]);
    const send = (server: ServerProcess) =>
      fetch(`${server.restUrl}/v2/models/tiny/infer`, { method: 'POST', body, headers: { 'inference-header-content-length': String(head.length) } }).then(async (r) => ({ status: r.status, text: await r.text() }));
    const [thread, loop] = await Promise.all([send(shipped), send(onLoop)]);
    expect(thread.status, thread.text).toBe(200);
    expect(thread.text).toBe(loop.text);
  });

  // The JSON is small (read on the event loop) and the tensor moves to the inference thread with
  // its body; the response's 4200 outputs are written in the JSON thread. Posting it the request
  // along with the outputs failed: 500 "An ArrayBuffer is detached and could not be cloned".
  it('binary input tensors with a response written in the JSON thread', async () => {
    const rows = 1400;
    const head = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [rows, 4], datatype: 'FP32', parameters: { binary_data_size: rows * 16 } }] }));
    const values = Float32Array.from({ length: rows * 4 }, (_, i) => (i % 97) / 7);
    const body = Buffer.concat([head, Buffer.from(values.buffer)]);
    expect(rows * 3).toBeGreaterThanOrEqual(JsonDecodePool.MIN_ENCODE_ELEMENTS);
    const send = (server: ServerProcess) =>
      fetch(`${server.restUrl}/v2/models/tiny/infer`, { method: 'POST', body, headers: { 'inference-header-content-length': String(head.length) } }).then(async (r) => ({ status: r.status, text: await r.text() }));
    for (let i = 0; i < 2; i++) {
      const [thread, loop] = await Promise.all([send(shipped), send(onLoop)]);
      expect(thread.status, thread.text.slice(0, 300)).toBe(200);
      expect(thread.text).toBe(loop.text);
    }
    expect(shipped.logs.filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
  });

  it.each([
    ['malformed JSON', '/v2/models/tiny/infer', `{"inputs": [${PADDING}`, 400],
    ['the wrong datatype', '/v2/models/tiny/infer', `{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}]}${PADDING}`, 400],
    ['an unknown signature', '/v2/models/tiny/infer', `{"parameters": {"signature_name": "nope"}, "inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}${PADDING}`, 404],
    ['an unknown model', '/v2/models/nope/infer', `{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}${PADDING}`, 404],
    ['malformed JSON for an unknown model', '/v2/models/nope/infer', `{"inputs": [${PADDING}`, 400],
    ['a byte order mark before the JSON', '/v2/models/tiny/infer', `\uFEFF{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}${PADDING}`, 400],
  ])('%s: the same error as on the event loop', async (_name, path, body, status) => {
    const [thread, loop] = await both(path, body);
    expect(thread.status, thread.text).toBe(status);
    expect(thread.json).toEqual(loop.json);
  });
});
