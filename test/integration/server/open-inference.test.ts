/**
 * The Open Inference Protocol (KServe V2) endpoints of the real server. REST: every predict
 * fixture case against the outputs Python TensorFlow recorded, health, readiness, metadata, and a
 * table of bad requests. gRPC (inference.GRPCInferenceService): typed contents, which Triton's
 * client never sends (test/compat/v2_client_check.py covers raw contents), and its errors.
 */
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { status as grpcStatus } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { eventually } from '../../helpers/k8s/eventually.js';
import { parseExactJson } from '../../helpers/server/fixture-json.js';
import { FIXTURES_DIR, FIXTURE_MODELS, loadExpected, tensorMismatches, type FixtureTensor, type FixtureValue } from '../../helpers/server/fixture-tensors.js';
import { statusOf, tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { rest, scrapeMetric } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

const DATATYPE: Record<string, string> = {
  DT_BOOL: 'BOOL',
  DT_UINT8: 'UINT8',
  DT_INT8: 'INT8',
  DT_INT16: 'INT16',
  DT_INT32: 'INT32',
  DT_INT64: 'INT64',
  DT_HALF: 'FP16',
  DT_FLOAT: 'FP32',
  DT_DOUBLE: 'FP64',
  DT_STRING: 'BYTES',
};

/** A V2 input tensor as JSON text (int64 digits kept); strings go as base64 with content_type. */
function inputJson(name: string, t: FixtureTensor): string {
  const literal = (v: FixtureValue): string =>
    t.dtype === 'DT_STRING' || t.dtype === 'DT_INT64' ? (t.dtype === 'DT_STRING' ? JSON.stringify(v) : String(v)) : JSON.stringify(v);
  const parameters = t.dtype === 'DT_STRING' ? ',"parameters":{"content_type":"base64"}' : '';
  return `{"name":${JSON.stringify(name)},"shape":${JSON.stringify(t.shape)},"datatype":"${DATATYPE[t.dtype]}"${parameters},"data":[${t.values.map(literal).join(',')}]}`;
}

interface V2Output {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
  parameters?: { content_type?: string };
}

/** A V2 output as a fixture tensor: strings compared as base64, int64 as digit strings. */
function outputTensor(output: V2Output, dtype: string): FixtureTensor {
  const values = output.data.map((v): FixtureValue => {
    if (dtype === 'DT_STRING') return output.parameters?.content_type === 'base64' ? String(v) : Buffer.from(String(v), 'utf8').toString('base64');
    if (dtype === 'DT_INT64') return String(v);
    return v as FixtureValue;
  });
  return { dtype, shape: output.shape, values };
}

const PREDICT_CASES = FIXTURE_MODELS.flatMap((model) => {
  const expected = loadExpected(model);
  const versions = [[expected.version, expected.signatures] as const, ...Object.entries(expected.other_versions ?? {}).map(([v, o]) => [Number(v), o.signatures] as const)];
  return versions.flatMap(([version, signatures]) =>
    Object.entries(signatures)
      .filter(([, sig]) => sig.method_name === 'tensorflow/serving/predict')
      .flatMap(([signature, sig]) => sig.cases.map((testCase, i) => ({ name: `${model} v${version} ${signature} #${i}`, model, version, signature, testCase }))),
  );
});

let server: ServerProcess;
let clients: TfsClients;

beforeAll(async () => {
  server = await startServer({ configFile: join(FIXTURES_DIR, 'model-config.yaml') });
  clients = tfsClients(server.grpcTarget);
  await eventually(async () => expect((await rest(server.restUrl, '/v2/health/ready')).status).toBe(200));
});

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

describe('V2 infer matches Python TensorFlow', () => {
  test.each(PREDICT_CASES)('$name', async ({ model, version, signature, testCase }) => {
    const inputs = Object.entries(testCase.inputs).map(([name, t]) => inputJson(name, t));
    const body = `{"id":"case-1","parameters":{"signature_name":${JSON.stringify(signature)}},"inputs":[${inputs.join(',')}]}`;
    const reply = await rest(server.restUrl, `/v2/models/${model}/versions/${version}/infer`, { body });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.headers.get('x-tensorfleet-model-version')).toBe(String(version));
    const response = parseExactJson(reply.text) as { model_name: string; model_version: string; id: string; outputs: V2Output[] };
    expect(response).toMatchObject({ model_name: model, model_version: String(version), id: 'case-1' });
    expect(response.outputs.map((o) => o.name).sort()).toEqual(Object.keys(testCase.outputs).sort());
    for (const output of response.outputs) {
      const want = testCase.outputs[output.name]!;
      expect(output.datatype).toBe(DATATYPE[want.dtype]);
      expect(tensorMismatches(output.name, outputTensor(output, want.dtype), want)).toEqual([]);
    }
  });

  test('a model with one signature that is not serving_default needs no signature_name', async () => {
    const testCase = loadExpected('adder').signatures.add!.cases[0]!;
    const inputs = Object.entries(testCase.inputs).map(([name, t]) => inputJson(name, t));
    const reply = await rest(server.restUrl, '/v2/models/adder/infer', { body: `{"inputs":[${inputs.join(',')}]}` });
    expect(reply.status, reply.text).toBe(200);
  });

  test('int64 beyond 2^53 keeps every digit, and nested data is flattened', async () => {
    const body = '{"inputs":[{"name":"a","shape":[],"datatype":"INT64","data":[[9223372036854775800]]},{"name":"b","shape":[],"datatype":"INT64","data":7}]}';
    const reply = await rest(server.restUrl, '/v2/models/adder/infer', { body });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.text).toMatch(/"datatype":"INT64","shape":\[\],"data":\[9223372036854775807\]/);
  });

  test('a request naming no version is served by the newest; outputs can be picked by name', async () => {
    const body = { inputs: [{ name: 'x', shape: [2], datatype: 'FP32', data: [1, 2] }], outputs: [{ name: 'y' }] };
    const reply = await rest(server.restUrl, '/v2/models/versioned/infer', { body });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json).toEqual({ model_name: 'versioned', model_version: '3', outputs: [{ name: 'y', datatype: 'FP32', shape: [2], data: [3.5, 4] }] });
  });

  test('binary tensors after the JSON both ways, in a gzip-compressed body (Triton clients send these)', async () => {
    const head = Buffer.from('{"inputs":[{"name":"x","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}}],"outputs":[{"name":"y","parameters":{"binary_data":true}}]}');
    const body = gzipSync(Buffer.concat([head, Buffer.from(new Float32Array([1, 2]).buffer)]));
    const response = await fetch(`${server.restUrl}/v2/models/versioned/versions/1/infer`, {
      method: 'POST',
      body,
      headers: { 'content-encoding': 'gzip', 'inference-header-content-length': String(head.length) },
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(response.status, bytes.toString()).toBe(200);
    const jsonLength = Number(response.headers.get('inference-header-content-length'));
    expect(JSON.parse(bytes.subarray(0, jsonLength).toString())).toEqual({
      model_name: 'versioned',
      model_version: '1',
      outputs: [{ name: 'y', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } }],
    });
    const y = bytes.subarray(jsonLength);
    expect([y.readFloatLE(0), y.readFloatLE(4)]).toEqual([1.5, 2]);
  });

  test('calls are counted as REST predict calls of the model', async () => {
    const before = await scrapeMetric(server.restUrl, ':tensorflow:serving:request_count', { model_name: 'tiny', status: 'OK' });
    const body = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }] };
    expect((await rest(server.restUrl, '/v2/models/tiny/infer', { body })).status).toBe(200);
    expect(await scrapeMetric(server.restUrl, ':tensorflow:serving:request_count', { model_name: 'tiny', status: 'OK' })).toBe(before + 1);
  });
});

