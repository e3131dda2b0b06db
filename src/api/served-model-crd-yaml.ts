import { stringify } from 'yaml';
import { servedModelCrd } from './served-model-schema.js';

const HEADER = '# Generated from src/api/served-model-schema.ts by scripts/k8s/gen-crd.ts. Do not edit.\n';

/** The CRD as committed in crds/servedmodel.yaml. */
export function renderServedModelCrdYaml(): string {
  return HEADER + stringify(servedModelCrd(), { lineWidth: 0 });
}
