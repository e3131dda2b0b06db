/**
 * A spec the model server would refuse (here a flag value in spec.serverArgs, which the CRD
 * cannot check) is not rolled out: the ConfigMap and Deployment stay as they were, so the pods
 * serving now keep serving, and status says why. Fixing the spec rolls it out.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Condition, ServedModelSpec } from '../../../../src/api/served-model-types.js';
import { ServedModelReconciler } from '../../../../src/operator/servedmodel/reconciler.js';
import { servedModel } from '../fixtures.js';
import { MemoryCluster } from '../memory-cluster.js';

const spec = (serverArgs: string[]): Partial<ServedModelSpec> => ({ serverArgs });

function setup(serverArgs: string[]): { cluster: MemoryCluster; reconciler: ServedModelReconciler } {
  const cluster = new MemoryCluster(servedModel(spec(serverArgs), { resourceVersion: '1' }));
  const reconciler = new ServedModelReconciler({ cluster, config: { image: 'tensorfleet/tensorfleet:test' }, now: () => new Date('2030-01-01T00:00:00Z'), logger: pino({ level: 'silent' }) });
  return { cluster, reconciler };
}

function containerArgs(cluster: MemoryCluster): string[] | undefined {
  const deployment: V1Deployment | undefined = cluster.getOwned('Deployment', 'ml', 'mnist');
  return deployment?.spec?.template.spec?.containers[0]?.args;
}

function degraded(cluster: MemoryCluster): Condition | undefined {
  return cluster.sm.status?.conditions?.find((c) => c.type === 'Degraded');
}

describe('ServedModelReconciler with a spec the model server would refuse', () => {
  it('creates no ConfigMap or Deployment for a new ServedModel, and says why', async () => {
    const { cluster, reconciler } = setup(['--max_request_bytes=lots']);
    const result = await reconciler.reconcile('ml', 'mnist');
    expect([...result.changed].sort()).toEqual(['Service/mnist', 'Service/mnist-headless']);
    expect(cluster.getOwned('ConfigMap', 'ml', 'mnist-models')).toBeUndefined();
    expect(degraded(cluster)).toMatchObject({
      status: 'True',
      reason: 'InvalidSpec',
      message: 'The model server would refuse this spec, so its ConfigMap and Deployment are left as they were: server flags: --max_request_bytes takes a non-negative integer, got "lots"',
    });
    expect(cluster.events).toContain('Warning/InvalidSpec');
  });

  it('keeps the Deployment serving the last accepted spec, then rolls out the fixed one', async () => {
    const { cluster, reconciler } = setup(['--inference_threads=2']);
    await reconciler.reconcile('ml', 'mnist');
    expect(containerArgs(cluster)?.at(-1)).toBe('--inference_threads=2');
    expect(degraded(cluster)?.status).toBe('False');

    cluster.sm = servedModel(spec(['--inference_threads=two']), { resourceVersion: cluster.sm.metadata.resourceVersion, generation: 2 });
    const writes = cluster.writes;
    await reconciler.reconcile('ml', 'mnist');
    expect(containerArgs(cluster)?.at(-1)).toBe('--inference_threads=2');
    expect(cluster.writes).toBe(writes + 1); // the status only
    expect(degraded(cluster)).toMatchObject({ status: 'True', reason: 'InvalidSpec', message: expect.stringContaining('--inference_threads') as unknown });
    expect(cluster.sm.status?.observedGeneration).toBe(2);

    cluster.sm = servedModel(spec(['--inference_threads=3']), { resourceVersion: cluster.sm.metadata.resourceVersion, generation: 3 });
    await reconciler.reconcile('ml', 'mnist');
    expect(containerArgs(cluster)?.at(-1)).toBe('--inference_threads=3');
    expect(degraded(cluster)?.status).toBe('False');
  });

  it('still scales the held Deployment (kubectl scale, the autoscaler), without touching its pods', async () => {
    const { cluster, reconciler } = setup(['--inference_threads=2']);
    await reconciler.reconcile('ml', 'mnist');
    const template = (): unknown => {
      const deployment: V1Deployment | undefined = cluster.getOwned('Deployment', 'ml', 'mnist');
      return deployment?.spec?.template;
    };
    const before = template();
    cluster.sm = servedModel({ serverArgs: ['--inference_threads=two'], replicas: 4 }, { resourceVersion: cluster.sm.metadata.resourceVersion, generation: 2 });
    const result = await reconciler.reconcile('ml', 'mnist');
    expect(result.changed).toContain('Deployment/mnist (replicas)');
    const deployment: V1Deployment | undefined = cluster.getOwned('Deployment', 'ml', 'mnist');
    expect(deployment?.spec?.replicas).toBe(4);
    expect(template()).toEqual(before);
    expect(cluster.getOwned('PodDisruptionBudget', 'ml', 'mnist')).toBeDefined();
    expect(degraded(cluster)?.reason).toBe('InvalidSpec');
    // Scaled once: the next reconcile writes nothing.
    const writes = cluster.writes;
    await reconciler.reconcile('ml', 'mnist');
    expect(cluster.writes).toBe(writes);
  });

  it('records the InvalidSpec Warning also when Degraded already stood for another problem', async () => {
    const cluster = new MemoryCluster(servedModel({ source: { uri: 's3://models/mnist', credentialsSecretRef: { name: 's3' } }, serverArgs: ['--inference_threads=2'] }, { resourceVersion: '1' }));
    const reconciler = new ServedModelReconciler({ cluster, config: { image: 'tensorfleet/tensorfleet:test' }, now: () => new Date('2030-01-01T00:00:00Z'), logger: pino({ level: 'silent' }) });
    await reconciler.reconcile('ml', 'mnist');
    expect(degraded(cluster)?.reason).toBe('SecretNotFound');
    expect(cluster.events).toEqual(['Normal/Applied', 'Warning/SecretNotFound']);

    const { status } = cluster.sm;
    cluster.sm = { ...servedModel({ ...cluster.sm.spec, serverArgs: ['--inference_threads=two'] }, { resourceVersion: cluster.sm.metadata.resourceVersion, generation: 2 }), ...(status ? { status } : {}) };
    await reconciler.reconcile('ml', 'mnist');
    expect(degraded(cluster)?.reason).toBe('InvalidSpec');
    expect(cluster.events).toEqual(['Normal/Applied', 'Warning/SecretNotFound', 'Warning/InvalidSpec']);
    // Unchanged: no more Events.
    await reconciler.reconcile('ml', 'mnist');
    expect(cluster.events).toHaveLength(3);
  });
});