describe('V2 health, readiness and metadata', () => {
  test('server metadata, liveness and readiness', async () => {
    const meta = await rest(server.restUrl, '/v2');
    expect(meta.status).toBe(200);
    expect(meta.json).toMatchObject({ name: 'tensorfleet', extensions: ['binary_tensor_data', 'model_configuration', 'statistics'] });
    expect((meta.json as { version: string }).version).toMatch(/^\d+\.\d+\.\d+/);
    expect(await rest(server.restUrl, '/v2/health/live')).toMatchObject({ status: 200, json: { live: true } });
    expect(await rest(server.restUrl, '/v2/health/ready')).toMatchObject({ status: 200, json: { ready: true } });
  });

  test.each([
    ['/v2/models/versioned/ready', 200, { name: 'versioned', ready: true }],
    ['/v2/models/versioned/versions/2/ready', 200, { name: 'versioned', version: '2', ready: true }],
    ['/v2/models/versioned/versions/9/ready', 404, { error: 'Could not find version 9 of model versioned' }],
    ['/v2/models/nope/ready', 404, { error: expect.stringMatching(/Could not find any versions of model nope/) as unknown }],
  ])('GET %s answers %i', async (path, status, body) => {
    const reply = await rest(server.restUrl, path);
    expect(reply.status, reply.text).toBe(status);
    expect(reply.json).toEqual(body);
  });

  test('model metadata lists the available versions and the signature tensors', async () => {
    expect((await rest(server.restUrl, '/v2/models/mnist')).json).toEqual({
      name: 'mnist',
      versions: ['1'],
      platform: 'tensorflow_savedmodel',
      inputs: [{ name: 'images', datatype: 'FP32', shape: [-1, 28, 28, 1] }],
      outputs: [{ name: 'scores', datatype: 'FP32', shape: [-1, 10] }],
    });
    expect((await rest(server.restUrl, '/v2/models/versioned')).json).toMatchObject({ versions: ['3', '2', '1'] });
    expect((await rest(server.restUrl, '/v2/models/versioned/versions/1')).json).toMatchObject({ versions: ['1'] });
  });

  test("statistics (Triton's): per version, counted by the server as calls come", async () => {
    interface Stats {
      model_stats: {
        name: string;
        version: string;
        last_inference: number;
        inference_count: number;
        execution_count: number;
        inference_stats: Record<string, { count: number; ns: number }>;
        batch_stats: { batch_size: number; compute_infer: { count: number; ns: number } }[];
      }[];
    }
    const statsOf = async (): Promise<Stats['model_stats'][number]> => {
      const reply = await rest(server.restUrl, '/v2/models/tiny/versions/1/stats');
      expect(reply.status, reply.text).toBe(200);
      return (reply.json as Stats).model_stats[0]!;
    };
    const before = await statsOf();
    const body = { inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8] }] };
    for (let i = 0; i < 3; i++) expect((await rest(server.restUrl, '/v2/models/tiny/infer', { body })).status).toBe(200);
    expect((await rest(server.restUrl, '/v2/models/tiny/infer', { body: { inputs: [{ ...body.inputs[0], datatype: 'FP64' }] } })).status).toBe(400);
    const after = await statsOf();
    const grew = (field: string): { count: number; ns: number } => ({
      count: after.inference_stats[field]!.count - before.inference_stats[field]!.count,
      ns: after.inference_stats[field]!.ns - before.inference_stats[field]!.ns,
    });
    expect({ name: after.name, version: after.version, rows: after.inference_count - before.inference_count, runs: after.execution_count - before.execution_count }).toEqual({
      name: 'tiny',
      version: '1',
      rows: 6,
      runs: 3,
    });
    expect(grew('success').count).toBe(3);
    expect(grew('fail').count).toBe(1);
    for (const field of ['compute_input', 'compute_infer', 'compute_output']) expect(grew(field), field).toMatchObject({ count: 3, ns: expect.any(Number) as unknown });
    expect(grew('compute_infer').ns).toBeGreaterThan(0);
    // The server's time covers the model's: success time is at least input + infer + output.
    expect(grew('success').ns).toBeGreaterThanOrEqual(grew('compute_input').ns + grew('compute_infer').ns + grew('compute_output').ns);
    expect(grew('queue')).toEqual({ count: 3, ns: 0 });
    expect(after.last_inference).toBeGreaterThanOrEqual(Date.now() - 60_000);
    // Per batch size: the three 2-row executions.
    const twoRows = (s: Stats['model_stats'][number]): number => s.batch_stats.find((b) => b.batch_size === 2)?.compute_infer.count ?? 0;
    expect(twoRows(after) - twoRows(before)).toBe(3);

    // Classify counts too, its examples as rows.
    const census = async (): Promise<Stats['model_stats'][number]> => ((await rest(server.restUrl, '/v2/models/census/stats')).json as Stats).model_stats[0]!;
    const censusBefore = await census();
    const classify = await rest(server.restUrl, '/v1/models/census:classify', {
      body: '{"signature_name":"classify","examples":[{"age":39.0,"hours":40.0},{"age":50.0,"hours":13.0}]}',
    });
    expect(classify.status, classify.text).toBe(200);
    const censusAfter = await census();
    expect(censusAfter.inference_stats.success!.count - censusBefore.inference_stats.success!.count).toBe(1);
    expect(censusAfter.inference_count - censusBefore.inference_count).toBe(2);

    const all = (await rest(server.restUrl, '/v2/models/stats')).json as Stats;
    expect(all.model_stats.filter((m) => m.name === 'versioned').map((m) => m.version).sort()).toEqual(['1', '2', '3']);
    expect(await rest(server.restUrl, '/v2/models/nope/stats')).toMatchObject({ status: 404 });
  });

  test("repository index (Triton's): every configured model's versions and states; load and unload refused", async () => {
    const index = await rest(server.restUrl, '/v2/repository/index', { body: {} });
    expect(index.status, index.text).toBe(200);
    const entries = index.json as { name: string; version: string; state: string; reason: string }[];
    expect(entries.filter((e) => e.name === 'versioned')).toEqual(['3', '2', '1'].map((version) => ({ name: 'versioned', version, state: 'READY', reason: '' })));
    expect(new Set(entries.map((e) => e.name))).toEqual(new Set(['adder', 'mnist', 'image_flag', 'jpeg_labeler', 'census', 'census_tf2', 'versioned', 'dtypes', 'tiny']));
    expect((await rest(server.restUrl, '/v2/repository/index', { body: { ready: true } })).json).toEqual(entries.filter((e) => e.state === 'READY'));
    expect(await rest(server.restUrl, '/v2/repository/index', { body: { ready: 'yes' } })).toMatchObject({ status: 400, json: { error: "'ready' must be true or false" } });
    const load = await rest(server.restUrl, '/v2/repository/models/tiny/load', { body: {} });
    expect(load.status, load.text).toBe(400);
    expect((load.json as { error: string }).error).toMatch(/not loaded or unloaded through the API/);
  });

  test('model config (Triton extension): unbatched, so max_batch_size 0 and full shapes', async () => {
    expect((await rest(server.restUrl, '/v2/models/mnist/config')).json).toEqual({
      name: 'mnist',
      platform: 'tensorflow_savedmodel',
      backend: 'tensorflow',
      max_batch_size: 0,
      input: [{ name: 'images', data_type: 'TYPE_FP32', dims: [-1, 28, 28, 1] }],
      output: [{ name: 'scores', data_type: 'TYPE_FP32', dims: [-1, 10] }],
    });
    expect((await rest(server.restUrl, '/v2/models/jpeg_labeler/versions/1/config')).json).toMatchObject({
      input: [{ name: 'image_bytes', data_type: 'TYPE_STRING', dims: [-1] }],
      output: [
        { name: 'label', data_type: 'TYPE_STRING', dims: [-1] },
        { name: 'scores', data_type: 'TYPE_FP32', dims: [-1, 3] },
      ],
    });
    expect(await rest(server.restUrl, '/v2/models/nope/config')).toMatchObject({ status: 404, json: { error: expect.stringMatching(/nope/) as unknown } });
    expect(await rest(server.restUrl, '/v2/models/versioned/versions/9/config')).toMatchObject({ status: 404 });
    expect(await rest(server.restUrl, '/v2/models/mnist/config', { body: {} })).toMatchObject({ status: 400, json: { error: expect.stringMatching(/takes GET, not POST/) as unknown } });
  });
});

