/**
 * Renders the ServedModel CRD from its schema in src/api into crds/servedmodel.yaml and the
 * chart's identical copy (charts/tensorfleet/crds/servedmodel.yaml).
 * Usage: npx tsx scripts/k8s/gen-crd.ts [--check]   (--check: exit 1 when a file is stale)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderServedModelCrdYaml } from '../../src/api/served-model-crd-yaml.js';

const targets = ['../../crds/servedmodel.yaml', '../../charts/tensorfleet/crds/servedmodel.yaml'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
const rendered = renderServedModelCrdYaml();
if (process.argv.includes('--check')) {
  const stale = targets.filter((target) => readFileSync(target, 'utf8') !== rendered);
  for (const target of stale) console.error(`${target} is stale: run npx tsx scripts/k8s/gen-crd.ts`);
  if (stale.length > 0) process.exit(1);
} else {
  for (const target of targets) {
    writeFileSync(target, rendered);
    console.log(`wrote ${target}`);
  }
}
