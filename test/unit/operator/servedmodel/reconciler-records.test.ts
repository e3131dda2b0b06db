/**
 * The reconciler remembers what it last wrote per object, so that an informer cache that has not
 * caught up with its own write is not taken for drift (and written again). Forgetting a deleted
 * ServedModel must drop its own records only: `a`'s, not those of `a-b` next to it.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import type { ServedModel } from '../../../../src/api/served-model-types.js';
import { ServedModelReconciler } from '../../../../src/operator/servedmodel/reconciler.js';
import { servedModel } from '../fixtures.js';
import { MemoryCluster } from '../memory-cluster.js';

it("forgetting a deleted ServedModel keeps the write records of one whose name starts with its name", async () => {
  const ab = servedModel({}, { name: 'a-b', resourceVersion: '1' });
  const cluster = new MemoryCluster(ab);
  const reconciler = new ServedModelReconciler({ cluster, config: { image: 'tensorfleet/tensorfleet:test' }, now: () => new Date('2030-01-01T00:00:00Z'), logger: pino({ level: 'silent' }) });
  await reconciler.reconcile('ml', 'a-b');

  // The cache still shows the Deployment as it was before our write: older, and different.
  const key = 'Deployment/ml/a-b';
  const written = cluster.objects.get(key) as KubernetesObject & { spec: { replicas?: number } };
  cluster.objects.set(key, { ...written, metadata: { ...written.metadata, resourceVersion: '1' }, spec: { ...written.spec, replicas: 7 } } as KubernetesObject);

  // ServedModel `a` is deleted (the memory cluster has no ServedModel while it is reconciled).
  cluster.sm = undefined as unknown as ServedModel;
  await reconciler.reconcile('ml', 'a');
  cluster.sm = ab;

  const writes = cluster.writes;
  await reconciler.reconcile('ml', 'a-b');
  expect(cluster.writes - writes).toBe(0);
});
