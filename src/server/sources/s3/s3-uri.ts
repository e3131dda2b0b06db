import { ServingError } from '../../../shared/errors.js';

/** An `s3://bucket/prefix` base path. `prefix` is '' or ends with '/'. */
export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

export const isS3Uri = (path: string): boolean => /^s3:\/\//i.test(path);

/**
 * Parses `s3://bucket[/prefix]`. The prefix is taken as a "directory": `s3://b/models/mnist` and
 * `s3://b/models/mnist/` both list keys under `models/mnist/`.
 */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/is.exec(uri);
  const bucket = match?.[1];
  if (match === null || bucket === undefined || !/^[a-z0-9][a-z0-9.\-_]{1,254}$/i.test(bucket)) {
    throw new ServingError('INVALID_ARGUMENT', `base_path ${uri} is not a valid s3://bucket/prefix URI`);
  }
  const rawPrefix = (match[2] ?? '').replace(/\/+$/, '');
  if (rawPrefix !== '' && rawPrefix.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new ServingError('INVALID_ARGUMENT', `base_path ${uri} has an empty, "." or ".." path segment`);
  }
  return { bucket, prefix: rawPrefix === '' ? '' : `${rawPrefix}/` };
}

export const formatS3Uri = (location: S3Location): string => `s3://${location.bucket}/${location.prefix}`;
