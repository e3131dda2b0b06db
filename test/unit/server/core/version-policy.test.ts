import { describe, expect, it } from 'vitest';
import type { VersionPolicy } from '../../../../src/server/config/model-config.js';
import { aspiredVersions } from '../../../../src/server/core/version-policy.js';

describe('aspiredVersions', () => {
  const latest = (n: number): VersionPolicy => ({ kind: 'latest', numVersions: n });
  const specific = (...versions: number[]): VersionPolicy => ({ kind: 'specific', versions });
  it.each<[string, VersionPolicy, number[], number[]]>([
    ['latest 1 of several', latest(1), [1, 3, 2], [3]],
    ['latest 2', latest(2), [5, 1, 10, 2], [5, 10]],
    ['latest N larger than available', latest(5), [2, 1], [1, 2]],
    ['latest of nothing', latest(1), [], []],
    ['latest with version 0 only', latest(1), [0], [0]],
    ['latest 2 including version 0', latest(2), [0, 1], [0, 1]],
    ['numeric not lexicographic order', latest(1), [9, 10], [10]],
    ['all', { kind: 'all' }, [3, 0, 1], [0, 1, 3]],
    ['all of nothing', { kind: 'all' }, [], []],
    ['specific present', specific(1, 3), [1, 2, 3], [1, 3]],
    ['specific partly absent', specific(3, 7), [1, 3], [3]],
    ['specific none present', specific(7), [1, 2], []],
    ['specific version 0', specific(0), [0, 1], [0]],
    ['duplicates on disk collapse', latest(2), [1, 1, 2], [1, 2]],
  ])('%s', (_name, policy, onDisk, expected) => {
    expect(aspiredVersions(policy, onDisk)).toEqual(expected);
  });
});
