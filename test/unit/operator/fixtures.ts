import type { ServedModel, ServedModelSpec } from '../../../src/api/served-model-types.js';

export function servedModel(spec: Partial<ServedModelSpec> = {}, meta: Partial<ServedModel['metadata']> = {}): ServedModel {
  return {
    apiVersion: 'tensorfleet.dev/v1alpha1',
    kind: 'ServedModel',
    metadata: { name: 'mnist', namespace: 'ml', uid: 'uid-1', generation: 1, ...meta },
    spec: { source: { uri: 's3://models/mnist' }, ...spec },
  };
}
