import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuQuotaCores } from '../../../../../src/server/servables/tensorflow/cpu-quota.js';

let root: string | undefined;

/** A fake filesystem root holding the given files. */
function fakeRoot(files: Record<string, string>): string {
  root = mkdtempSync(join(tmpdir(), 'cpu-quota-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

describe('cpuQuotaCores', () => {
  it('reads cgroup v2 cpu.max in a container with its own cgroup namespace', () => {
    expect(cpuQuotaCores(fakeRoot({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cpu.max': '250000 100000\n' }))).toBe(2.5);
  });

  it('reads cpu.max of the cgroup the process is in on a host', () => {
    const dir = fakeRoot({
      'proc/self/cgroup': '0::/system.slice/model.service\n',
      'sys/fs/cgroup/cpu.max': 'max 100000\n',
      'sys/fs/cgroup/system.slice/model.service/cpu.max': '50000 100000\n',
    });
    expect(cpuQuotaCores(dir)).toBe(0.5);
  });

  it('says there is no quota for "max", a missing file, or garbage', () => {
    expect(cpuQuotaCores(fakeRoot({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
    expect(cpuQuotaCores(fakeRoot({ 'proc/self/cgroup': '0::/\n' }))).toBeUndefined();
    expect(cpuQuotaCores(fakeRoot({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cpu.max': 'lots\n' }))).toBeUndefined();
    expect(cpuQuotaCores(fakeRoot({}))).toBeUndefined();
  });

  it('reads cgroup v1 quota and period, under either mount name', () => {
    const host = fakeRoot({
      'proc/self/cgroup': '4:memory:/x\n3:cpu,cpuacct:/kubepods/pod1/c1\n0::/\n',
      'sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1/cpu.cfs_quota_us': '300000\n',
      'sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/c1/cpu.cfs_period_us': '100000\n',
    });
    expect(cpuQuotaCores(host)).toBe(3);
  });

  it('falls back to the v1 mount root in a container that sees its own cgroup there', () => {
    const container = fakeRoot({
      'proc/self/cgroup': '3:cpu,cpuacct:/kubepods/pod1/c1\n',
      'sys/fs/cgroup/cpu/cpu.cfs_quota_us': '150000\n',
      'sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
    });
    expect(cpuQuotaCores(container)).toBe(1.5);
  });

  it('treats a v1 quota of -1 as no limit', () => {
    const dir = fakeRoot({ 'proc/self/cgroup': '1:cpu:/\n', 'sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1\n', 'sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' });
    expect(cpuQuotaCores(dir)).toBeUndefined();
  });
});
