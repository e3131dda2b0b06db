import { describe, expect, it } from 'vitest';
import type { ServedModelSpec } from '../../../../src/api/served-model-types.js';
import type { PodObservation, VersionTally } from '../../../../src/operator/servedmodel/pod-observation.js';
import { servedVersions, versionState } from '../../../../src/operator/servedmodel/served-versions.js';
import { servedModel } from '../fixtures.js';

const tally = (available: number, loading = 0, failed = 0, error?: string): VersionTally => ({ available, loading, failed, ...(error ? { error } : {}) });
const pods = (answered: number, versions: Record<number, VersionTally>): PodObservation => ({
  asked: answered,
  answered,
  versions: new Map(Object.entries(versions).map(([k, t]) => [Number(k), t])),
  unreachable: [],
});

describe('versionState', () => {
  it.each([
    ['no pod answered', tally(0), 0, 'Configured'],
    ['on every pod', tally(3), 3, 'AVAILABLE'],
    ['on some pods', tally(1, 2), 3, 'PARTIAL'],
    ['on some, failed on others', tally(2, 0, 1), 3, 'PARTIAL'],
    ['loading somewhere, nowhere available', tally(0, 1, 2), 3, 'LOADING'],
    ['failed everywhere it was tried', tally(0, 0, 1), 3, 'FAILED'],
    ['nowhere', tally(0), 2, 'NOT_LOADED'],
  ] as const)('%s', (_name, t, answered, state) => {
    expect(versionState(t, answered)).toBe(state);
  });
});

describe('servedVersions', () => {
  const canarySpec: Partial<ServedModelSpec> = {
    versionPolicy: { latest: { count: 2 } },
    versionLabels: { stable: 2, canary: 3 },
    routing: { canary: { version: 3, percent: 10 } },
  };

  it('reports configured versions as Configured until a pod answers', () => {
    const view = servedVersions(servedModel(canarySpec), undefined);
    expect(view.versions).toEqual([
      { version: 2, state: 'Configured', labels: ['stable'] },
      { version: 3, state: 'Configured', labels: ['canary'], percent: 10 },
    ]);
    expect(view.summary).toBe('latest 2');
    expect(view.canary).toBe('3@10%');
    expect(view.routing).toMatchObject({ status: 'Unknown', reason: 'NotObserved' });
    expect(view.loadFailure).toBeUndefined();
  });

  it('adds the versions the pods have, with states, replica counts and messages', () => {
    const view = servedVersions(servedModel(canarySpec), pods(3, { 2: tally(3), 3: tally(2, 1), 4: tally(0, 0, 1, 'no graph') }));
    expect(view.versions).toEqual([
      { version: 2, state: 'AVAILABLE', availableReplicas: 3, labels: ['stable'] },
      { version: 3, state: 'PARTIAL', availableReplicas: 2, labels: ['canary'], percent: 10, message: 'available on 2/3 pods; loading on 1' },
      { version: 4, state: 'FAILED', availableReplicas: 0, message: 'failed to load on 1/3 pods: no graph' },
    ]);
    expect(view.summary).toBe('2,3');
    expect(view.loadFailure).toEqual({ type: 'Degraded', status: 'True', reason: 'VersionLoadFailed', message: 'version 4 failed to load on 1/3 pods: no graph' });
  });

  it('summarises "none" when pods answered but serve nothing', () => {
    const view = servedVersions(servedModel({ versionPolicy: { specific: { versions: [7] } } }), pods(2, {}));
    expect(view.summary).toBe('none');
    expect(view.versions).toEqual([
      { version: 7, state: 'NOT_LOADED', availableReplicas: 0, message: 'none of the 2 pods has loaded it (not in the source, or outside the version policy)' },
    ]);
  });

    // [case, spec, tallies over 2 answering pods, condition, message]
  it.each<[string, Partial<ServedModelSpec>, Record<number, VersionTally>, string, string | RegExp]>([
    ['no routes', {}, { 1: tally(2) }, 'True/NoRouteTargets', /No labels or routing/],
    ['canary available', canarySpec, { 2: tally(2), 3: tally(2) }, 'True/RouteTargetsAvailable', 'canary version 3, version 3 (label "canary"), version 2 (label "stable") available on all 2 pods'],
    [
      'canary missing',
      canarySpec,
      { 2: tally(2) },
      'False/RouteTargetUnavailable',
      'canary version 3 is not loaded on any pod: its share of unversioned requests falls back to the stable version 2; version 3 (label "canary") is not loaded on any pod: requests naming the label are refused',
    ],
    [
      'canary on some pods, stable label not loaded',
      { routing: { canary: { version: 3, percent: 5 } }, versionLabels: { stable: 9 } },
      { 2: tally(2), 3: tally(1) },
      'False/RouteTargetUnavailable',
      'canary version 3 is available on only 1/2 pods: on the other pods, its share of unversioned requests falls back to the stable version (the newest available one where the "stable" label\'s version is not loaded); version 9 (label "stable") is not loaded on any pod: requests naming the label are refused',
    ],
    [
      'A/B variant still loading',
      { routing: { abTest: { key: { header: 'x-user' }, variants: [{ version: 1, percent: 50 }, { version: 2, percent: 50 }] } } },
      { 1: tally(2), 2: tally(0, 2) },
      'False/RouteTargetUnavailable',
      /^A\/B variant version 2 is still loading: its share of unversioned requests falls back to the stable version/,
    ],
    [
      'shadow failed to load',
      { routing: { shadow: { version: 4, percent: 100 } } },
      { 1: tally(2), 4: tally(0, 0, 2, 'bad graph') },
      'False/RouteTargetUnavailable',
      'shadow version 4 failed to load (bad graph): no shadow copies are sent',
    ],
  ])('RoutingReady: %s', (_name, spec, versions, expected, message) => {
    const view = servedVersions(servedModel(spec), pods(2, versions));
    expect(`${view.routing.status}/${view.routing.reason}`).toBe(expected);
    if (typeof message === 'string') expect(view.routing.message).toBe(message);
    else expect(view.routing.message).toMatch(message);
  });

  it('says when ready pods exist but none answered', () => {
    const view = servedVersions(servedModel(canarySpec), {
      asked: 2,
      answered: 0,
      versions: new Map(),
      unreachable: [{ pod: 'mnist-a', error: 'GET http://10.0.0.1:8501/v1/models/mnist: no answer within 2000 ms' }, { pod: 'mnist-b', error: 'x' }],
    });
    expect(view.routing).toEqual({
      type: 'RoutingReady',
      status: 'Unknown',
      reason: 'PodsUnreachable',
      message: 'None of the 2 ready pods answered the model status query (mnist-a: GET http://10.0.0.1:8501/v1/models/mnist: no answer within 2000 ms); can the operator reach their REST port?',
    });
    expect(view.versions.map((v) => v.state)).toEqual(['Configured', 'Configured']);
    expect(view.summary).toBe('latest 2');
  });

  it('lists the shadow version and A/B variants with their shares', () => {
    const view = servedVersions(
      servedModel({ routing: { abTest: { key: { header: 'x' }, variants: [{ version: 1, percent: 30 }, { version: 2, percent: 70 }] }, shadow: { version: 3, percent: 10 } } }),
      undefined,
    );
    expect(view.versions).toEqual([
      { version: 1, state: 'Configured', percent: 30 },
      { version: 2, state: 'Configured', percent: 70 },
      { version: 3, state: 'Configured' },
    ]);
  });
});
