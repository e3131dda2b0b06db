import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderServedModelCrdYaml } from '../../../src/api/served-model-crd-yaml.js';
import { servedModelOpenApiSchema, servedModelCrd } from '../../../src/api/served-model-schema.js';
import { parseDurationMicros } from '../../../src/operator/specs/duration.js';
import { defaultBatchingParameters } from '../../../src/server/batching/batching-parameters.js';

describe('crds/servedmodel.yaml', () => {
  it('is exactly what scripts/k8s/gen-crd.ts renders from src/api (rerun it after a schema change)', () => {
    const committed = readFileSync(fileURLToPath(new URL('../../../crds/servedmodel.yaml', import.meta.url)), 'utf8');
    expect(committed).toBe(renderServedModelCrdYaml());
  });

  it('has the status and scale subresources and the short name sm', () => {
    const crd = servedModelCrd() as { spec: { names: { shortNames: string[] }; versions: { subresources: unknown }[] } };
    expect(crd.spec.names.shortNames).toEqual(['sm']);
    expect(crd.spec.versions[0]?.subresources).toEqual({
      status: {},
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
    });
  });

  it('gives every CEL rule a message', () => {
    const rules: { rule: string; message?: string }[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'x-kubernetes-validations') rules.push(...(v as { rule: string; message?: string }[]));
          else walk(v);
        }
      }
    };
    walk(servedModelCrd());
    expect(rules.length).toBeGreaterThan(10);
    for (const r of rules) expect(r.message, r.rule).toMatch(/\S{3,}/);
  });

  it("fills in spec.batching defaults that are the model server's own", () => {
    const batching = (servedModelOpenApiSchema as { properties: { spec: { properties: { batching: { properties: Record<string, { default?: unknown }> } } } } })
      .properties.spec.properties.batching.properties;
    const server = defaultBatchingParameters(1);
    expect(batching.maxBatchSize?.default).toBe(server.maxBatchSize);
    expect(parseDurationMicros(String(batching.batchTimeout?.default))).toBe(server.batchTimeoutMicros);
    expect(batching.maxEnqueuedBatches?.default).toBe(server.maxEnqueuedBatches);
    // The server's default follows --inference_threads; a CRD default would pin it.
    expect(batching.numBatchThreads?.default).toBeUndefined();
    expect(batching.allowedBatchSizes?.default).toBeUndefined();
  });
});
