/**
 * A live fuzz of what travels beside the request: gRPC metadata and HTTP headers (the A/B key
 * among them: any printable value, empty, very long, repeated, binary headers, many of them)
 * and deadlines, against a server with A/B, canary and shadow routing. Each call must end with a
 * deliberate answer; an answered call's output must come from the version it names; and one
 * key must always get the same variant, whatever else the call carries.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { protoType } from '../../../src/server/servables/tensorflow/proto-root.js';
import { fuzzParameters } from '../../helpers/fuzz.js';
import { FIXTURES_DIR } from '../../helpers/server/fixture-tensors.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

const VERSIONED = join(FIXTURES_DIR, 'models', 'versioned');
const CONFIG = `model_config_list:
  - name: ab
    base_path: ${JSON.stringify(VERSIONED)}
    model_version_policy: {all: {}}
    routing:
      ab_test: {key: {header: x-user-id}, variants: [{version: 1, percent: 30}, {version: 2, percent: 30}, {version: 3, percent: 40}]}
      shadow: {version: 1, percent: 50}
  - name: canary
    base_path: ${JSON.stringify(VERSIONED)}
    model_version_policy: {all: {}}
    version_labels: {stable: 2}
    routing:
      canary: {version: 3, percent: 50}
`;

let server: ServerProcess;
let raw: grpc.Client;

beforeAll(async () => {
  server = await startServer({ config: CONFIG });
  raw = new grpc.Client(server.grpcTarget, grpc.credentials.createInsecure());
});

afterAll(async () => {
  raw?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
const headerValue = fc.oneof(printable, fc.constantFrom('', ' ', 'alice', 'x'.repeat(4000), '__proto__', '0', '-1'));
const key = fc.option(headerValue, { nil: undefined });
const extraHeaders = fc.array(
  fc.tuple(fc.constantFrom('x-user-id', 'x-other', 'x-a', 'user-agent-x', 'x-tensorfleet-model-version', 'x-request-id'), headerValue),
  { maxLength: 6 },
);
const binaryHeaders = fc.array(fc.tuple(fc.constantFrom('trace-bin', 'x-user-id-bin'), fc.uint8Array({ maxLength: 64 })), { maxLength: 2 });

/** y = 0.5x + version: the version whose output came back. */
const computedVersion = (x: number, y: number): number => Math.round(y - 0.5 * x);

describe('routing under odd metadata', () => {
  test('gRPC Predict: deliberate answers, outputs from the version named, one key one variant', async () => {
    const variantOf = new Map<string, number>();
    const answered = { ok: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('ab', 'canary'), key, extraHeaders, binaryHeaders, fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }), async (model, userId, extra, binary, deadlineMs) => {
        const metadata = new grpc.Metadata();
        if (userId !== undefined) metadata.add('x-user-id', userId);
        for (const [name, value] of extra) metadata.add(name, value);
        for (const [name, value] of binary) metadata.add(name, Buffer.from(value));
        const x = 2;
        const outcome = await new Promise<{ error: grpc.ServiceError | null; y?: number; version?: number }>((resolve) => {
          raw.makeUnaryRequest(
            '/tensorflow.serving.PredictionService/Predict',
            (m: Uint8Array) => Buffer.from(m),
            (b: Buffer) => b,
            predictBytes(model, x),
            metadata,
            { deadline: Date.now() + (deadlineMs ?? 30_000) },
            (error, response) => resolve(error ? { error } : { error: null, ...readPredictResponse(response as Buffer) }),
          );
        });
        if (outcome.error) {
          answered.refused++;
          const context = `${model} ${grpc.status[outcome.error.code]} ${outcome.error.details}`;
          expect([grpc.status.DEADLINE_EXCEEDED, grpc.status.INVALID_ARGUMENT, grpc.status.RESOURCE_EXHAUSTED], context).toContain(outcome.error.code);
          if (outcome.error.code !== grpc.status.DEADLINE_EXCEEDED) expect(outcome.error.details.length, context).toBeGreaterThan(0);
          return;
        }
        answered.ok++;
        expect(computedVersion(x, outcome.y!), 'the output comes from the version the response names').toBe(outcome.version);
        // An A/B variant depends on the key alone. (Several x-user-id values reach the server
        // joined by ", ", as HTTP/2 joins repeated fields: checked with one clean value only.)
        const keys = [...(userId === undefined ? [] : [userId]), ...extra.filter(([name]) => name === 'x-user-id').map(([, value]) => value)];
        const single = keys.length === 1 && keys[0] !== '' && keys[0] === keys[0]!.trim() ? keys[0] : undefined;
        if (model === 'ab' && single !== undefined) {
          const seen = variantOf.get(single);
          if (seen !== undefined) expect(outcome.version, `key ${JSON.stringify(single.slice(0, 40))}`).toBe(seen);
          variantOf.set(single, outcome.version!);
        }
      }),
      fuzzParameters(300),
    );
    expect(answered.ok, JSON.stringify(answered)).toBeGreaterThan(0);
    expect(server.logs.filter((line) => (line.level ?? 0) >= 50), 'error log lines').toEqual([]);
  });

  test('REST predict: the same with HTTP headers', async () => {
    const variantOf = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('ab', 'canary'), key, extraHeaders, async (model, userId, extra) => {
        const headers = new Headers({ 'content-type': 'application/json' });
        if (userId !== undefined) headers.append('x-user-id', userId);
        for (const [name, value] of extra) headers.append(name, value);
        const response = await fetch(`${server.restUrl}/v1/models/${model}:predict`, { method: 'POST', headers, body: '{"instances": [2]}' });
        const text = await response.text();
        const context = `${model} ${response.status} ${text.slice(0, 200)}`;
        expect(response.status, context).toBeLessThan(500);
        if (response.status !== 200) {
          expect((JSON.parse(text) as { error?: string }).error, context).toMatch(/\w/);
          return;
        }
        const version = Number(response.headers.get('x-tensorfleet-model-version'));
        expect(computedVersion(2, (JSON.parse(text) as { predictions: number[] }).predictions[0]!), context).toBe(version);
        // Repeated headers reach the server joined by ", " (HTTP's rule), which is then the key.
        const key = headers.get('x-user-id');
        if (model === 'ab' && key !== null && key !== '') {
          const seen = variantOf.get(key);
          if (seen !== undefined) expect(version, `key ${JSON.stringify(key.slice(0, 40))}`).toBe(seen);
          variantOf.set(key, version);
        }
      }),
      fuzzParameters(300),
    );
  });
});

