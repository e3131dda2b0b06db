/**
 * Every fixture case through the real server over gRPC (typed fields and tensor_content) and REST
 * (row and columnar), against the outputs Python TensorFlow recorded; plus Classify/Regress,
 * GetModelMetadata, GetModelStatus and the served-version header.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeMessage } from '../../../src/server/transports/grpc/proto-loader.js';
import { eventually } from '../../helpers/k8s/eventually.js';
import { columnarBody, expectedRestString, parseExactJson, restValues, rowBody } from '../../helpers/server/fixture-json.js';
import {
  FIXTURES_DIR,
  FIXTURE_MODELS,
  fromTensorProto,
  loadExpected,
  tensorMismatches,
  toTensorProto,
  type FixtureCase,
  type FixtureTensor,
} from '../../helpers/server/fixture-tensors.js';
import { examplesJson, examplesOf } from '../../helpers/server/fixture-examples.js';
import { tfsClients, type TfsClients } from '../../helpers/server/grpc-client.js';
import { rest } from '../../helpers/server/rest-client.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

interface NamedCase {
  readonly title: string;
  readonly model: string;
  readonly version: number;
  readonly signature: string;
  readonly method: string;
  readonly testCase: FixtureCase;
}

function allCases(): NamedCase[] {
  const cases: NamedCase[] = [];
  for (const model of FIXTURE_MODELS) {
    const expected = loadExpected(model);
    const versions = [[expected.version, expected.signatures] as const, ...Object.entries(expected.other_versions ?? {}).map(([v, o]) => [Number(v), o.signatures] as const)];
    for (const [version, signatures] of versions) {
      for (const [signature, sig] of Object.entries(signatures)) {
        sig.cases.forEach((testCase, i) =>
          cases.push({ title: `${model} v${version} ${signature} #${i}`, model, version, signature, method: sig.method_name, testCase }),
        );
      }
    }
  }
  return cases;
}

const CASES = allCases();
const PREDICT_CASES = CASES.filter((c) => c.method === 'tensorflow/serving/predict');

let server: ServerProcess;
let clients: TfsClients;

beforeAll(async () => {
  server = await startServer({ configFile: join(FIXTURES_DIR, 'model-config.yaml') });
  clients = tfsClients(server.grpcTarget);
  // "all models available" needs one version per model; versioned serves all three.
  await eventually(async () => {
    const { response } = await clients.model.call<{ model_version_status: { state: string }[] }>('GetModelStatus', { model_spec: { name: 'versioned' } });
    expect(response.model_version_status.map((s) => s.state)).toEqual(['AVAILABLE', 'AVAILABLE', 'AVAILABLE']);
  });
});

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

function mismatches(actual: Record<string, FixtureTensor>, expected: Record<string, FixtureTensor>): string[] {
  const problems = Object.entries(expected).flatMap(([name, want]) => tensorMismatches(name, actual[name], want));
  const extra = Object.keys(actual).filter((name) => !(name in expected));
  return extra.length > 0 ? [...problems, `unexpected outputs ${extra.join(', ')}`] : problems;
}

interface PredictResponse {
  outputs: Record<string, Parameters<typeof fromTensorProto>[0]>;
  model_spec: { name: string; version: { value: string } | null; signature_name: string };
}

describe('gRPC Predict matches Python TensorFlow', () => {
  test.each(PREDICT_CASES.flatMap((c) => [{ ...c, content: false }, { ...c, content: true }]).map((c) => ({ ...c, name: `${c.title} ${c.content ? 'tensor_content' : 'typed fields'}` })))(
    '$name',
    async ({ model, version, signature, testCase, content }) => {
      const inputs = Object.fromEntries(Object.entries(testCase.inputs).map(([name, t]) => [name, toTensorProto(t, content)]));
      const { response, headers } = await clients.prediction.call<PredictResponse>('Predict', {
        model_spec: { name: model, version: { value: String(version) }, signature_name: signature },
        inputs,
      });
      const outputs = Object.fromEntries(Object.entries(response.outputs).map(([name, t]) => [name, fromTensorProto(t)]));
      expect(mismatches(outputs, testCase.outputs)).toEqual([]);
      expect(response.model_spec).toMatchObject({ name: model, version: { value: String(version) }, signature_name: signature });
      expect(headers.get('x-tensorfleet-model-version')).toEqual([String(version)]);
    },
  );

  test('a request naming no version is served by the newest and says so', async () => {
    const testCase = loadExpected('versioned').signatures.serving_default!.cases[0]!;
    const { response, headers } = await clients.prediction.call<PredictResponse>('Predict', {
      model_spec: { name: 'versioned' },
      inputs: { x: toTensorProto(testCase.inputs.x!) },
    });
    expect(response.model_spec.version?.value).toBe('3');
    expect(response.model_spec.signature_name).toBe('serving_default');
    expect(headers.get('x-tensorfleet-model-version')).toEqual(['3']);
    expect(mismatches({ y: fromTensorProto(response.outputs.y!) }, testCase.outputs)).toEqual([]);
  });

  test('version labels select their versions', async () => {
    const x = toTensorProto({ dtype: 'DT_FLOAT', shape: [1], values: [2] });
    for (const [label, version] of [['stable', 2], ['canary', 3]] as const) {
      const { response } = await clients.prediction.call<PredictResponse>('Predict', { model_spec: { name: 'versioned', version_label: label }, inputs: { x } });
      expect(response.model_spec.version?.value).toBe(String(version));
      expect(fromTensorProto(response.outputs.y!).values).toEqual([1 + version]);
    }
  });

  test('output_filter returns only the named outputs', async () => {
    const testCase = loadExpected('jpeg_labeler').signatures.serving_default!.cases[0]!;
    const { response } = await clients.prediction.call<PredictResponse>('Predict', {
      model_spec: { name: 'jpeg_labeler' },
      inputs: { image_bytes: toTensorProto(testCase.inputs.image_bytes!) },
      output_filter: ['label'],
    });
    expect(Object.keys(response.outputs)).toEqual(['label']);
    expect(tensorMismatches('label', fromTensorProto(response.outputs.label!), testCase.outputs.label!)).toEqual([]);
  });
});

/** REST outputs (either form) as fixture tensors, shapes taken from the expected ones. */
function restOutputs(body: Record<string, unknown>, expected: Record<string, FixtureTensor>, form: 'row' | 'columnar'): Record<string, FixtureTensor> {
  const names = Object.keys(expected);
  const single = names.length === 1;
  const raw: Record<string, unknown[]> = Object.fromEntries(names.map((n) => [n, []]));
  if (form === 'columnar') {
    const outputs = body.outputs;
    for (const n of names) raw[n]!.push(single ? outputs : (outputs as Record<string, unknown>)[n]);
  } else {
    for (const row of body.predictions as unknown[]) for (const n of names) raw[n]!.push(single ? row : (row as Record<string, unknown>)[n]);
  }
  return Object.fromEntries(names.map((n) => [n, { dtype: expected[n]!.dtype, shape: expected[n]!.shape, values: restValues(expected[n]!.dtype, raw[n]) }]));
}

