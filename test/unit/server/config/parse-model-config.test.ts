import { describe, expect, it } from 'vitest';
import { ServingError } from '../../../../src/shared/errors.js';
import { parseModelConfig, singleModelConfig } from '../../../../src/server/config/parse-model-config.js';

function problemsOf(text: string): string {
  try {
    parseModelConfig(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ServingError);
    expect((error as ServingError).code).toBe('INVALID_ARGUMENT');
    return (error as ServingError).message;
  }
  throw new Error('expected the config to be rejected');
}

describe('parseModelConfig (YAML/JSON)', () => {
  it('reads a full YAML config with defaults filled in', () => {
    const config = parseModelConfig(`
model_config_list:
  - name: mnist
    base_path: s3://models/mnist
    model_platform: tensorflow
    model_version_policy: {latest: {num_versions: 2}}
    version_labels: {stable: 2, canary: 3}
    routing:
      canary: {version: 3, percent: 10}
      shadow: {version: 3, percent: 100}
  - name: other
    base_path: /models/other
    routing:
      ab_test: {key: {header: X-User-Id}, variants: [{version: 2, percent: 33.3}, {version: 3, percent: 66.7}]}
`);
    expect(config).toEqual({
      models: [
        {
          name: 'mnist',
          basePath: 's3://models/mnist',
          versionPolicy: { kind: 'latest', numVersions: 2 },
          versionLabels: { stable: 2, canary: 3 },
          routing: { canary: { version: 3, percent: 10 }, shadow: { version: 3, percent: 100, tolerance: 1e-5 } },
        },
        {
          name: 'other',
          basePath: '/models/other',
          versionPolicy: { kind: 'latest', numVersions: 1 },
          versionLabels: {},
          routing: {
            abTest: {
              keyHeader: 'x-user-id',
              variants: [
                { version: 2, percent: 33.3 },
                { version: 3, percent: 66.7 },
              ],
            },
          },
        },
      ],
    });
    expect(Object.isFrozen(config.models[0]!.versionLabels)).toBe(true);
  });

  it.each([
    ['{latest: {}}', { kind: 'latest', numVersions: 1 }],
    ['{latest: }', { kind: 'latest', numVersions: 1 }],
    ['{latest: {num_versions: 3}}', { kind: 'latest', numVersions: 3 }],
    ['{all: {}}', { kind: 'all' }],
    ['{specific: {versions: [5, 0, 3, 5]}}', { kind: 'specific', versions: [0, 3, 5] }],
    ["{specific: {versions: ['7']}}", { kind: 'specific', versions: [7] }],
  ])('reads policy %s', (policy, expected) => {
    const config = parseModelConfig(`model_config_list: [{name: m, base_path: /m, model_version_policy: ${policy}}]`);
    expect(config.models[0]!.versionPolicy).toEqual(expected);
  });

  it('reads JSON, including protobuf JSON shape with config and string int64 versions', () => {
    const config = parseModelConfig(
      JSON.stringify({
        model_config_list: {
          config: [{ name: 'a', base_path: '/a', model_version_policy: { specific: { versions: ['1', '2'] } }, version_labels: { stable: '1' } }],
        },
      }),
    );
    expect(config.models[0]!.versionPolicy).toEqual({ kind: 'specific', versions: [1, 2] });
    expect(config.models[0]!.versionLabels).toEqual({ stable: 1 });
  });

  it('accepts an empty model list', () => {
    expect(parseModelConfig('model_config_list: []')).toEqual({ models: [] });
  });

  it('lists every problem with its path in one error', () => {
    const message = problemsOf(`
model_config_list:
  - name: a
    base_pth: /typo
  - name: a
    base_path: /a
    model_platform: pytorch
    model_version_policy: {latest: {num_versions: 0}}
  - name: ""
    base_path: /b
    model_version_policy: {specific: {versions: []}}
    version_labels: {"bad-label": 1, ok: -1}
  - name: c
    base_path: /c
    model_version_policy: {latest: {}, all: {}}
    routing:
      canary: {version: 1, percent: 101}
      ab_test: {key: {header: x-user}, variants: [{version: 1, percent: 50}, {version: 2, percent: 40}]}
      shadow: {version: 1.5, percent: 10, tolerance: -1}
      mirror: {}
`);
    for (const expected of [
      'model_config_list[0].base_pth: unknown field',
      'model_config_list[0].base_path: is required',
      'model_config_list[1].name: duplicate model name "a" (also model_config_list[0])',
      'model_config_list[1].model_platform: only "tensorflow" is supported',
      'model_config_list[1].model_version_policy.latest.num_versions: must be an integer >= 1',
      'model_config_list[2].name: must be a non-empty string',
      'model_config_list[2].model_version_policy.specific.versions: must be a non-empty list',
      'model_config_list[2].version_labels.bad-label: label must match [a-zA-Z0-9_]+',
      'model_config_list[2].version_labels.ok: must be a non-negative integer version, got number -1',
      'model_config_list[3].model_version_policy: must set exactly one of latest, all, specific; got latest, all',
      'model_config_list[3].routing.mirror: unknown field',
      'model_config_list[3].routing: canary and ab_test are mutually exclusive',
      'model_config_list[3].routing.canary.percent: must be a number from 0 to 100, got number 101',
      'model_config_list[3].routing.ab_test.variants: percents must sum to 100, got 90',
      'model_config_list[3].routing.shadow.version: must be a non-negative integer version, got number 1.5',
      'model_config_list[3].routing.shadow.tolerance: must be a non-negative number',
    ]) {
      expect(message).toContain(expected);
    }
    expect(message).toMatch(/^invalid model config \(16 problems\)/);
  });

  it.each([
    ['', '(root): must be a mapping with model_config_list, got nothing'],
    ['models: []', 'models: unknown field'],
    ['model_config_list: {a: 1}', 'model_config_list: must be a list of models, got a mapping'],
    ['model_config_list: [{name: m, base_path: /m, model_version_policy: {newest: {}}}]', 'model_version_policy.newest: unknown policy'],
    ['model_config_list: [{name: m, base_path: /m, model_version_policy: {all: {x: 1}}}]', 'model_version_policy.all.x: unknown field'],
    ['model_config_list: [{name: "a/b", base_path: /m}]', "name: must not contain '/'"],
    ['model_config_list: [{name: m, base_path: /m, routing: {ab_test: {key: {header: "bad header"}, variants: [{version: 1, percent: 100}]}}}]', 'ab_test.key.header: must be a header name'],
    ['model_config_list: [{name: m, base_path: /m, routing: {ab_test: {key: {header: h}, variants: [{version: 1, percent: 50}, {version: 1, percent: 50}]}}}]', 'variants[1].version: version 1 appears in more than one variant'],
    ['model_config_list: [{name: m, base_path: /m, version_labels: {a: 1, a: 2}}]', 'Map keys must be unique'],
    ['model_config_list: [{name: m\n  base_path', 'neither valid YAML/JSON nor protobuf text format'],
    // Where the YAML went wrong, by line and column (it said "line 0" before).
    ['model_config_list:\n  - {name: m, base_path: /m}\n  - [{name: n\n', 'line 4, column 1: Flow sequence in block collection must be sufficiently indented'],
  ])('rejects %j', (text, expected) => {
    expect(problemsOf(text)).toContain(expected);
  });

  it('accepts percents that sum to 100 within floating point error', () => {
    const config = parseModelConfig(
      'model_config_list: [{name: m, base_path: /m, routing: {ab_test: {key: {header: k}, variants: [{version: 1, percent: 33.3333333333}, {version: 2, percent: 33.3333333333}, {version: 3, percent: 33.3333333334}]}}}]',
    );
    expect(config.models[0]!.routing.abTest?.variants).toHaveLength(3);
  });

  // Found by parse-model-config.fuzz.test.ts: these threw yaml's ReferenceError, not a config error.
  it.each([
    ['an alias to no anchor', 'model_config_list: [{name: m, base_path: *nowhere}]', 'model config: Unresolved alias'],
    ['too many aliases', `a: &a [x]\nb: &b [${'*a,'.repeat(20)}*a]\nc: [${'*b,'.repeat(20)}*b]\nmodel_config_list: []`, 'model config: Excessive alias count'],
  ])('refuses YAML that parses but does not resolve: %s', (_case, text, expected) => {
    expect(problemsOf(text)).toContain(expected);
  });

  it.each([
    ['YAML', 'model_config_list: [{name: m, base_path: /m, model_version_policy: {all: {}}, version_labels: {__proto__: 1, stable: 2}}]'],
    ['text format', 'model_config_list { config { name: "m" base_path: "/m" model_version_policy { all {} } version_labels { key: "__proto__" value: 1 } version_labels { key: "stable" value: 2 } } }'],
  ])('keeps a label named "__proto__" like any other (%s)', (_format, text) => {
    expect(Object.entries(parseModelConfig(text).models[0]!.versionLabels)).toEqual([['__proto__', 1], ['stable', 2]]);
  });

  it('names a text-format field called "__proto__" as unknown, not as repeated', () => {
    expect(problemsOf('model_config_list { config { name: "m" base_path: "/m" __proto__ { x: 1 } } }')).toContain('model_config_list[0].__proto__: unknown field');
  });
});

