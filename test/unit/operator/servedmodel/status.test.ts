import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { computeStatus, fitConditionMessage, type Observation } from '../../../../src/operator/servedmodel/status.js';
import { servedModel } from '../fixtures.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const LATER = new Date('2030-01-01T01:00:00Z');

const deployment = (s: { replicas?: number; ready?: number; updated?: number; generation?: number; observed?: number; stalled?: boolean; replicaFailure?: string }): V1Deployment => ({
  metadata: { generation: s.generation ?? 1 },
  status: {
    observedGeneration: s.observed ?? 1,
    replicas: s.replicas ?? 0,
    readyReplicas: s.ready ?? 0,
    updatedReplicas: s.updated ?? s.replicas ?? 0,
    conditions: [
      ...(s.stalled ? [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] : []),
      ...(s.replicaFailure ? [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: s.replicaFailure }] : []),
    ],
  },
});

// RoutingReady has its own tables (served-versions.test.ts); here it is always True/NoRouteTargets.
const summary = (observed: Observation, replicas = 2): Record<string, string> => {
  const conditions = computeStatus(servedModel({ replicas }), observed, NOW).conditions ?? [];
  expect(conditions.find((c) => c.type === 'RoutingReady')).toMatchObject({ status: 'True', reason: 'NoRouteTargets' });
  return Object.fromEntries(conditions.filter((c) => c.type !== 'RoutingReady').map((c) => [c.type, `${c.status}/${c.reason}`]));
};

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
    ['pods not created', { deployment: deployment({ replicas: 2, ready: 0, replicaFailure: 'exceeded quota' }), secret: none }, { Ready: 'False/NoReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'True/PodsNotCreated', SourceReady: 'True/PodIdentity' }],
    ['apply failed', { deployment: deployment({ replicas: 2, ready: 2 }), secret: none, applyError: 'boom' }, { Ready: 'True/AllReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'True/ApplyFailed', SourceReady: 'True/PodIdentity' }],
    ['claim missing', { deployment: deployment({ replicas: 2, ready: 0 }), secret: none, claim: { state: 'missing', name: 'models' } }, { Ready: 'False/NoReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'True/ClaimNotFound', SourceReady: 'False/ClaimNotFound' }],
    ['claim pending (waits for its first pod)', { deployment: deployment({ replicas: 2, ready: 0 }), secret: none, claim: { state: 'found', name: 'models', phase: 'Pending', accessModes: [] } }, { Ready: 'False/NoReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'False/AsExpected', SourceReady: 'Unknown/ClaimPending' }],
    ['claim bound', { deployment: deployment({ replicas: 2, ready: 2 }), secret: none, claim: { state: 'found', name: 'models', phase: 'Bound', accessModes: ['ReadOnlyMany'] } }, { Ready: 'True/AllReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'False/AsExpected', SourceReady: 'True/ClaimBound' }],
    ['claim lost', { deployment: deployment({ replicas: 2, ready: 2 }), secret: none, claim: { state: 'found', name: 'models', phase: 'Lost', accessModes: ['ReadWriteMany'] } }, { Ready: 'True/AllReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'True/ClaimLost', SourceReady: 'False/ClaimLost' }],
    ['claim for one pod only', { deployment: deployment({ replicas: 2, ready: 1 }), secret: none, claim: { state: 'found', name: 'models', phase: 'Bound', accessModes: ['ReadWriteOncePod'] } }, { Ready: 'True/PartiallyReady', Progressing: 'False/RolloutComplete', Degraded: 'True/ClaimSinglePod', SourceReady: 'True/ClaimBound' }],
    ['claim unreadable', { deployment: deployment({ replicas: 2, ready: 2 }), secret: none, claim: { state: 'unreadable', name: 'models', message: 'forbidden' } }, { Ready: 'True/AllReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'False/AsExpected', SourceReady: 'Unknown/ClaimUnreadable' }],
    ['autoscaler cannot scale', { deployment: deployment({ replicas: 2, ready: 2 }), secret: none, autoscalingProblem: { type: 'Degraded', status: 'True', reason: 'AutoscalingInactive', message: 'no metrics' } }, { Ready: 'True/AllReplicasReady', Progressing: 'False/RolloutComplete', Degraded: 'True/AutoscalingInactive', SourceReady: 'True/PodIdentity' }],
  ] as const)('%s', (_name, observed, expected) => {
    expect(summary(observed as Observation)).toEqual(expected);
  });

  it.each([
    [
      'cannot list the source',
      'Could not find any versions of model mnist; listing its base path fails: listing s3://models/mnist/ failed: AccessDenied; retrying in 4 s',
      'False/ListingFailed',
    ],
    ['cannot download', 'Could not find any versions of model mnist; downloading version 3 from s3://models/mnist/, which failed 3 times in a row (getting s3://models/mnist/3/saved_model.pb failed: AccessDenied); retrying', 'False/DownloadFailed'],
    // One or two failed attempts are passing faults the server retries.
    ['failed to download twice', 'Could not find any versions of model mnist; downloading version 3 from s3://models/mnist/, which failed 2 times in a row (socket hang up); retrying', 'True/PodIdentity'],
    ['failed to download once', 'Could not find any versions of model mnist; downloading version 3 from s3://models/mnist/, which failed 1 time in a row (socket hang up); retrying', 'True/PodIdentity'],
    ['find no version directory', 'Could not find any versions of model mnist; no numbered version directory under s3://models/mnist/', 'False/NoVersionsInSource'],
    // Downloading its first version, or waiting for one to be complete: nothing broken to report.
    ['are downloading', 'Could not find any versions of model mnist; downloading version 3 from s3://models/mnist/', 'True/PodIdentity'],
    ['have nothing to say', 'Could not find any versions of model mnist', 'True/PodIdentity'],
  ])('reports servers that %s', (_what, message, source) => {
    const startingPods = { asked: 1, answered: 1, versions: new Map(), unreachable: [], noVersions: { pod: 'mnist-abc', message } };
    const conditions = computeStatus(servedModel({ replicas: 1 }), { deployment: deployment({ replicas: 1, ready: 0 }), secret: none, startingPods }, NOW).conditions ?? [];
    const c = conditions.find((x) => x.type === 'SourceReady');
    expect(`${c?.status}/${c?.reason}`).toBe(source);
  });

  it('words repeated download failures without their count, so the status does not change with every attempt', () => {
    const message = (times: number): string | undefined => {
      const text = `Could not find any versions of model mnist; downloading version 3 from s3://models/mnist/, which failed ${times} times in a row (AccessDenied); retrying`;
      const startingPods = { asked: 1, answered: 1, versions: new Map(), unreachable: [], noVersions: { pod: 'mnist-abc', message: text } };
      return (computeStatus(servedModel({ replicas: 1 }), { deployment: deployment({ replicas: 1, ready: 0 }), secret: none, startingPods }, NOW).conditions ?? []).find((x) => x.type === 'SourceReady')?.message;
    };
    expect(message(3)).toContain('which failed 3 or more times in a row (AccessDenied)');
    expect(message(7)).toBe(message(3));
  });

  it('words a listing failure without its retry countdown, and lets a configuration problem win', () => {
    const startingPods = {
      asked: 1,
      answered: 1,
      versions: new Map(),
      unreachable: [],
      noVersions: { pod: 'mnist-abc', message: 'Could not find any versions of model mnist; listing its base path fails: listing s3://models/mnist/ failed: AccessDenied; retrying in 4 s' },
    };
    const conditions = computeStatus(servedModel({ replicas: 1 }), { deployment: deployment({ replicas: 1, ready: 0 }), secret: none, startingPods }, NOW).conditions ?? [];
    expect(conditions.find((c) => c.type === 'SourceReady')?.message).toBe(
      'The model servers cannot list the source (pod mnist-abc: Could not find any versions of model mnist; listing its base path fails: listing s3://models/mnist/ failed: AccessDenied)',
    );
    expect(conditions.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'True', reason: 'ListingFailed' });
    const withoutSecret = computeStatus(servedModel({ replicas: 1 }), { deployment: undefined, secret: { state: 'missing', name: 's3' }, startingPods }, NOW).conditions ?? [];
    expect(withoutSecret.find((c) => c.type === 'SourceReady')?.reason).toBe('SecretNotFound');
  });

  it.each([
    ['missing', { state: 'missing', name: 'internal-ca' }, 'False/CABundleNotFound', 'True/CABundleNotFound'],
    ['without the key', { state: 'found', name: 'internal-ca', keys: ['other.pem'] }, 'False/CABundleIncomplete', 'True/CABundleIncomplete'],
    ['unreadable', { state: 'unreadable', name: 'internal-ca', message: 'forbidden' }, 'Unknown/CABundleUnreadable', 'False/AsExpected'],
    ['complete', { state: 'found', name: 'internal-ca', keys: ['bundle.pem'] }, 'True/PodIdentity', 'False/AsExpected'],
  ] as const)('reports a CA ConfigMap that is %s', (_what, caBundle, source, degraded) => {
    const sm = servedModel({ replicas: 2, source: { uri: 's3://models/mnist', caBundleRef: { name: 'internal-ca', key: 'bundle.pem' } } });
    const conditions = computeStatus(sm, { deployment: deployment({ replicas: 2, ready: 2 }), secret: none, caBundle }, NOW).conditions ?? [];
    const pick = (type: string): string => {
      const c = conditions.find((x) => x.type === type);
      return `${c?.status}/${c?.reason}`;
    };
    expect([pick('SourceReady'), pick('Degraded')]).toEqual([source, degraded]);
  });

  it.each([
    ['missing', { state: 'missing', name: 'model-tls' }, false, 'True/TLSSecretNotFound'],
    ['without tls.key', { state: 'found', name: 'model-tls', keys: ['tls.crt'] }, false, 'True/TLSSecretIncomplete'],
    ['without ca.crt while client certificates are required', { state: 'found', name: 'model-tls', keys: ['tls.crt', 'tls.key'] }, true, 'True/TLSSecretIncomplete'],
    ['complete', { state: 'found', name: 'model-tls', keys: ['ca.crt', 'tls.crt', 'tls.key'] }, true, 'False/AsExpected'],
  ] as const)('reports a TLS Secret that is %s', (_what, tlsSecret, requireClientCertificate, degraded) => {
    const sm = servedModel({ replicas: 2, tls: { secretName: 'model-tls', requireClientCertificate } });
    const conditions = computeStatus(sm, { deployment: deployment({ replicas: 2, ready: 2 }), secret: none, tlsSecret: tlsSecret }, NOW).conditions ?? [];
    const c = conditions.find((x) => x.type === 'Degraded');
    expect(`${c?.status}/${c?.reason}`).toBe(degraded);
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

describe('computeStatus with what the pods report', () => {
  const sm = servedModel({ replicas: 2, versionLabels: { stable: 1 }, routing: { canary: { version: 2, percent: 20 } } });
  const observed = (versions: Record<number, { available: number; loading: number; failed: number; error?: string }>): Observation => ({
    deployment: deployment({ replicas: 2, ready: 2 }),
    secret: none,
    pods: { asked: 2, answered: 2, versions: new Map(Object.entries(versions).map(([k, t]) => [Number(k), t])), unreachable: [] },
  });

  it('reports versions, VERSIONS and RoutingReady from the pods, and a failed load as Degraded', () => {
    const status = computeStatus(sm, observed({ 1: { available: 2, loading: 0, failed: 0 }, 2: { available: 0, loading: 0, failed: 2, error: 'no saved_model.pb' } }), NOW);
    expect(status.observedReplicas).toBe(2);
    expect(status.servedVersions).toBe('1');
    expect(status.versions).toEqual([
      { version: 1, state: 'AVAILABLE', availableReplicas: 2, labels: ['stable'] },
      { version: 2, state: 'FAILED', availableReplicas: 0, percent: 20, message: 'failed to load on 2/2 pods: no saved_model.pb' },
    ]);
    const byType = Object.fromEntries((status.conditions ?? []).map((c) => [c.type, c]));
    expect(byType.Degraded).toMatchObject({ status: 'True', reason: 'VersionLoadFailed', message: 'version 2 failed to load on 2/2 pods: no saved_model.pb' });
    expect(byType.RoutingReady).toMatchObject({ status: 'False', reason: 'RouteTargetUnavailable' });
    expect(byType.RoutingReady?.message).toContain('canary version 2 failed to load (no saved_model.pb): its share of unversioned requests falls back to the stable version 1');
  });

  it('is the same status for the same reports, and flips RoutingReady once the canary loads', () => {
    const failing = computeStatus(sm, observed({ 1: { available: 2, loading: 0, failed: 0 }, 2: { available: 0, loading: 2, failed: 0 } }), NOW);
    expect(computeStatus({ ...sm, status: failing }, observed({ 1: { available: 2, loading: 0, failed: 0 }, 2: { available: 0, loading: 2, failed: 0 } }), LATER)).toEqual(failing);
    const fixed = computeStatus({ ...sm, status: failing }, observed({ 1: { available: 2, loading: 0, failed: 0 }, 2: { available: 2, loading: 0, failed: 0 } }), LATER);
    expect(fixed.conditions?.find((c) => c.type === 'RoutingReady')).toMatchObject({ status: 'True', reason: 'RouteTargetsAvailable', lastTransitionTime: '2030-01-01T01:00:00Z' });
    expect(fixed.servedVersions).toBe('1,2');
  });
});

describe('condition messages', () => {
  it('keep an apiserver error longer than the CRD admits to its 32768 characters, saying how much was cut', () => {
    // One line per invalid field, values included: a Deployment with many bad affinity terms gave 100 kB.
    const applyError = `Deployment big: apply Deployment big: HTTP 422: ${'spec.template.spec.affinity: Invalid value: "bad key". '.repeat(2000)}`;
    const degraded = computeStatus(servedModel(), { deployment: undefined, secret: none, applyError }, NOW).conditions?.find((c) => c.type === 'Degraded');
    expect(degraded?.reason).toBe('ApplyFailed');
    expect([...(degraded?.message ?? '')]).toHaveLength(32768);
    expect(degraded?.message.startsWith('Deployment big: apply Deployment big: HTTP 422: spec.template')).toBe(true);
    expect(degraded?.message).toMatch(/ … \(\d+ more characters; the operator's log has all of it\)$/);
  });

  it.each([
    ['short', 'boom', 'boom'],
    ['exactly the limit', 'x'.repeat(32768), 'x'.repeat(32768)],
  ])('leave a %s message as it is', (_what, message, expected) => {
    expect(fitConditionMessage(message)).toBe(expected);
  });

  it('count characters as the apiserver does, not UTF-16 units', () => {
    const fitted = fitConditionMessage('😀'.repeat(40000));
    expect([...fitted]).toHaveLength(32768);
    expect(fitted).toContain('(7232 more characters;');
  });
});