describe('a repeated A/B key', () => {
  // HTTP joins a repeated header's values with ", ", and gRPC metadata travels as HTTP/2 headers:
  // the key is that joined value, the same over both protocols (docs/routing.md).
  test('is read as its values joined by ", ", over gRPC and REST alike', async () => {
    const variants = new Set<number>();
    for (let i = 0; i < 24; i++) {
      const [first, second] = [`user-${i}`, `user-${i * 7 + 3}`];
      const metadata = new grpc.Metadata();
      metadata.add('x-user-id', first);
      metadata.add('x-user-id', second);
      const repeatedOverGrpc = await grpcVersion(metadata);
      const repeatedOverRest = await restVersion([['x-user-id', first], ['x-user-id', second]]);
      const joinedOnce = await restVersion([['x-user-id', `${first}, ${second}`]]);
      expect({ repeatedOverGrpc, repeatedOverRest }, `${first} then ${second}`).toEqual({ repeatedOverGrpc: joinedOnce, repeatedOverRest: joinedOnce });
      variants.add(joinedOnce);
    }
    expect(variants.size, 'the keys reach more than one variant').toBeGreaterThan(1);
  });
});

async function grpcVersion(metadata: grpc.Metadata): Promise<number> {
  const response = await new Promise<Buffer>((resolve, reject) => {
    raw.makeUnaryRequest('/tensorflow.serving.PredictionService/Predict', (m: Uint8Array) => Buffer.from(m), (b: Buffer) => b, predictBytes('ab', 2), metadata, (error, bytes) => (error ? reject(error) : resolve(bytes!)));
  });
  return readPredictResponse(response).version;
}

async function restVersion(headerList: [string, string][]): Promise<number> {
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const [name, value] of headerList) headers.append(name, value);
  const response = await fetch(`${server.restUrl}/v1/models/ab:predict`, { method: 'POST', headers, body: '{"instances": [2]}' });
  expect(response.status, await response.clone().text()).toBe(200);
  return Number(response.headers.get('x-tensorfleet-model-version'));
}

function predictBytes(model: string, x: number): Uint8Array {
  const type = protoType('tensorflow.serving.PredictRequest');
  return type.encode(type.fromObject({ model_spec: { name: model }, inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: 1 }] }, float_val: [x] } } })).finish();
}

function readPredictResponse(bytes: Buffer): { y: number; version: number } {
  const type = protoType('tensorflow.serving.PredictResponse');
  const response = type.toObject(type.decode(bytes), { longs: String }) as { outputs: { y: { float_val: number[] } }; model_spec: { version: { value: string } } };
  return { y: response.outputs.y.float_val[0]!, version: Number(response.model_spec.version.value) };
}