/** Strings come back as text over REST: the expected bytes as UTF-8 decoding shows them. */
function restExpected(expected: Record<string, FixtureTensor>): Record<string, FixtureTensor> {
  return Object.fromEntries(
    Object.entries(expected).map(([n, t]) => [n, t.dtype === 'DT_STRING' && !n.endsWith('_bytes') ? { ...t, values: t.values.map((v) => expectedRestString(String(v))) } : t]),
  );
}

describe('REST predict matches Python TensorFlow', () => {
  const rowable = (c: NamedCase): boolean => {
    const batches = Object.values(c.testCase.inputs).map((t) => t.shape[0]);
    return batches.every((b) => b !== undefined && b === batches[0]);
  };
  const restCases = PREDICT_CASES.flatMap((c) => [
    { ...c, form: 'columnar' as const },
    ...(rowable(c) ? [{ ...c, form: 'row' as const }] : []),
  ]).map((c) => ({ ...c, name: `${c.title} ${c.form}` }));

  test.each(restCases)('$name', async ({ model, version, signature, testCase, form }) => {
    const body = form === 'row' ? rowBody(testCase.inputs, signature) : columnarBody(testCase.inputs, signature);
    const reply = await rest(server.restUrl, `/v1/models/${model}/versions/${version}:predict`, { body });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.headers.get('x-tensorfleet-model-version')).toBe(String(version));
    const outputs = restOutputs(parseExactJson(reply.text) as Record<string, unknown>, testCase.outputs, form);
    expect(mismatches(outputs, restExpected(testCase.outputs))).toEqual([]);
  });

  test('int64 beyond 2^53 keeps every digit over REST', async () => {
    const reply = await rest(server.restUrl, '/v1/models/adder:predict', {
      body: '{"signature_name":"add","inputs":{"a":9223372036854775800,"b":7}}',
    });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.text.replace(/\s/g, '')).toBe('{"outputs":9223372036854775807}');
  });

  test('label paths and the served-version header', async () => {
    const reply = await rest(server.restUrl, '/v1/models/versioned/labels/stable:predict', { body: { instances: [1, 2] } });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json).toEqual({ predictions: [2.5, 3] });
    expect(reply.headers.get('x-tensorfleet-model-version')).toBe('2');
  });
});

