/**
 * Fuzzes the model config parser (YAML, JSON and TF Serving's text format) with valid configs
 * damaged token by token. A config file is written by hand and re-read while the server runs, so
 * whatever it holds must end as a config or one INVALID_ARGUMENT listing the problems: never
 * another exception, which would take the config poller down.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { parseModelConfig } from '../../../../src/server/config/parse-model-config.js';
import { ServingError } from '../../../../src/shared/errors.js';
import { damagedText, fuzzParameters } from '../../../helpers/fuzz.js';
import { REPO_ROOT } from '../../../helpers/server/build-check.js';

const yamlConfigs = [readFileSync(join(REPO_ROOT, 'test/fixtures/model-config.yaml'), 'utf8'), readFileSync(join(REPO_ROOT, 'examples/demo-models.yaml'), 'utf8')];
const routed = `model_config_list:
  - name: m
    base_path: s3://bucket/models/m
    model_version_policy: {specific: {versions: [1, 2, 3]}}
    version_labels: {stable: 1, canary: 2}
    routing:
      ab_test: {key: {header: x-user-id}, variants: [{version: 1, percent: 50}, {version: 2, percent: 50}]}
      shadow: {version: 3, percent: 20, tolerance: 0.001}
`;
const textFormat = `model_config_list {
  config { name: "a" base_path: "/models/a" model_platform: "tensorflow" model_version_policy { specific { versions: 4 versions: 7 } } version_labels { key: "stable" value: 4 } }
  config: { name: 'b', base_path: '/models/b' model_version_policy: < latest: < num_versions: 2 > > }
}
`;
const valid = [...yamlConfigs, routed, JSON.stringify(parse(routed)), textFormat];

const TOKENS = ['{', '}', '[', ']', '<', '>', ':', ',', ';', '"', "'", '-', '#', '\n', '  ', '\t', '0', '-1', '1e400', 'true', 'null', '~', '&a', '*a', '!!binary', '__proto__', 'constructor', 'name', 'base_path', 'version_labels', 'routing', 'all {}', '\u0000'];

describe('parseModelConfig under damaged files', () => {
  test('gives a config or one INVALID_ARGUMENT, nothing else', () => {
    const outcomes = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(damagedText(fc.constantFrom(...valid), TOKENS), (text) => {
        try {
          const config = parseModelConfig(text);
          outcomes.accepted++;
          for (const model of config.models) expect(model.name.length).toBeGreaterThan(0);
        } catch (error) {
          if (!(error instanceof ServingError)) throw error;
          expect(error.code).toBe('INVALID_ARGUMENT');
          outcomes.refused++;
        }
      }),
      fuzzParameters(2000),
    );
    expect(outcomes.accepted, JSON.stringify(outcomes)).toBeGreaterThan(0);
    expect(outcomes.refused, JSON.stringify(outcomes)).toBeGreaterThan(0);
  });
});
