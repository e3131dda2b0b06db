import { expect, test } from 'vitest';
import { objectPath } from '../../../../../src/server/sources/s3/object-path.js';
import { judgeVersion } from '../../../../../src/server/sources/s3/remote-version.js';
import { resolveS3Settings } from '../../../../../src/server/sources/s3/s3-settings.js';
import { parseS3Uri } from '../../../../../src/server/sources/s3/s3-uri.js';

test.each([
  ['m/1/saved_model.pb', 5, { kind: 'file', path: 'saved_model.pb' }],
  ['m/1/variables/variables.index', 5, { kind: 'file', path: 'variables/variables.index' }],
  ['m/1/%2e%2e/x', 1, { kind: 'file', path: '%2e%2e/x' }],
  ['m/1/', 0, { kind: 'folder-marker' }],
  ['m/1/variables/', 0, { kind: 'folder-marker' }],
  ['m/1/../x', 1, { kind: 'refused', reason: '".." path segment' }],
  ['m/1/a/./b', 1, { kind: 'refused', reason: '"." path segment' }],
  ['m/1//etc/passwd', 1, { kind: 'refused', reason: 'absolute path' }],
  ['m/1/a//b', 1, { kind: 'refused', reason: 'empty path segment' }],
  ['m/1/a\\..\\b', 1, { kind: 'refused', reason: 'backslash in key' }],
  ['m/1/a\u0000b', 1, { kind: 'refused', reason: 'control character in key' }],
  ['m/1/x/', 3, { kind: 'refused', reason: 'empty path segment' }],
  [`m/1/${'a'.repeat(256)}`, 1, { kind: 'refused', reason: 'path segment longer than 255 bytes' }],
  ['m/1/.tensorfleet-manifest.json', 1, { kind: 'refused', reason: ".tensorfleet-manifest.json is reserved for TensorFleet's manifest" }],
  ['m/2/x', 1, { kind: 'refused', reason: 'key is outside the version prefix' }],
])('objectPath(%j)', (key, size, expected) => {
  expect(objectPath(key, 'm/1/', size)).toEqual(expected);
});

const o = (key: string, size = 1, etag = 'e'): { key: string; size: number; etag: string } => ({ key, size, etag });

test.each([
  [[o('p/1/saved_model.pb')], undefined],
  [[o('p/1/saved_model.pb'), o('p/1/variables/variables.data-00000-of-00001')], 'variables/ without variables/variables.index yet'],
  [[o('p/1/variables/variables.index')], 'no saved_model.pb yet'],
  [[o('p/1/saved_model.pb'), o('p/1/a'), o('p/1/a/b')], 'a is both an object and a folder'],
  [[o('p/1/saved_model.pb'), o('p/1/..')], 'unsafe object key "p/1/..": ".." path segment'],
])('judgeVersion problem %#', (objects, problem) => {
  expect(judgeVersion(1, 'p/1/', objects).problem).toBe(problem);
});

test('the signature changes with any size or ETag, and the marker is not a file', () => {
  const base = judgeVersion(1, 'p/1/', [o('p/1/saved_model.pb', 1, 'a')], '.done');
  expect(judgeVersion(1, 'p/1/', [o('p/1/saved_model.pb', 2, 'a')]).signature).not.toBe(base.signature);
  expect(judgeVersion(1, 'p/1/', [o('p/1/saved_model.pb', 1, 'b')]).signature).not.toBe(base.signature);
  const marked = judgeVersion(1, 'p/1/', [o('p/1/saved_model.pb', 1, 'a'), o('p/1/.done', 0)], '.done');
  expect(marked.markerPresent).toBe(true);
  expect(marked.files.map((f) => f.path)).toEqual(['saved_model.pb']);
  expect(marked.signature).toBe(base.signature);
});

test.each([
  ['s3://bkt/models/mnist', { bucket: 'bkt', prefix: 'models/mnist/' }],
  ['s3://bkt/models/mnist/', { bucket: 'bkt', prefix: 'models/mnist/' }],
  ['S3://bkt', { bucket: 'bkt', prefix: '' }],
])('parseS3Uri(%s)', (uri, expected) => {
  expect(parseS3Uri(uri)).toEqual(expected);
});

test.each(['s3://', 's3:///x', 's3://bkt/a//c', 's3://bkt/../x', 's3://b/x'])('parseS3Uri refuses %s', (uri) => {
  expect(() => parseS3Uri(uri)).toThrow(/base_path/);
});

test.each([
  [{}, {}, { endpoint: undefined, region: 'us-east-1', forcePathStyle: false, verifyTls: true, transfer: { partSizeBytes: 16 * 1024 * 1024, maxPartSizeBytes: 64 * 1024 * 1024, multipartThresholdBytes: 32 * 1024 * 1024 } }],
  [{}, { S3_ENDPOINT: 'minio:9000', S3_USE_HTTPS: '0', AWS_REGION: 'eu-west-1', S3_VERIFY_SSL: '0' }, { endpoint: 'http://minio:9000', region: 'eu-west-1', forcePathStyle: true, verifyTls: false }],
  [{}, { S3_ENDPOINT: 'minio:9000' }, { endpoint: 'https://minio:9000' }],
  [{ s3_endpoint: 'http://a:1' }, { TENSORFLEET_S3_ENDPOINT: 'http://b:2', S3_ENDPOINT: 'c:3' }, { endpoint: 'http://a:1' }],
  [{}, { TENSORFLEET_S3_ENDPOINT: 'http://b:2', S3_ENDPOINT: 'c:3' }, { endpoint: 'http://b:2' }],
  [{ s3_path_style: false }, { S3_ENDPOINT: 'c:3' }, { forcePathStyle: false }],
  [{}, { S3_DISABLE_MULTI_PART_DOWNLOAD: '1' }, { transfer: { multipartThresholdBytes: Number.POSITIVE_INFINITY } }],
  [{}, { S3_MULTI_PART_DOWNLOAD_CHUNK_SIZE: String(8 * 1024 * 1024) }, { transfer: { partSizeBytes: 8 * 1024 * 1024, maxPartSizeBytes: 8 * 1024 * 1024, multipartThresholdBytes: 16 * 1024 * 1024 } }],
  [{ s3_part_size_mb: 32 }, { S3_MULTI_PART_DOWNLOAD_CHUNK_SIZE: '1024' }, { transfer: { partSizeBytes: 32 * 1024 * 1024, maxPartSizeBytes: 32 * 1024 * 1024, multipartThresholdBytes: 64 * 1024 * 1024 } }],
  [{}, { TENSORFLEET_S3_CREDENTIALS_DIR: '/var/run/secrets/tensorfleet/s3', AWS_CA_BUNDLE: '/ca.pem' }, { credentialsDir: '/var/run/secrets/tensorfleet/s3', caFile: '/ca.pem' }],
])('resolveS3Settings(%j, %j)', (flags, env, expected) => {
  expect(resolveS3Settings(flags, env)).toMatchObject(expected);
});