describe('parseModelConfig (TensorFlow Serving text format)', () => {
  it('reads a TF Serving model config file', () => {
    const config = parseModelConfig(`
# written for tensorflow_model_server
model_config_list {
  config {
    name: "half_plus_two"
    base_path: "/models/half_plus_two"
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 1 versions: 2 } }
    version_labels { key: "stable" value: 1 }
    version_labels { key: "canary" value: 2 }
  }
  config: {
    name: 'other',
    base_path: '/models/other'
    model_version_policy: < latest: < num_versions: 3 > >
  }
  config { name: "all" base_path: "/models/all" model_version_policy { all {} } }
}
`);
    expect(config.models).toEqual([
      {
        name: 'half_plus_two',
        basePath: '/models/half_plus_two',
        versionPolicy: { kind: 'specific', versions: [1, 2] },
        versionLabels: { stable: 1, canary: 2 },
        routing: {},
      },
      { name: 'other', basePath: '/models/other', versionPolicy: { kind: 'latest', numVersions: 3 }, versionLabels: {}, routing: {} },
      { name: 'all', basePath: '/models/all', versionPolicy: { kind: 'all' }, versionLabels: {}, routing: {} },
    ]);
  });

  it('reads the short repeated form and separators', () => {
    const config = parseModelConfig('model_config_list { config { name: "x"; base_path: "/m", model_version_policy { specific { versions: [3, 1] } } } }');
    expect(config.models[0]!.versionPolicy).toEqual({ kind: 'specific', versions: [1, 3] });
  });

  it('reads the colon form and a single config', () => {
    const config = parseModelConfig('model_config_list: { config: { name: "x" base_path: "/m" } }');
    expect(config.models.map((m) => m.name)).toEqual(['x']);
  });

  it('reports schema problems with the same paths as YAML', () => {
    const message = problemsOf('model_config_list { config { name: "x" base_path: "/m" model_platform: "onnx" versoin_labels { key: "a" value: 1 } } }');
    expect(message).toContain('model_config_list[0].model_platform: only "tensorflow" is supported');
    expect(message).toContain('model_config_list[0].versoin_labels: unknown field');
  });

  it.each([
    ['model_config_list { config { name: "x" ', "end of input: missing '}'"],
    ['model_config_list { config { name: "x } }', 'line 1: unterminated string'],
    ['model_config_list { config { name "x" } }', "line 1: expected ':' or '{' after 'name'"],
    ['model_config_list { config { name: "x" base_path: "/m" name: "y" } }', 'model_config_list[0].name (repeated): unknown field'],
  ])('rejects %j', (text, expected) => {
    expect(problemsOf(text)).toContain(expected);
  });
});