describe('V2 bad requests get a clear error and the server stays up', () => {
  const tiny = (input: Record<string, unknown>): unknown => ({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4], ...input }] });
  test.each([
    ['not JSON', '/v2/models/tiny/infer', '{', 400, /JSON/],
    ['no inputs', '/v2/models/tiny/infer', {}, 400, /'inputs' must be a non-empty list/],
    ['an unknown datatype', '/v2/models/tiny/infer', tiny({ datatype: 'FLOAT' }), 400, /'datatype' must be one of BOOL/],
    ['the wrong datatype', '/v2/models/tiny/infer', tiny({ datatype: 'FP64' }), 400, /input x must be FP32, but the request has FP64/],
    ['data that does not fill the shape', '/v2/models/tiny/infer', tiny({ data: [1, 2, 3] }), 400, /shape \[1,4\] has 4 elements, but the request gives 3/],
    ['a negative dimension', '/v2/models/tiny/infer', tiny({ shape: [-1, 4] }), 400, /'shape' must be a list of non-negative integers/],
    ['a string where a number belongs', '/v2/models/tiny/infer', tiny({ data: [1, 2, 3, 'four'] }), 400, /input x: JSON value "four" is not a number/],
    ['an input the signature lacks', '/v2/models/tiny/infer', { inputs: [{ name: 'z', shape: [1], datatype: 'FP32', data: [1] }] }, 400, /not in the signature: z/],
    ['an input given twice', '/v2/models/tiny/infer', { inputs: [(tiny({}) as { inputs: unknown[] }).inputs[0], (tiny({}) as { inputs: unknown[] }).inputs[0]] }, 400, /given more than once/],
    ['an unknown output', '/v2/models/tiny/infer', { ...(tiny({}) as object), outputs: [{ name: 'nope' }] }, 400, /output_filter names nope/],
    ['an unknown model', '/v2/models/nope/infer', tiny({}), 404, /Servable not found for request: Latest\(nope\)/],
    ['an unknown signature', '/v2/models/tiny/infer', { ...(tiny({}) as object), parameters: { signature_name: 'other' } }, 404, /other/],
    ['base64 for a number', '/v2/models/tiny/infer', tiny({ parameters: { content_type: 'base64' } }), 400, /content_type base64 is for BYTES/],
    ['GET on infer', '/v2/models/tiny/infer', undefined, 400, /takes POST, not GET/],
    ['an unknown path', '/v2/nothing', undefined, 404, /no such endpoint: GET \/v2\/nothing/],
    ['GET on the repository index', '/v2/repository/index', undefined, 400, /takes POST, not GET/],
    ['a repository index body that is not JSON', '/v2/repository/index', '{', 400, /JSON/],
    ['a repository index body that is not an object', '/v2/repository/index', '[1]', 400, /must be an object/],
    ['stats of a version that is not a number', '/v2/models/tiny/versions/abc/stats', undefined, 400, /must be a non-negative integer, got "abc"/],
    ['stats of an unknown version', '/v2/models/tiny/versions/9/stats', undefined, 404, /Could not find version 9 of model tiny/],
    ['the config of a negative version', '/v2/models/tiny/versions/-1/config', undefined, 400, /must be a non-negative integer, got "-1"/],
  ])('%s', async (_case, path, body, status, message) => {
    const reply = await rest(server.restUrl, path, body === undefined ? {} : { body });
    expect(reply.status, reply.text).toBe(status);
    expect((reply.json as { error: string }).error).toMatch(message);
  });

  test.each([
    ['a JSON length past the body', { 'inference-header-content-length': '999' }, '{}', 400, /must be a byte count within the 2-byte body/],
    ['an unsupported Content-Encoding', { 'content-encoding': 'br' }, '{}', 415, /Content-Encoding "br" is not supported \(gzip and deflate are\)/],
    ['a gzip body that is not gzip', { 'content-encoding': 'gzip' }, '{}', 400, /the gzip body does not decompress/],
  ])('refuses %s', async (_case, headers, body, status, message) => {
    const reply = await rest(server.restUrl, '/v2/models/tiny/infer', { body, headers });
    expect(reply.status, reply.text).toBe(status);
    expect((reply.json as { error: string }).error).toMatch(message);
  });

  test('more elements than --max_tensor_elements allows are refused', async () => {
    const reply = await rest(server.restUrl, '/v2/models/tiny/infer', { body: { inputs: [{ name: 'x', shape: [1e9, 4], datatype: 'FP32', data: [] }] } });
    expect(reply.status, reply.text).toBe(400);
    expect((reply.json as { error: string }).error).toMatch(/has more than \d+ elements \(the limit\)/);
    expect((await rest(server.restUrl, '/v2/health/live')).status).toBe(200);
  });
});

