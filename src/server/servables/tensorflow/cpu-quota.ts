import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The CPU bandwidth this process may use, in cores (a Kubernetes CPU limit, `docker --cpus`), or
 * undefined when none is set or it cannot be read. TensorFlow sizes its pools from the cores it
 * sees, which a quota does not hide, so a pod limited to 2 cores on a 64-core node would start
 * 64-thread pools that the kernel then throttles.
 *
 * Looks in the cgroup named by /proc/self/cgroup first (a host, or a container with a cgroup
 * namespace where that path is "/"), then at the controller's mount root (a cgroup v1 container
 * without one, where the runtime mounts the container's own cgroup there). `root` lets tests point
 * at a fake filesystem.
 */
export function cpuQuotaCores(root = '/'): number | undefined {
  const memberships = readText(join(root, 'proc/self/cgroup'))?.split('\n') ?? [];
  const v2Path = memberships.find((line) => line.startsWith('0::'))?.slice(3);
  const v1Path = memberships.map((line) => line.split(':')).find(([, controllers]) => controllers?.split(',').includes('cpu'))?.[2];
  const v2Dirs = [v2Path, '/'].filter(isPath).map((path) => join(root, 'sys/fs/cgroup', path));
  const v1Dirs = ['cpu', 'cpu,cpuacct'].flatMap((mount) => [v1Path, '/'].filter(isPath).map((path) => join(root, 'sys/fs/cgroup', mount, path)));
  for (const dir of v2Dirs) {
    const cores = v2Quota(readText(join(dir, 'cpu.max')));
    if (cores !== undefined) return cores;
  }
  for (const dir of v1Dirs) {
    const cores = v1Quota(readText(join(dir, 'cpu.cfs_quota_us')), readText(join(dir, 'cpu.cfs_period_us')));
    if (cores !== undefined) return cores;
  }
  return undefined;
}

const isPath = (path: string | undefined): path is string => path !== undefined && path.startsWith('/');

/** cgroup v2 `cpu.max`: "QUOTA PERIOD" in µs, or "max PERIOD" for no limit. */
function v2Quota(text: string | undefined): number | undefined {
  const [quota, period] = text?.trim().split(/\s+/) ?? [];
  return ratio(quota, period);
}

/** cgroup v1: quota -1 means no limit. */
function v1Quota(quota: string | undefined, period: string | undefined): number | undefined {
  return ratio(quota?.trim(), period?.trim());
}

function ratio(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota);
  const p = Number(period);
  return quota && period && Number.isFinite(q) && Number.isFinite(p) && q > 0 && p > 0 ? q / p : undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
