import { describe, expect, it } from 'vitest';
import { proxyFor } from '../../../../../src/server/sources/s3/proxy-for.js';

const P = 'http://proxy.corp:3128';

describe('proxyFor', () => {
  it.each([
    ['https://s3.eu-west-1.amazonaws.com', { HTTPS_PROXY: P }, P],
    ['https://s3.eu-west-1.amazonaws.com', { https_proxy: 'proxy.corp:3128', HTTPS_PROXY: 'http://other:1' }, P],
    ['https://s3.eu-west-1.amazonaws.com', { HTTP_PROXY: P }, undefined],
    ['http://minio.ml:9000', { HTTP_PROXY: P }, P],
    ['https://s3.eu-west-1.amazonaws.com', { HTTPS_PROXY: P, NO_PROXY: '.amazonaws.com' }, undefined],
    ['https://s3.eu-west-1.amazonaws.com', { HTTPS_PROXY: P, NO_PROXY: '*.amazonaws.com' }, undefined],
    ['https://s3.eu-west-1.amazonaws.com', { HTTPS_PROXY: P, no_proxy: 'localhost, amazonaws.com' }, undefined],
    ['https://notamazonaws.com', { HTTPS_PROXY: P, NO_PROXY: 'amazonaws.com' }, P],
    ['http://minio.ml.svc:9000', { HTTP_PROXY: P, NO_PROXY: 'svc:9000' }, undefined],
    ['http://minio.ml.svc:9001', { HTTP_PROXY: P, NO_PROXY: 'svc:9000' }, P],
    ['http://10.0.0.5:9000', { HTTP_PROXY: P, NO_PROXY: '10.0.0.5' }, undefined],
    ['http://10.0.0.5:9000', { HTTP_PROXY: P, NO_PROXY: '0.0.5' }, P],
    ['http://[fd00::5]:9000', { HTTP_PROXY: P, NO_PROXY: '[fd00::5]:9000' }, undefined],
    ['http://[fd00::5]:9000', { HTTP_PROXY: P, NO_PROXY: 'fd00::5' }, undefined],
    ['http://10.96.4.7:9000', { HTTP_PROXY: P, NO_PROXY: 'localhost,10.0.0.0/8' }, undefined],
    ['http://11.96.4.7:9000', { HTTP_PROXY: P, NO_PROXY: '10.0.0.0/8' }, P],
    ['http://[fd00::5]:9000', { HTTP_PROXY: P, NO_PROXY: 'fd00::/8' }, undefined],
    ['http://minio.ml:9000', { HTTP_PROXY: P, NO_PROXY: '10.0.0.0/8' }, P],
    ['http://10.0.0.1', { HTTP_PROXY: P, NO_PROXY: '10.0.0.0/99' }, P],
    ['https://anything', { HTTPS_PROXY: P, NO_PROXY: '*' }, undefined],
    ['https://anything', { HTTPS_PROXY: '  ' }, undefined],
  ])('%s with %j: %s', (url, env, expected) => {
    expect(proxyFor(new URL(url), env)).toBe(expected);
  });
});
