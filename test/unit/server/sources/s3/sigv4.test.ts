import { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, test } from 'vitest';
import { EMPTY_SHA256, SigV4Signer, encodeKeyPath } from '../../../../../src/server/sources/s3/sigv4.js';

const EXAMPLE = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const MAY_24_2013 = Date.UTC(2013, 4, 24);

describe('SigV4Signer', () => {
  // The worked examples of the S3 API reference ("Signature Calculations for the Authorization Header").
  test.each<{ name: string; path: string; query: string; headers: Record<string, string>; signature: string }>([
    { name: 'GET object with Range', path: '/test.txt', query: '', headers: { range: 'bytes=0-9' }, signature: 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41' },
    { name: 'GET bucket lifecycle', path: '/', query: 'lifecycle=', headers: {}, signature: 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543' },
    { name: 'GET bucket (list objects)', path: '/', query: 'max-keys=2&prefix=J', headers: {}, signature: '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7' },
  ])('matches the published example: $name', ({ path, query, headers, signature }) => {
    const signed = new SigV4Signer().sign(
      { method: 'GET', host: 'examplebucket.s3.amazonaws.com', path, query, headers, payloadHash: EMPTY_SHA256, region: 'us-east-1', now: MAY_24_2013 },
      EXAMPLE,
    );
    expect(signed['x-amz-date']).toBe('20130524T000000Z');
    expect(signed.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;${Object.keys(headers).map((h) => `${h};`).join('')}x-amz-content-sha256;x-amz-date, Signature=${signature}`,
    );
  });

  test('agrees with the AWS SDK signer for a session token, an odd key, a port and another region', async () => {
    const credentials = { ...EXAMPLE, sessionToken: 'FwoGZXIvYXdzEXAMPLE//token+=' };
    const key = 'models/mnist/1/variables/a b+c(1)!*~é.data';
    const path = `/bucket.with.dots/${encodeKeyPath(key)}`;
    const now = Date.UTC(2026, 10, 22, 7, 40, 5, 123);
    const ours = new SigV4Signer().sign(
      { method: 'GET', host: '127.0.0.1:7070', path, headers: { 'If-Match': '"abc"', Range: 'bytes=5-9' }, payloadHash: 'UNSIGNED-PAYLOAD', region: 'eu-central-1', now },
      credentials,
    );
    const sdk = new SignatureV4({ credentials, region: 'eu-central-1', service: 's3', sha256: new S3Client({ region: 'eu-central-1' }).config.sha256, uriEscapePath: false, applyChecksum: true });
    const signed = await sdk.sign(
      {
        method: 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 7070,
        path,
        query: {},
        headers: { host: '127.0.0.1:7070', 'if-match': '"abc"', range: 'bytes=5-9', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      },
      { signingDate: new Date(now) },
    );
    expect(ours.authorization).toBe(signed.headers.authorization);
    expect(ours['x-amz-security-token']).toBe(credentials.sessionToken);
  });

  test('derives a new signing key when the secret rotates', () => {
    const signer = new SigV4Signer();
    const request = { method: 'GET', host: 'h', path: '/b/k', payloadHash: 'UNSIGNED-PAYLOAD', region: 'us-east-1', now: MAY_24_2013 };
    const a = signer.sign(request, EXAMPLE).authorization;
    const b = signer.sign(request, { ...EXAMPLE, secretAccessKey: 'rotated' }).authorization;
    expect(a).not.toBe(b);
    expect(new SigV4Signer().sign(request, { ...EXAMPLE, secretAccessKey: 'rotated' }).authorization).toBe(b);
  });
});

describe('encodeKeyPath', () => {
  test.each([
    ['models/mnist/1/saved_model.pb', 'models/mnist/1/saved_model.pb'],
    ['a b/c+d', 'a%20b/c%2Bd'],
    ["x!'()*~-_.y", 'x%21%27%28%29%2A~-_.y'],
    ['%2e%2e/ü', '%252e%252e/%C3%BC'],
    ['k=v&q?#', 'k%3Dv%26q%3F%23'],
  ])('%s -> %s', (key, path) => expect(encodeKeyPath(key)).toBe(path));
});