describe('singleModelConfig', () => {
  it('builds one model with the default policy', () => {
    expect(singleModelConfig('mnist', '/models/mnist')).toEqual({
      models: [{ name: 'mnist', basePath: '/models/mnist', versionPolicy: { kind: 'latest', numVersions: 1 }, versionLabels: {}, routing: {} }],
    });
  });

  it('rejects an empty name or path', () => {
    expect(() => singleModelConfig('', '')).toThrow(/name: must be a non-empty string.*base_path: is required/);
  });
});

describe('logging_config (request logging)', () => {
  const withLogging = (logging: string): string => `model_config_list:\n  - name: m\n    base_path: /m\n    logging_config: ${logging}\n`;

  it('reads TF Serving\'s logging_config with the tfrecord collector, in YAML and in text format', () => {
    const yaml = parseModelConfig(withLogging('{log_collector_config: {type: tfrecord, filename_prefix: /logs/m}, sampling_config: {sampling_rate: 0.25}}'));
    expect(yaml.models[0]!.logging).toEqual({ filenamePrefix: '/logs/m', samplingRate: 0.25 });
    const text = parseModelConfig(`model_config_list { config { name: "m" base_path: "/m"
      logging_config { log_collector_config { type: "tfrecord" filename_prefix: "/logs/m" } sampling_config { sampling_rate: 1.0 } } } }`);
    expect(text.models[0]!.logging).toEqual({ filenamePrefix: '/logs/m', samplingRate: 1 });
    expect(parseModelConfig(withLogging('{log_collector_config: {type: tfrecord, filename_prefix: /logs/m}}')).models[0]!.logging?.samplingRate).toBe(0);
    expect(parseModelConfig('model_config_list: [{name: m, base_path: /m}]').models[0]!.logging).toBeUndefined();
  });

  it('takes an s3:// prefix, as TF Serving does with its S3 file system', () => {
    expect(parseModelConfig(withLogging('{log_collector_config: {type: tfrecord, filename_prefix: "s3://logs/requests/m"}}')).models[0]!.logging).toEqual({
      filenamePrefix: 's3://logs/requests/m',
      samplingRate: 0,
    });
  });

  it.each([
    ['another collector type', '{log_collector_config: {type: bigquery, filename_prefix: /l}}', 'log_collector_config.type: must be "tfrecord"'],
    ['no prefix', '{log_collector_config: {type: tfrecord}}', 'filename_prefix: must be a non-empty path prefix'],
    ['no collector', '{sampling_config: {sampling_rate: 1}}', 'log_collector_config: is required'],
    ['a rate above 1', '{log_collector_config: {type: tfrecord, filename_prefix: /l}, sampling_config: {sampling_rate: 2}}', 'sampling_rate: must be a number from 0 to 1'],
    ['an unknown field', '{log_collector_config: {type: tfrecord, filename_prefix: /l, path: /x}}', 'log_collector_config.path: unknown field'],
    ['an S3 prefix without a key', '{log_collector_config: {type: tfrecord, filename_prefix: "s3://logs"}}', 'an s3:// filename_prefix must name a bucket and a key prefix'],
    ['an S3 prefix with ".."', '{log_collector_config: {type: tfrecord, filename_prefix: "s3://logs/a/../b"}}', 'has an empty, "." or ".." path segment'],
    ['an invalid bucket', '{log_collector_config: {type: tfrecord, filename_prefix: "s3://l/m"}}', '"l" is not a valid bucket name'],
  ])('refuses %s', (_what, logging, message) => {
    expect(() => parseModelConfig(withLogging(logging))).toThrowError(message);
  });
});
