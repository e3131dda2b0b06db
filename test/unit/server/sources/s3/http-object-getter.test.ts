import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { S3ResponseError, canonicalQuery, sdkBucketResolver } from '../../../../../src/server/sources/s3/http-object-getter.js';
import { s3Error } from '../../../../../src/server/sources/s3/download-files.js';
import { resolveS3Settings } from '../../../../../src/server/sources/s3/s3-settings.js';

describe('sdkBucketResolver addresses buckets as the SDK does', () => {
  test.each([
    { what: 'custom endpoint, path-style (default with an endpoint)', flags: { s3_endpoint: 'http://minio.ml:9000' }, bucket: 'models', url: 'http://minio.ml:9000/models', region: 'us-east-1' },
    { what: 'custom endpoint, virtual-host', flags: { s3_endpoint: 'https://s3.example.test', s3_path_style: false }, bucket: 'models', url: 'https://models.s3.example.test/', region: 'us-east-1' },
    { what: 'AWS, virtual-host', flags: { s3_region: 'eu-west-1' }, bucket: 'models', url: 'https://models.s3.eu-west-1.amazonaws.com/', region: 'eu-west-1' },
    { what: 'AWS, a bucket name with dots falls back to path-style (TLS names)', flags: { s3_region: 'eu-west-1' }, bucket: 'my.models', url: 'https://s3.eu-west-1.amazonaws.com/my.models', region: 'eu-west-1' },
    { what: 'AWS, forced path-style', flags: { s3_region: 'us-west-2', s3_path_style: true }, bucket: 'models', url: 'https://s3.us-west-2.amazonaws.com/models', region: 'us-west-2' },
    { what: 'AWS China partition', flags: { s3_region: 'cn-north-1' }, bucket: 'models', url: 'https://models.s3.cn-north-1.amazonaws.com.cn/', region: 'cn-north-1' },
  ])('$what', async ({ flags, bucket, url, region }) => {
    const settings = resolveS3Settings(flags, {});
    const client = new S3Client({ region: settings.region, ...(settings.endpoint ? { endpoint: settings.endpoint } : {}), forcePathStyle: settings.forcePathStyle });
    expect(await sdkBucketResolver(client, settings)(bucket)).toEqual({ kind: 'sigv4', url: new URL(url), signingRegion: region });
    client.destroy();
  });

  test('a multi-region access point (SigV4a) is left to the SDK', async () => {
    const settings = resolveS3Settings({ s3_region: 'us-east-1' }, {});
    const client = new S3Client({ region: 'us-east-1' });
    const endpoint = await sdkBucketResolver(client, settings)('arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap');
    expect(endpoint.kind).toBe('unsupported');
    expect(endpoint.kind === 'unsupported' ? endpoint.reason : '').toMatch(/sigv4a/);
    client.destroy();
  });
});

describe('canonicalQuery (signed and sent as is)', () => {
  test.each([
    { what: 'a first page', params: [['list-type', '2'], ['prefix', 'models/mnist/']], query: 'list-type=2&prefix=models%2Fmnist%2F' },
    { what: 'names sorted, the delimiter encoded', params: [['prefix', 'm/'], ['list-type', '2'], ['delimiter', '/']], query: 'delimiter=%2F&list-type=2&prefix=m%2F' },
    {
      what: 'a continuation token with +, / and = (RFC 3986: only unreserved characters stay)',
      params: [['list-type', '2'], ['continuation-token', 'a+b/c=='], ['max-keys', '2']],
      query: 'continuation-token=a%2Bb%2Fc%3D%3D&list-type=2&max-keys=2',
    },
    { what: "a prefix with space, !*'() and non-ASCII", params: [['prefix', "a b!*'()é~._-"]], query: 'prefix=a%20b%21%2A%27%28%29%C3%A9~._-' },
  ] as { what: string; params: [string, string][]; query: string }[])('$what', ({ params, query }) => {
    expect(canonicalQuery(params)).toBe(query);
  });
});

describe('S3 error answers map to clear codes', () => {
  test.each([
    ['AccessDenied', 403, 'PERMISSION_DENIED'],
    ['SignatureDoesNotMatch', 403, 'PERMISSION_DENIED'],
    ['ExpiredToken', 400, 'PERMISSION_DENIED'],
    ['XAdminUserNotFound', 404, 'PERMISSION_DENIED'],
    ['NoSuchKey', 404, 'NOT_FOUND'],
    ['NoSuchBucket', 404, 'NOT_FOUND'],
    ['PreconditionFailed', 412, 'ABORTED'],
    ['SlowDown', 503, 'UNAVAILABLE'],
    ['InternalError', 500, 'UNAVAILABLE'],
  ] as const)('%s (HTTP %i) -> %s', (name, status, code) => {
    const e = s3Error(new S3ResponseError(name, status, 'what the server said'), 'download from bucket b');
    expect(e.code).toBe(code);
    expect(e.message).toContain(`${name} (HTTP ${status}): what the server said`);
  });
});

describe('settings', () => {
  test.each([
    [{}, false],
    [{ TENSORFLEET_S3_SDK_GET: '1' }, true],
    [{ TENSORFLEET_S3_SDK_GET: 'true' }, true],
    [{ TENSORFLEET_S3_SDK_GET: '0' }, false],
  ])('TENSORFLEET_S3_SDK_GET %j -> sdkGet %s', (env, sdkGet) => {
    expect(resolveS3Settings({}, env).sdkGet).toBe(sdkGet);
  });
});