// census: a TF1 SavedModel with the classify/regress method names; census_tf2: the same kind of
// signatures from tf.saved_model.save, which records them as predict (accepted, as TF Serving does).
describe.each(['census', 'census_tf2'])('Classify and Regress (%s)', (model) => {
  const census = loadExpected(model);
  const classifyCases = census.signatures.classify!.cases.map((c, i) => ({ name: `classify #${i}`, c }));
  const regressCases = census.signatures.regress!.cases.map((c, i) => ({ name: `regress #${i}`, c }));

  /** Expected [label, score] rows of a classify case. */
  function expectedClasses(c: FixtureCase): { label: string; score: number }[][] {
    const classes = c.outputs.classes!;
    const scores = c.outputs.scores!;
    const perExample = classes.shape[1]!;
    return Array.from({ length: classes.shape[0]! }, (_, i) =>
      Array.from({ length: perExample }, (_, j) => ({
        label: Buffer.from(String(classes.values[i * perExample + j]), 'base64').toString('utf8'),
        score: Number(scores.values[i * perExample + j]),
      })),
    );
  }

  test.each(classifyCases)('gRPC $name', async ({ c }) => {
    const { response, headers } = await clients.prediction.call<{ result: { classifications: { classes: { label: string; score: number }[] }[] }; model_spec: { version: { value: string } } }>(
      'Classify',
      { model_spec: { name: model, signature_name: 'classify' }, input: { example_list: { examples: examplesOf(c) } } },
    );
    const want = expectedClasses(c);
    const got = response.result.classifications.map((r) => r.classes);
    expect(got.map((row) => row.map((x) => x.label))).toEqual(want.map((row) => row.map((x) => x.label)));
    got.forEach((row, i) => row.forEach((x, j) => expect(x.score).toBeCloseTo(want[i]![j]!.score, 5)));
    expect(response.model_spec.version.value).toBe('1');
    expect(headers.get('x-tensorfleet-model-version')).toEqual(['1']);
  });

  test.each(classifyCases)('REST $name', async ({ c }) => {
    const reply = await rest(server.restUrl, `/v1/models/${model}:classify`, {
      body: examplesJson('classify', c),
    });
    expect(reply.status, reply.text).toBe(200);
    const results = (reply.json as { results: [string, number][][] }).results;
    const want = expectedClasses(c);
    expect(results.map((row) => row.map(([label]) => label))).toEqual(want.map((row) => row.map((x) => x.label)));
    results.forEach((row, i) => row.forEach(([, score], j) => expect(score).toBeCloseTo(want[i]![j]!.score, 5)));
    expect(reply.headers.get('x-tensorfleet-model-version')).toBe('1');
  });

  test.each(classifyCases.map(({ c }, i) => ({ name: `#${i}`, classify: c, regress: census.signatures.regress!.cases[i]! })))(
    'gRPC MultiInference $name: classify and regress in one call',
    async ({ classify, regress }) => {
      const { response, headers } = await clients.prediction.call<{
        results: { model_spec: { signature_name: string; version: { value: string } }; classification_result?: { classifications: { classes: { label: string; score: number }[] }[] }; regression_result?: { regressions: { value: number }[] } }[];
      }>('MultiInference', {
        tasks: [
          { model_spec: { name: model, signature_name: 'classify' }, method_name: 'tensorflow/serving/classify' },
          { model_spec: { name: model, signature_name: 'regress' }, method_name: 'tensorflow/serving/regress' },
        ],
        input: { example_list: { examples: examplesOf(classify) } },
      });
      expect(response.results.map((r) => [r.model_spec.signature_name, r.model_spec.version.value])).toEqual([['classify', '1'], ['regress', '1']]);
      const want = expectedClasses(classify);
      const got = response.results[0]!.classification_result!.classifications.map((r) => r.classes);
      expect(got.map((row) => row.map((x) => x.label))).toEqual(want.map((row) => row.map((x) => x.label)));
      got.forEach((row, i) => row.forEach((x, j) => expect(x.score).toBeCloseTo(want[i]![j]!.score, 5)));
      const values = regress.outputs.outputs!.values.map(Number);
      expect(response.results[1]!.regression_result!.regressions.map((r) => r.value)).toHaveLength(values.length);
      response.results[1]!.regression_result!.regressions.forEach((r, i) => expect(r.value).toBeCloseTo(values[i]!, 5));
      expect(headers.get('x-tensorfleet-model-version')).toEqual(['1']);
    },
  );

  test.each(regressCases)('gRPC $name', async ({ c }) => {
    const { response } = await clients.prediction.call<{ result: { regressions: { value: number }[] } }>('Regress', {
      model_spec: { name: model, signature_name: 'regress' },
      input: { example_list: { examples: examplesOf(c) } },
    });
    const want = c.outputs.outputs!.values.map(Number);
    expect(response.result.regressions).toHaveLength(want.length);
    response.result.regressions.forEach((r, i) => expect(r.value).toBeCloseTo(want[i]!, 5));
  });

  test.each(regressCases)('REST $name', async ({ c }) => {
    const reply = await rest(server.restUrl, `/v1/models/${model}:regress`, {
      body: examplesJson('regress', c),
    });
    expect(reply.status, reply.text).toBe(200);
    const results = (reply.json as { results: number[] }).results;
    const want = c.outputs.outputs!.values.map(Number);
    expect(results).toHaveLength(want.length);
    results.forEach((r, i) => expect(r).toBeCloseTo(want[i]!, 5));
  });
});

