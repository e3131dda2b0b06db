import type { V1EndpointSlice } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  aggregatePodReports,
  parseModelStatus,
  readyPodTargets,
  startingPodTargets,
  type PodReport,
  type ServerVersionReport,
} from '../../../../src/operator/servedmodel/pod-observation.js';

const slice = (
  service: string,
  endpoints: { ip: string; ready?: boolean; terminating?: boolean; pod?: string }[],
  extra: { port?: number; addressType?: string; name?: string } = {},
): V1EndpointSlice => ({
  metadata: { name: extra.name ?? `${service}-abc`, labels: { 'kubernetes.io/service-name': service } },
  addressType: extra.addressType ?? 'IPv4',
  ports: extra.port === undefined ? [{ name: 'grpc', port: 8500 }] : [{ name: 'grpc', port: 8500 }, { name: 'http', port: extra.port }],
  endpoints: endpoints.map((e) => ({
    addresses: [e.ip],
    ...(e.ready === undefined ? {} : { conditions: { ready: e.ready, ...(e.terminating === undefined ? {} : { terminating: e.terminating }) } }),
    ...(e.pod ? { targetRef: { kind: 'Pod', name: e.pod } } : {}),
  })),
});

describe('readyPodTargets', () => {
  it.each([
    ['no slices', [], []],
    ['a ready pod on the named http port', [slice('m-headless', [{ ip: '10.0.0.2', ready: true, pod: 'm-1' }], { port: 9000 })], ['m-1@10.0.0.2:9000']],
    ['defaults to 8501 without an http port', [slice('m-headless', [{ ip: '10.0.0.2', pod: 'm-1' }])], ['m-1@10.0.0.2:8501']],
    ['skips not-ready endpoints; no condition means ready', [slice('m-headless', [{ ip: '10.0.0.2', ready: false }, { ip: '10.0.0.3' }], { port: 8501 })], ['10.0.0.3@10.0.0.3:8501']],
    ['ignores other Services\' slices', [slice('m', [{ ip: '10.0.0.2' }], { port: 8501 }), slice('other-headless', [{ ip: '10.0.0.4' }], { port: 8501 })], []],
    ['reads every slice of the Service, once per address', [
      slice('m-headless', [{ ip: '10.0.0.3', pod: 'm-b' }], { port: 8501, name: 'a' }),
      slice('m-headless', [{ ip: '10.0.0.2', pod: 'm-a' }, { ip: '10.0.0.3', pod: 'm-b' }], { port: 8501, name: 'b' }),
    ], ['m-a@10.0.0.2:8501', 'm-b@10.0.0.3:8501']],
    ['skips FQDN slices', [slice('m-headless', [{ ip: 'pod.example' }], { port: 8501, addressType: 'FQDN' })], []],
  ] as const)('%s', (_name, slices, expected) => {
    const targets = readyPodTargets(slices, 'm-headless');
    expect(targets.map((t) => `${t.pod}@${t.ip}:${t.port}`)).toEqual(expected);
  });
});

