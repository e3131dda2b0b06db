import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServingError } from '../../../shared/errors.js';

export interface FileCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Always near: the SDK then asks again on every request, and rotation is seen at once. */
  readonly expiration: Date;
}

/**
 * Static S3 keys kept as files in a directory (a mounted Kubernetes Secret: `accessKeyId`,
 * `secretAccessKey`, optional `sessionToken`). The files are re-read at most every `cacheMs`, so
 * a rotated Secret takes effect without a restart. The returned credentials carry an expiration
 * in the past of the SDK's refresh window, which makes the SDK call this provider per request.
 */
export function fileCredentialsProvider(dir: string, now: () => number, cacheMs = 1000): () => Promise<FileCredentials> {
  let cached: { at: number; value: Promise<Omit<FileCredentials, 'expiration'>> } | undefined;
  const read = async (): Promise<Omit<FileCredentials, 'expiration'>> => {
    const file = async (name: string, required: boolean): Promise<string | undefined> => {
      try {
        const value = (await readFile(join(dir, name), 'utf8')).trim();
        if (value === '' && required) throw new ServingError('UNAUTHENTICATED', `S3 credentials file ${join(dir, name)} is empty`);
        return value === '' ? undefined : value;
      } catch (error) {
        if (error instanceof ServingError) throw error;
        if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new ServingError('UNAUTHENTICATED', `cannot read S3 credentials file ${join(dir, name)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
      }
    };
    const [accessKeyId, secretAccessKey, sessionToken] = await Promise.all([file('accessKeyId', true), file('secretAccessKey', true), file('sessionToken', false)]);
    return { accessKeyId: accessKeyId!, secretAccessKey: secretAccessKey!, ...(sessionToken !== undefined ? { sessionToken } : {}) };
  };
  return async () => {
    const t = now();
    if (cached === undefined || t - cached.at >= cacheMs) {
      cached = { at: t, value: read() };
      // A failed read must not stick: the next request tries the files again.
      cached.value.catch(() => (cached = undefined));
    }
    return { ...(await cached.value), expiration: new Date(t) };
  };
}
