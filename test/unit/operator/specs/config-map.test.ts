import { parseModelConfig } from '../../../../src/server/config/parse-model-config.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildConfigMap, renderModelConfig } from '../../../../src/operator/specs/config-map.js';
import { servedModel } from '../fixtures.js';

describe('renderModelConfig', () => {
  it.each([
    [{}, { latest: { num_versions: 1 } }, undefined, undefined],
    [{ versionPolicy: { latest: { count: 3 } } }, { latest: { num_versions: 3 } }, undefined, undefined],
    [{ versionPolicy: { all: {} } }, { all: {} }, undefined, undefined],
    [
      { versionPolicy: { specific: { versions: [3, 5] } }, versionLabels: { stable: 3, canary: 5 }, routing: { canary: { version: 5, percent: 10 } } },
      { specific: { versions: [3, 5] } },
      { canary: 5, stable: 3 },
      { canary: { version: 5, percent: 10 } },
    ],
    [
      {
        versionPolicy: { all: {} },
        routing: { abTest: { key: { header: 'x-user-id' }, variants: [{ version: 1, percent: 30 }, { version: 2, percent: 70 }] }, shadow: { version: 3, percent: 5 } },
      },
      { all: {} },
      undefined,
      { ab_test: { key: { header: 'x-user-id' }, variants: [{ version: 1, percent: 30 }, { version: 2, percent: 70 }] }, shadow: { version: 3, percent: 5 } },
    ],
    [
      { versionPolicy: { all: {} }, routing: { shadow: { version: 2, percent: 50, tolerance: 0.001 } } },
      { all: {} },
      undefined,
      { shadow: { version: 2, percent: 50, tolerance: 0.001 } },
    ],
  ] as const)('renders %j in the server format', (spec, policy, labels, routing) => {
    const entry = (parse(renderModelConfig(servedModel(spec))) as { model_config_list: Record<string, unknown>[] }).model_config_list[0];
    expect(entry).toEqual({
      name: 'mnist',
      base_path: 's3://models/mnist',
      model_platform: 'tensorflow',
      model_version_policy: policy,
      ...(labels ? { version_labels: labels } : {}),
      ...(routing ? { routing } : {}),
    });
  });

  it.each([
    ['pvc://models', '/var/lib/tensorfleet/source'],
    ['pvc://models/', '/var/lib/tensorfleet/source'],
    ['pvc://models/team/mnist/', '/var/lib/tensorfleet/source/team/mnist'],
  ])('points the server at the mounted claim for %s', (uri, basePath) => {
    const text = renderModelConfig(servedModel({ source: { uri } }));
    expect(parseModelConfig(text).models[0]?.basePath).toBe(basePath);
  });

  it('renders the same text whatever the label order', () => {
    expect(renderModelConfig(servedModel({ versionLabels: { a: 1, b: 2 } }))).toBe(renderModelConfig(servedModel({ versionLabels: { b: 2, a: 1 } })));
  });

  it.each([
    ['without batching', {}, ['models.yaml']],
    ['with batching: {}', { batching: {} }, ['batching_parameters.txt', 'models.yaml']],
    ['with batching parameters', { batching: { maxBatchSize: 8, batchTimeout: '1ms' } }, ['batching_parameters.txt', 'models.yaml']],
  ] as const)('holds the model config, and the batching parameters only when spec.batching is set (%s)', (_name, spec, keys) => {
    const data = buildConfigMap(servedModel(spec)).data ?? {};
    expect(Object.keys(data).sort()).toEqual(keys);
    if (keys.length > 1) expect(data['batching_parameters.txt']).toContain('max_batch_size { value:');
  });

  it("renders requestLogging as TF Serving's logging_config, which the server reads", () => {
    const text = renderModelConfig(servedModel({ requestLogging: { uri: 's3://logs/requests/mnist', samplingRate: 0.05 } }));
    expect(parseModelConfig(text).models[0]?.logging).toEqual({ filenamePrefix: 's3://logs/requests/mnist', samplingRate: 0.05 });
    expect(parseModelConfig(renderModelConfig(servedModel())).models[0]?.logging).toBeUndefined();
  });

  it('renders batching only into its own key: the polled model config stays the same', () => {
    expect(renderModelConfig(servedModel({ batching: { maxBatchSize: 8 } }))).toBe(renderModelConfig(servedModel()));
  });

  it('names the ConfigMap <name>-models and makes the ServedModel its controller', () => {
    const cm = buildConfigMap(servedModel());
    expect(cm.metadata?.name).toBe('mnist-models');
    expect(cm.metadata?.ownerReferences).toEqual([
      { apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', name: 'mnist', uid: 'uid-1', controller: true, blockOwnerDeletion: true },
    ]);
  });
});