describe('parseModelStatus', () => {
  it('reads TF Serving\'s model status JSON', () => {
    expect(
      parseModelStatus({
        model_version_status: [
          { version: '3', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
          { version: '2', state: 'END', status: { error_code: 'NOT_FOUND', error_message: 'no saved_model.pb' } },
          { version: '0', state: 'LOADING', status: {} },
        ],
      }),
    ).toEqual([
      { version: 3, state: 'AVAILABLE', errorCode: 'OK', errorMessage: '' },
      { version: 2, state: 'END', errorCode: 'NOT_FOUND', errorMessage: 'no saved_model.pb' },
      { version: 0, state: 'LOADING', errorCode: 'OK', errorMessage: '' },
    ]);
  });

  it.each([
    ['not an object', 'hello', 'the response has no model_version_status list'],
    ['no list', { error: 'x' }, 'the response has no model_version_status list'],
    ['a bad version', { model_version_status: [{ version: 'x', state: 'AVAILABLE' }] }, 'the response names an invalid version "x"'],
    ['a negative version', { model_version_status: [{ version: -1, state: 'AVAILABLE' }] }, 'the response names an invalid version -1'],
    ['no state', { model_version_status: [{ version: '1' }] }, 'version 1 has no state'],
  ] as const)('explains %s', (_name, body, message) => {
    expect(parseModelStatus(body)).toBe(message);
  });
});

const v = (version: number, state: string, errorCode = 'OK', errorMessage = ''): ServerVersionReport => ({ version, state, errorCode, errorMessage });
const ok = (pod: string, ...versions: ServerVersionReport[]): PodReport => ({ pod, ok: true, versions });

describe('startingPodTargets', () => {
  it('takes the pods that are not ready, leaving out the ready and the terminating', () => {
    const slices = [
      slice('m-headless', [
        { ip: '10.0.0.2', ready: true, pod: 'm-ready' },
        { ip: '10.0.0.3', ready: false, pod: 'm-starting' },
        { ip: '10.0.0.4', ready: false, terminating: true, pod: 'm-leaving' },
        { ip: '10.0.0.5', pod: 'm-no-condition' },
      ], { port: 8501 }),
    ];
    expect(startingPodTargets(slices, 'm-headless').map((t) => t.pod)).toEqual(['m-starting']);
  });
});

describe('aggregatePodReports', () => {
  it("reports why, when no pod that answered has any version: the first pod's message in name order", () => {
    const observation = aggregatePodReports([
      { pod: 'p2', ok: true, versions: [], missing: 'Could not find any versions of model m; listing its base path fails: AccessDenied' },
      { pod: 'p1', ok: true, versions: [], missing: 'Could not find any versions of model m' },
      { pod: 'p0', ok: false, error: 'connection refused' },
    ]);
    expect(observation.noVersions).toEqual({ pod: 'p1', message: 'Could not find any versions of model m' });
    // One pod with a version is enough to not call it a source problem.
    expect(aggregatePodReports([{ pod: 'p1', ok: true, versions: [], missing: 'none' }, ok('p2', v(1, 'LOADING'))]).noVersions).toBeUndefined();
  });

  it('counts each version per state over the pods that answered', () => {
    const observation = aggregatePodReports([
      ok('p2', v(3, 'LOADING'), v(2, 'AVAILABLE'), v(1, 'END')),
      ok('p1', v(3, 'AVAILABLE'), v(2, 'AVAILABLE'), v(4, 'END', 'INVALID_ARGUMENT', 'bad graph on p1')),
      { pod: 'p3', ok: false, error: 'no answer within 2000 ms' },
      ok('p0', v(2, 'AVAILABLE'), v(4, 'LOADING', 'INTERNAL', 'retrying after: bad graph on p0'), v(5, 'UNLOADING')),
    ]);
    expect(observation.asked).toBe(4);
    expect(observation.answered).toBe(3);
    expect(observation.unreachable).toEqual([{ pod: 'p3', error: 'no answer within 2000 ms' }]);
    expect(Object.fromEntries(observation.versions)).toEqual({
      2: { available: 3, loading: 0, failed: 0 },
      3: { available: 1, loading: 1, failed: 0 },
      // Errors are sampled from the first failing pod in name order, whatever order answers came in.
      4: { available: 0, loading: 0, failed: 2, error: 'retrying after: bad graph on p0' },
    });
  });

  it('counts a version listed twice by one server once, in its best state', () => {
    const observation = aggregatePodReports([ok('p', v(1, 'END', 'INTERNAL', 'old failure'), v(1, 'AVAILABLE'))]);
    expect(observation.versions.get(1)).toEqual({ available: 1, loading: 0, failed: 0 });
  });

  it('truncates long errors and uses the code when there is no message', () => {
    const observation = aggregatePodReports([ok('a', v(1, 'END', 'INTERNAL', 'x'.repeat(2000))), ok('b', v(2, 'END', 'DATA_LOSS'))]);
    expect(observation.versions.get(1)?.error).toHaveLength(512);
    expect(observation.versions.get(2)?.error).toBe('DATA_LOSS');
  });
});
