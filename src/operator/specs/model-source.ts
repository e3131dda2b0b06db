import { posix } from 'node:path';
import type { V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { parseModelSourceUri } from '../../api/model-source-uri.js';
import type { ServedModel } from '../../api/served-model-types.js';

/** Where a pvc:// source's claim is mounted in the model server container. */
export const MODEL_SOURCE_DIR = '/var/lib/tensorfleet/source';
const VOLUME_NAME = 'model-source';

/** The model server's base_path: the S3 URI as given, or the claim's path under its mount. */
export function modelBasePath(sm: ServedModel): string {
  const source = parseModelSourceUri(sm.spec.source.uri);
  if (source.kind === 's3') return source.uri;
  return source.path === '' ? MODEL_SOURCE_DIR : posix.join(MODEL_SOURCE_DIR, source.path);
}

/** Whether versions are downloaded into the pod's model store (S3) or read where they are (a claim). */
export function downloadsVersions(sm: ServedModel): boolean {
  return parseModelSourceUri(sm.spec.source.uri).kind === 's3';
}

/**
 * A pvc:// source's claim, mounted whole and read-only: the server never writes to it, and
 * without a subPath a change of the path within the claim reaches running pods through the model
 * config alone (no new pods).
 */
export function modelSourceVolume(sm: ServedModel): { volume: V1Volume; mount: V1VolumeMount } | undefined {
  const source = parseModelSourceUri(sm.spec.source.uri);
  if (source.kind !== 'pvc') return undefined;
  return {
    volume: { name: VOLUME_NAME, persistentVolumeClaim: { claimName: source.claimName, readOnly: true } },
    mount: { name: VOLUME_NAME, mountPath: MODEL_SOURCE_DIR, readOnly: true },
  };
}
