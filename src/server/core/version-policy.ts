import type { VersionPolicy } from '../config/model-config.js';

/**
 * The versions a model should serve, given its policy and the complete versions its source
 * lists: `latest{N}` → the N highest; `all` → every one; `specific` → those listed that exist
 * (a specific version not on disk is simply not aspired). Version 0 is an ordinary version.
 * Returns ascending, without duplicates.
 */
export function aspiredVersions(policy: VersionPolicy, availableOnDisk: readonly number[]): number[] {
  const onDisk = [...new Set(availableOnDisk)].sort((a, b) => a - b);
  switch (policy.kind) {
    case 'latest':
      return policy.numVersions > 0 ? onDisk.slice(-policy.numVersions) : [];
    case 'all':
      return onDisk;
    case 'specific': {
      const wanted = new Set(policy.versions);
      return onDisk.filter((v) => wanted.has(v));
    }
  }
}