interface SignatureDefMessage {
  method_name: string;
  inputs: Record<string, { dtype: string; tensor_shape: { dim: { size: string }[]; unknown_rank: boolean } }>;
  outputs: Record<string, { dtype: string; tensor_shape: { dim: { size: string }[]; unknown_rank: boolean } }>;
}

describe('metadata and status', () => {
  const specsOf = (io: SignatureDefMessage['inputs']): Record<string, { dtype: string; shape: number[] }> =>
    Object.fromEntries(Object.entries(io).map(([n, t]) => [n, { dtype: t.dtype, shape: t.tensor_shape.dim.map((d) => Number(d.size)) }]));

  test('GetModelMetadata takes signature_def named more than once, as TF Serving does', async () => {
    const { response } = await clients.prediction.call<{ metadata: Record<string, unknown> }>('GetModelMetadata', { model_spec: { name: 'adder' }, metadata_field: ['signature_def', 'signature_def'] });
    expect(Object.keys(response.metadata)).toEqual(['signature_def']);
  });

  test.each(FIXTURE_MODELS.map((model) => ({ model })))('GetModelMetadata $model reports the SavedModel signatures', async ({ model }) => {
    const expected = loadExpected(model);
    const { response } = await clients.prediction.call<{ model_spec: { name: string; version: { value: string } }; metadata: { signature_def: { type_url: string; value: Buffer } } }>(
      'GetModelMetadata',
      { model_spec: { name: model, version: { value: String(expected.version) } }, metadata_field: ['signature_def'] },
    );
    expect(response.model_spec).toMatchObject({ name: model, version: { value: String(expected.version) } });
    expect(response.metadata.signature_def.type_url).toBe('type.googleapis.com/tensorflow.serving.SignatureDefMap');
    const map = decodeMessage('tensorflow.serving.SignatureDefMap', response.metadata.signature_def.value) as { signature_def: Record<string, SignatureDefMessage> };
    for (const [name, sig] of Object.entries(expected.signatures)) {
      const got = map.signature_def[name];
      expect(got, name).toBeDefined();
      expect(got!.method_name).toBe(sig.method_name);
      expect(specsOf(got!.inputs)).toEqual(sig.input_specs);
      expect(specsOf(got!.outputs)).toEqual(sig.output_specs);
    }
  });

  test('REST metadata names the version and the signatures', async () => {
    const reply = await rest(server.restUrl, '/v1/models/mnist/metadata');
    expect(reply.status, reply.text).toBe(200);
    const body = reply.json as { model_spec: { name: string; version: string }; metadata: { signature_def: { signature_def: Record<string, { method_name: string }> } } };
    expect(body.model_spec).toMatchObject({ name: 'mnist', version: '1' });
    expect(body.metadata.signature_def.signature_def.predict_images?.method_name).toBe('tensorflow/serving/predict');
  });

  test('GetModelStatus and REST status list every version as AVAILABLE', async () => {
    const { response } = await clients.model.call<{ model_version_status: { version: string; state: string; status: { error_code: string; error_message: string } }[] }>(
      'GetModelStatus',
      { model_spec: { name: 'versioned' } },
    );
    const states = response.model_version_status.map((s) => [s.version, s.state, s.status.error_code]).sort();
    expect(states).toEqual([['1', 'AVAILABLE', 'OK'], ['2', 'AVAILABLE', 'OK'], ['3', 'AVAILABLE', 'OK']]);
    const one = await clients.model.call<{ model_version_status: { version: string }[] }>('GetModelStatus', { model_spec: { name: 'versioned', version: { value: '2' } } });
    expect(one.response.model_version_status.map((s) => s.version)).toEqual(['2']);
    const reply = await rest(server.restUrl, '/v1/models/versioned/versions/1');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
    const byLabel = await rest(server.restUrl, '/v1/models/versioned/labels/canary');
    expect(byLabel.json).toEqual({ model_version_status: [{ version: '3', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
    const labelMetadata = await rest(server.restUrl, '/v1/models/versioned/labels/stable/metadata');
    expect((labelMetadata.json as { model_spec: { version: string } }).model_spec.version).toBe('2');
  });
});
