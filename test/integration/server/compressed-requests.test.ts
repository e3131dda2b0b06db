/**
 * Compressed REST request bodies, as TF Serving's HTTP server takes them (it inflates gzip bodies
 * by default) and Triton's clients send them (gzip or deflate): /v1 predict (small bodies, and
 * large ones that go to the JSON thread), classify, and /v2 infer answer as for the plain body.
 * An encoding the server does not know is 415, a body that does not inflate 400, and one that
 * inflates past --max_request_bytes 413; the connection serves on after each.
 */
import { gzipSync, deflateSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

const MAX_BYTES = 1 << 20;
let server: ServerProcess;

beforeAll(async () => {
  const models = ['versioned', 'census', 'tiny'];
  server = await startServer({
    config: `model_config_list:\n${models.map((m) => `  - {name: ${m}, base_path: ${JSON.stringify(join(FIXTURES_DIR, 'models', m))}}`).join('\n')}\n`,
    args: [`--max_request_bytes=${MAX_BYTES}`],
  });
});

afterAll(async () => {
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

async function post(path: string, body: Buffer | string, encoding?: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${server.restUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(encoding !== undefined ? { 'content-encoding': encoding } : {}) },
    body,
  });
  return { status: response.status, json: await response.json() };
}

const compressors: Record<string, (text: string) => Buffer> = {
  gzip: (text) => gzipSync(text),
  'x-gzip': (text) => gzipSync(text),
  deflate: (text) => deflateSync(text),
  identity: (text) => Buffer.from(text),
};

// Rows of tiny's [4] inputs: about 300 KB of JSON, past the 64 KiB from which bodies go to the JSON thread.
const manyRows = JSON.stringify({ instances: Array.from({ length: 4000 }, (_, i) => [i / 7, -i / 3, 0.5, i % 11]) });

describe.each(Object.keys(compressors))('Content-Encoding: %s', (encoding) => {
  const compress = compressors[encoding]!;

  test.each([
    ['/v1 predict', '/v1/models/versioned:predict', '{"instances":[1.5, -2.0]}'],
    ['/v1 predict, a body for the JSON thread', '/v1/models/tiny:predict', manyRows],
    ['/v1 classify', '/v1/models/census:classify', '{"examples":[{"age":39.5,"hours":40.5}]}'],
    ['/v2 infer', '/v2/models/versioned/infer', '{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1.5,-2.0]}]}'],
  ])('%s answers as for the plain body', async (_, path, text) => {
    const plain = await post(path, text);
    expect(plain.status).toBe(200);
    expect(await post(path, compress(text), encoding)).toEqual(plain);
  });
});

test('the body for the JSON thread is the one compressed (its answer has every row)', async () => {
  const reply = await post('/v1/models/tiny:predict', gzipSync(manyRows), 'gzip');
  expect((reply.json as { predictions: unknown[] }).predictions).toHaveLength(4000);
});

test.each([
  ['an encoding the server does not know', 'br', Buffer.from('{"instances":[1]}'), 415, 'Content-Encoding "br" is not supported (gzip and deflate are)'],
  ['two encodings', 'gzip, deflate', gzipSync('{"instances":[1]}'), 415, 'Content-Encoding "gzip, deflate" is not supported (gzip and deflate are)'],
  ['a gzip body that is not gzip', 'gzip', Buffer.from('{"instances":[1]}'), 400, 'the gzip body does not decompress: incorrect header check'],
  ['a body that inflates past --max_request_bytes', 'gzip', gzipSync(Buffer.alloc(MAX_BYTES + 1, 0x20)), 413, `the gzip body decompresses to more than --max_request_bytes=${MAX_BYTES}`],
])('%s is refused, and the server serves on', async (_, encoding, body, status, error) => {
  for (const path of ['/v1/models/versioned:predict', '/v1/models/census:classify', '/v2/models/versioned/infer']) {
    expect(await post(path, body, encoding)).toEqual({ status, json: { error } });
  }
  expect((await post('/v1/models/versioned:predict', '{"instances":[1.5]}')).status).toBe(200);
});