interface GrpcInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

describe('V2 over gRPC', () => {
  test('typed contents in, raw contents out, with exact int64 and the served version', async () => {
    const { response, headers } = await clients.inference.call<GrpcInferResponse>('ModelInfer', {
      model_name: 'adder',
      id: 'g1',
      inputs: [
        { name: 'a', datatype: 'INT64', shape: [], contents: { int64_contents: ['9223372036854775800'] } },
        { name: 'b', datatype: 'INT64', shape: [], contents: { int64_contents: ['7'] } },
      ],
    });
    expect(response).toMatchObject({ model_name: 'adder', model_version: '1', id: 'g1', outputs: [{ name: 'sum', datatype: 'INT64', shape: [] }] });
    expect(response.raw_output_contents[0]!.readBigInt64LE()).toBe(2n ** 63n - 1n);
    expect(headers.get('x-tensorfleet-model-version')).toEqual(['1']);
  });

  test('BYTES from bytes_contents, and output names picked', async () => {
    const testCase = loadExpected('jpeg_labeler').signatures.serving_default!.cases[0]!;
    const image = testCase.inputs.image_bytes!;
    const { response } = await clients.inference.call<GrpcInferResponse>('ModelInfer', {
      model_name: 'jpeg_labeler',
      model_version: '1',
      inputs: [{ name: 'image_bytes', datatype: 'BYTES', shape: image.shape, contents: { bytes_contents: image.values.map((v) => Buffer.from(String(v), 'base64')) } }],
      outputs: [{ name: 'label' }],
    });
    expect(response.outputs.map((o) => o.name)).toEqual(['label']);
    const raw = response.raw_output_contents[0]!;
    const labels: string[] = [];
    for (let at = 0; at < raw.length; at += 4 + raw.readUInt32LE(at)) labels.push(raw.subarray(at + 4, at + 4 + raw.readUInt32LE(at)).toString('base64'));
    expect(labels).toEqual(testCase.outputs.label!.values);
  });

  test('health, readiness and metadata', async () => {
    expect((await clients.inference.call('ServerLive', {})).response).toEqual({ live: true });
    expect((await clients.inference.call('ServerReady', {})).response).toEqual({ ready: true });
    expect((await clients.inference.call('ModelReady', { name: 'versioned', version: '2' })).response).toEqual({ ready: true });
    expect((await clients.inference.call('ModelReady', { name: 'nope' })).response).toEqual({ ready: false });
    expect((await clients.inference.call('ModelReady', { name: 'versioned', version: '9' })).response).toEqual({ ready: false });
    expect((await clients.inference.call('ServerMetadata', {})).response).toMatchObject({ name: 'tensorfleet', extensions: ['binary_tensor_data', 'model_configuration', 'statistics'] });
    expect((await clients.inference.call('ModelMetadata', { name: 'tiny' })).response).toMatchObject({
      name: 'tiny',
      versions: ['1'],
      platform: 'tensorflow_savedmodel',
      inputs: [{ name: 'x', datatype: 'FP32', shape: ['-1', '4'] }],
    });
  });

  test('statistics, as the REST form gives them', async () => {
    const { response } = await clients.inference.call<{ model_stats: { name: string; version: string; inference_stats: { success: { count: string } } }[] }>('ModelStatistics', { name: 'versioned' });
    expect(response.model_stats.map((m) => [m.name, m.version])).toEqual([
      ['versioned', '3'],
      ['versioned', '2'],
      ['versioned', '1'],
    ]);
    expect(response.model_stats[0]!.inference_stats.success.count).toMatch(/^\d+$/);
    const status = await statusOf(clients.inference.call('ModelStatistics', { name: 'nope' }));
    expect(status.code, status.details).toBe(grpcStatus.NOT_FOUND);
  });

  test('repository index, as the REST form gives it', async () => {
    const { response } = await clients.inference.call<{ models: { name: string; version: string; state: string }[] }>('RepositoryIndex', { ready: true });
    expect(response.models.filter((m) => m.name === 'versioned').map((m) => [m.version, m.state])).toEqual([
      ['3', 'READY'],
      ['2', 'READY'],
      ['1', 'READY'],
    ]);
  });

  test('model config, as the REST form gives it', async () => {
    expect((await clients.inference.call('ModelConfig', { name: 'tiny', version: '1' })).response).toMatchObject({
      config: {
        name: 'tiny',
        platform: 'tensorflow_savedmodel',
        backend: 'tensorflow',
        max_batch_size: 0,
        input: [{ name: 'x', data_type: 'TYPE_FP32', dims: ['-1', '4'] }],
        output: [{ name: 'y', data_type: 'TYPE_FP32', dims: ['-1', '3'] }],
      },
    });
    const status = await statusOf(clients.inference.call('ModelConfig', { name: 'nope' }));
    expect(status.code, status.details).toBe(grpcStatus.NOT_FOUND);
  });

  const x = (extra: Record<string, unknown>): unknown => ({ name: 'x', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] }, ...extra });
  test.each([
    ['no model name', { inputs: [x({})] }, grpcStatus.INVALID_ARGUMENT, /model_name is required/],
    ['an unknown model', { model_name: 'nope', inputs: [x({})] }, grpcStatus.NOT_FOUND, /Servable not found for request: Latest\(nope\)/],
    ['a version that is not a number', { model_name: 'tiny', model_version: 'v1', inputs: [x({})] }, grpcStatus.INVALID_ARGUMENT, /model version/],
    ['elements in the wrong contents field', { model_name: 'tiny', inputs: [x({ contents: { fp64_contents: [1, 2, 3, 4] } })] }, grpcStatus.INVALID_ARGUMENT, /input x is FP32: its elements go in fp32_contents, not fp64_contents/],
    ['FP16 as typed contents', { model_name: 'tiny', inputs: [x({ datatype: 'FP16', contents: { fp32_contents: [1, 2, 3, 4] } })] }, grpcStatus.INVALID_ARGUMENT, /FP16 elements travel only as raw_input_contents/],
    ['raw contents for some inputs only', { model_name: 'adder', inputs: [{ name: 'a', datatype: 'INT64', shape: [] }, { name: 'b', datatype: 'INT64', shape: [] }], raw_input_contents: [Buffer.alloc(8)] }, grpcStatus.INVALID_ARGUMENT, /raw_input_contents has 1 entries for 2 inputs/],
    ['raw contents of the wrong size', { model_name: 'tiny', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4] }], raw_input_contents: [Buffer.alloc(12)] }, grpcStatus.INVALID_ARGUMENT, /takes 16 bytes, but binary_data_size is 12/],
    ['too few elements', { model_name: 'tiny', inputs: [x({ contents: { fp32_contents: [1, 2, 3] } })] }, grpcStatus.INVALID_ARGUMENT, /has 4 elements, but the request gives 3/],
  ])('refuses %s with a clear status', async (_case, request, code, message) => {
    const status = await statusOf(clients.inference.call('ModelInfer', request));
    expect(status.code, status.details).toBe(code);
    expect(status.details).toMatch(message);
  });
});
