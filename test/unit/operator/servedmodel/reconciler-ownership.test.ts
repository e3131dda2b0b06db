/**
 * An object of a name the ServedModel needs that someone else made (no operator label, so the
 * informers never show it) is left alone: the reconciler reads it from the API before applying,
 * and Degraded names it. Applying would take it over (forced server-side apply) and make garbage
 * collection delete it with the ServedModel.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ServedModelReconciler } from '../../../../src/operator/servedmodel/reconciler.js';
import { servedModel } from '../fixtures.js';
import { MemoryCluster } from '../memory-cluster.js';

function setup(): { cluster: MemoryCluster; reconciler: ServedModelReconciler } {
  const cluster = new MemoryCluster(servedModel({}, { resourceVersion: '1' }));
  const reconciler = new ServedModelReconciler({ cluster, config: { image: 'tensorfleet/tensorfleet:test' }, now: () => new Date('2030-01-01T00:00:00Z'), logger: pino({ level: 'silent' }) });
  return { cluster, reconciler };
}

describe('ServedModelReconciler beside objects it does not own', () => {
  it("applies nothing over another's ConfigMap or Service, builds the rest, and says which", async () => {
    const { cluster, reconciler } = setup();
    const theirs = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mnist-models', namespace: 'ml' }, data: { 'app.properties': 'x=1' } };
    cluster.unlabelled.set('ConfigMap/ml/mnist-models', theirs);
    const owner = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'frontend', uid: 'uid-9', controller: true };
    cluster.unlabelled.set('Service/ml/mnist', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'mnist', namespace: 'ml', ownerReferences: [owner] } });

    await expect(reconciler.reconcile('ml', 'mnist')).rejects.toThrow('ConfigMap mnist-models already exists');
    expect(cluster.getOwned('ConfigMap', 'ml', 'mnist-models')).toBeUndefined();
    expect(cluster.getOwned('Service', 'ml', 'mnist')).toBeUndefined();
    expect(cluster.getOwned('Service', 'ml', 'mnist-headless')).toBeDefined();
    expect(cluster.getOwned('Deployment', 'ml', 'mnist')).toBeDefined();
    expect(cluster.sm.status?.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'ApplyFailed',
      message:
        'ConfigMap mnist-models already exists and was not created by the operator for this ServedModel: it is left alone (delete or rename it, or give the ServedModel another name); ' +
        'Service mnist already exists and is controlled by Deployment frontend: it is left alone (delete or rename it, or give the ServedModel another name)',
    });
    expect(cluster.events).toContain('Warning/ApplyFailed');

    // Once they are gone, the ServedModel gets its own.
    cluster.unlabelled.clear();
    await reconciler.reconcile('ml', 'mnist');
    expect(cluster.getOwned('ConfigMap', 'ml', 'mnist-models')).toBeDefined();
    expect(cluster.getOwned('Service', 'ml', 'mnist')).toBeDefined();
    expect(cluster.sm.status?.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('False');
  });

  it('takes back its own object that lost the operator label', async () => {
    const { cluster, reconciler } = setup();
    await reconciler.reconcile('ml', 'mnist');
    await reconciler.reconcile('ml', 'mnist'); // the cache has shown what was written
    const own = cluster.objects.get('ConfigMap/ml/mnist-models');
    if (!own) throw new Error('no ConfigMap applied');
    // The label was removed by hand: the informer drops it, the API still has it, owned by this ServedModel.
    cluster.objects.delete('ConfigMap/ml/mnist-models');
    cluster.unlabelled.set('ConfigMap/ml/mnist-models', { ...own, metadata: { ...own.metadata, labels: {} } });
    const result = await reconciler.reconcile('ml', 'mnist');
    expect(result.changed).toEqual(['ConfigMap/mnist-models']);
    expect(cluster.getOwned('ConfigMap', 'ml', 'mnist-models')?.metadata?.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'tensorfleet-operator' });
  });

  it('adopts what it made for a ServedModel of this name that was deleted with --cascade=orphan, and reports what a deleted one still controls', async () => {
    const { cluster, reconciler } = setup();
    await reconciler.reconcile('ml', 'mnist');
    const orphaned = (kind: string, name: string, uid: string | undefined): void => {
      const key = `${kind}/ml/${name}`;
      const object = cluster.objects.get(key);
      if (!object) throw new Error(`no ${key}`);
      cluster.objects.set(key, { ...object, metadata: { ...object.metadata, ownerReferences: uid ? [{ apiVersion: 'tensorfleet.dev/v1alpha1', kind: 'ServedModel', name: 'mnist', uid, controller: true }] : [] } });
    };
    // The ServedModel is recreated (a new uid): the Deployment was orphaned, the ConfigMap still awaits garbage collection.
    cluster.sm = servedModel({}, { uid: 'uid-2', resourceVersion: cluster.sm.metadata.resourceVersion });
    orphaned('Deployment', 'mnist', undefined);
    orphaned('ConfigMap', 'mnist-models', 'uid-1');
    orphaned('Service', 'mnist', undefined);
    orphaned('Service', 'mnist-headless', undefined);
    const hash = (): string | undefined => {
      const deployment: V1Deployment | undefined = cluster.getOwned('Deployment', 'ml', 'mnist');
      return deployment?.spec?.template.metadata?.annotations?.['tensorfleet.dev/restart-hash'];
    };
    const before = hash();

    await expect(reconciler.reconcile('ml', 'mnist')).rejects.toThrow(
      'ConfigMap mnist-models still belongs to a deleted ServedModel of this name: it is replaced once garbage collection has removed it',
    );
    expect(cluster.getOwned('Deployment', 'ml', 'mnist')?.metadata?.ownerReferences).toEqual([expect.objectContaining({ uid: 'uid-2', controller: true })]);
    expect(cluster.getOwned('Service', 'ml', 'mnist-headless')?.metadata?.ownerReferences).toEqual([expect.objectContaining({ uid: 'uid-2' })]);
    expect(hash()).toBe(before);
  });
});

