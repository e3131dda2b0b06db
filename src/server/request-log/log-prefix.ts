/** Where an s3:// filename_prefix puts its files: keys `<key>.<start>.<instance>.<n>.tfrecord` in `bucket`. */
export interface S3LogPrefix {
  readonly bucket: string;
  readonly key: string;
}

/**
 * Parses `s3://bucket/key/prefix` as TF Serving reads a filename_prefix on S3: the files' keys
 * start with the whole key prefix (`logs/mnist` gives `logs/mnist.<...>.tfrecord`). Returns a
 * problem as text for the config parser, or the location.
 */
export function parseS3LogPrefix(prefix: string): S3LogPrefix | string {
  const match = /^s3:\/\/([^/]+)\/(.+)$/is.exec(prefix);
  if (!match) return `an s3:// filename_prefix must name a bucket and a key prefix (s3://bucket/logs/model), got "${prefix}"`;
  const [, bucket, key] = match as unknown as [string, string, string];
  if (!/^[a-z0-9][a-z0-9.\-_]{1,254}$/i.test(bucket)) return `"${bucket}" is not a valid bucket name`;
  if (key.split('/').some((segment, i, all) => (segment === '' && i < all.length - 1) || segment === '.' || segment === '..')) {
    return `the key prefix "${key}" has an empty, "." or ".." path segment`;
  }
  return { bucket, key };
}
