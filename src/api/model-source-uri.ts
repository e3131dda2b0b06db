/**
 * What spec.source.uri names. The CRD admits only these two forms, so anything else here is a
 * ServedModel that bypassed validation (e.g. a unit test); it is treated as S3, whose server-side
 * parser then reports it.
 */
export type ModelSourceLocation =
  | { readonly kind: 's3'; readonly uri: string }
  /** A PersistentVolumeClaim in the ServedModel's namespace; path is relative, without slashes at the ends ('' for the root). */
  | { readonly kind: 'pvc'; readonly claimName: string; readonly path: string };

const PVC_SCHEME = 'pvc://';

export function parseModelSourceUri(uri: string): ModelSourceLocation {
  if (!uri.startsWith(PVC_SCHEME)) return { kind: 's3', uri };
  const rest = uri.slice(PVC_SCHEME.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return { kind: 'pvc', claimName: rest, path: '' };
  return { kind: 'pvc', claimName: rest.slice(0, slash), path: rest.slice(slash + 1).replace(/\/+$/, '') };
}
