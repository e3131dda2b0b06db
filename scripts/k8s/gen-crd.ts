/**
 * Renders the ServedModel CRD from its schema in src/api into crds/servedmodel.yaml.
 * Usage: npx tsx scripts/k8s/gen-crd.ts [--check]   (--check: exit 1 when the file is stale)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderServedModelCrdYaml } from '../../src/api/served-model-crd-yaml.js';

const target = fileURLToPath(new URL('../../crds/servedmodel.yaml', import.meta.url));
const rendered = renderServedModelCrdYaml();
if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8');
  if (current !== rendered) {
    console.error(`${target} is stale: run npx tsx scripts/k8s/gen-crd.ts`);
    process.exit(1);
  }
} else {
  writeFileSync(target, rendered);
  console.log(`wrote ${target}`);
}
