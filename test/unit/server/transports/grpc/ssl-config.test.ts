import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTextFormat } from '../../../../../src/server/config/text-format.js';
import { parseSslConfig } from '../../../../../src/server/transports/grpc/ssl-config.js';
import { FIXTURES_DIR } from '../../../../helpers/server/fixture-tensors.js';

const pem = (name: string): string => readFileSync(join(FIXTURES_DIR, 'tls', `${name}.pem`), 'utf8');
const literal = (text: string): string => JSON.stringify(text);

describe('parseSslConfig', () => {
  it('reads TF Serving\'s SSLConfig fields, with the defaults of an absent custom_ca and client_verify', () => {
    expect(parseSslConfig(`server_key: ${literal(pem('server-key'))}\nserver_cert: ${literal(pem('server'))}\n`)).toEqual({
      serverKey: pem('server-key'),
      serverCert: pem('server'),
      customCa: '',
      clientVerify: false,
    });
    const mutual = parseSslConfig(`server_key: ${literal(pem('server-key'))} server_cert: ${literal(pem('server'))} custom_ca: ${literal(pem('ca'))} client_verify: true`);
    expect(mutual).toMatchObject({ customCa: pem('ca'), clientVerify: true });
  });

  it.each([
    ['no key', `server_cert: ${literal(pem('server'))}`, /server_key must hold the PEM text of the private key/],
    ['a certificate where the key belongs', `server_key: ${literal(pem('server'))} server_cert: ${literal(pem('server'))}`, /server_key must hold the PEM text of the private key/],
    ['a path where the certificate belongs', `server_key: ${literal(pem('server-key'))} server_cert: "/tls/cert.pem"`, /server_cert must hold the PEM text of the certificate .*not a file name/],
    ['a key that does not match the certificate', `server_key: ${literal(pem('client-key'))} server_cert: ${literal(pem('server'))}`, /not usable: .*key values mismatch/],
    ['a custom_ca that is not PEM', `server_key: ${literal(pem('server-key'))} server_cert: ${literal(pem('server'))} custom_ca: "ca.pem"`, /custom_ca must hold PEM certificates/],
    ['client_verify as a string', `server_key: ${literal(pem('server-key'))} server_cert: ${literal(pem('server'))} client_verify: "yes"`, /client_verify must be true or false/],
    ['an unknown field', 'server_key_file: "k"', /unsupported field "server_key_file"/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseSslConfig(text)).toThrowError(message);
  });
});

describe('text format strings', () => {
  it('joins adjacent literals into one string, as protobuf text format does', () => {
    expect(parseTextFormat('a: "x\\n"\n  "y" \'z\'\nb: "w"', 'test')).toEqual({ a: 'x\nyz', b: 'w' });
  });
});
