import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { computeStatus, type Observation } from '../../../../src/operator/servedmodel/status.js';
import { servedModel } from '../fixtures.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const LATER = new Date('2030-01-01T01:00:00Z');

const deployment = (s: { replicas?: number; ready?: number; updated?: number; generation?: number; observed?: number; stalled?: boolean }): V1Deployment => ({
  metadata: { generation: s.generation ?? 1 },
  status: {
    observedGeneration: s.observed ?? 1,
    replicas: s.replicas ?? 0,
    readyReplicas: s.ready ?? 0,
    updatedReplicas: s.updated ?? s.replicas ?? 0,
    ...(s.stalled ? { conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] } : {}),
  },
});

const summary = (observed: Observation, replicas = 2): Record<string, string> =>
  Object.fromEntries((computeStatus(servedModel({ replicas }), observed, NOW).conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));

const none = { state: 'not-referenced' } as const;

describe('computeStatus conditions', () => {
  it.each([
    ['no Deployment yet', { deployment: undefined, secret: none }, { Ready: 'False/NoReplicasReady', Progressing: 'True/RollingOut', Degraded: 'False/AsExpected', SourceReady: 'True/PodIdentity' }],
    ['all ready', { deployment: deployment({ replicas: 2, ready: 2 }), secret: none }, { Ready: 'True/AllReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'False/AsExpected', SourceReady: 'True/PodIdentity' }],
    ['half ready, rolling', { deployment: deployment({ replicas: 3, ready: 1, updated: 1 }), secret: none }, { Ready: 'True/PartiallyReady', Progressing: 'True/RollingOut', Degraded: 'False/AsExpected', SourceReady: 'True/PodIdentity' }],
    ['generation not observed', { deployment: deployment({ replicas: 2, ready: 2, generation: 2, observed: 1 }), secret: none }, { Ready: 'True/PartiallyReady', Progressing: 'True/RollingOut', Degraded: 'False/AsExpected', SourceReady: 'True/PodIdentity' }],
    ['stalled rollout', { deployment: deployment({ replicas: 2, ready: 0, stalled: true }), secret: none }, { Ready: 'False/NoReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'True/ProgressDeadlineExceeded', SourceReady: 'True/PodIdentity' }],
    ['missing Secret', { deployment: deployment({ replicas: 2, ready: 2 }), secret: { state: 'missing', name: 's3' } }, { Ready: 'True/AllReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'True/SecretNotFound', SourceReady: 'False/SecretNotFound' }],
    ['incomplete Secret', { deployment: deployment({ replicas: 2, ready: 2 }), secret: { state: 'found', name: 's3', keys: ['accessKeyId'] } }, { Ready: 'True/AllReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'True/SecretIncomplete', SourceReady: 'False/SecretIncomplete' }],
    ['good Secret', { deployment: deployment({ replicas: 2, ready: 2 }), secret: { state: 'found', name: 's3', keys: ['accessKeyId', 'secretAccessKey'] } }, { Ready: 'True/AllReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'False/AsExpected', SourceReady: 'True/CredentialsFound' }],
    ['apply failed', { deployment: deployment({ replicas: 2, ready: 2 }), secret: none, applyError: 'boom' }, { Ready: 'True/AllReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'True/ApplyFailed', SourceReady: 'True/PodIdentity' }],
  ] as const)('%s', (_name, observed, expected) => {
    expect(summary(observed as Observation)).toEqual(expected);
  });

  it('reports scale to zero as not ready', () => {
    expect(summary({ deployment: deployment({}), secret: none }, 0).Ready).toBe('False/ScaledToZero');
  });

  it('moves lastTransitionTime only when a condition flips, and carries observedGeneration', () => {
    const sm = servedModel({ replicas: 1 }, { generation: 4 });
    const first = computeStatus(sm, { deployment: deployment({ replicas: 1, ready: 0 }), secret: none }, NOW);
    const withStatus = { ...sm, status: first };
    const same = computeStatus(withStatus, { deployment: deployment({ replicas: 1, ready: 0 }), secret: none }, LATER);
    expect(same).toEqual(first);
    const flipped = computeStatus(withStatus, { deployment: deployment({ replicas: 1, ready: 1 }), secret: none }, LATER);
    const ready = flipped.conditions?.find((c) => c.type === 'Ready');
    const degraded = flipped.conditions?.find((c) => c.type === 'Degraded');
    expect(ready).toMatchObject({ status: 'True', lastTransitionTime: '2030-01-01T01:00:00Z', observedGeneration: 4 });
    expect(degraded?.lastTransitionTime).toBe('2030-01-01T00:00:00Z');
    expect(flipped.observedGeneration).toBe(4);
  });
});

describe('computeStatus summary fields', () => {
  it('lists versions with labels and traffic shares, and the endpoints', () => {
    const sm = servedModel({
      replicas: 3,
      versionPolicy: { specific: { versions: [5, 3] } },
      versionLabels: { stable: 3, canary: 5 },
      routing: { canary: { version: 5, percent: 10 } },
    });
    const status = computeStatus(sm, { deployment: deployment({ replicas: 3, ready: 2 }), secret: none }, NOW);
    expect(status).toMatchObject({
      ready: '2/3',
      servedVersions: '3,5',
      canary: '5@10%',
      selector: 'app.kubernetes.io/name=tensorfleet,tensorfleet.dev/served-model=mnist',
      versions: [
        { version: 3, state: 'Configured', labels: ['stable'] },
        { version: 5, state: 'Configured', labels: ['canary'], percent: 10 },
      ],
      endpoints: { grpc: 'mnist.ml.svc:8500', rest: 'http://mnist.ml.svc:8501', headless: 'mnist-headless.ml.svc:8500' },
    });
  });

  it.each([
    [undefined, 'latest 1'],
    [{ latest: { count: 2 } }, 'latest 2'],
    [{ all: {} }, 'all'],
  ] as const)('summarises policy %j as %s', (policy, text) => {
    expect(computeStatus(servedModel(policy ? { versionPolicy: policy as never } : {}), { deployment: undefined, secret: none }, NOW).servedVersions).toBe(text);
  });
});
