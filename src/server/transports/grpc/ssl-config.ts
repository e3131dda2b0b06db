import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { invalidArgument } from '../../../shared/errors.js';
import { parseTextFormat } from '../../config/text-format.js';

/** TF Serving's SSLConfig: PEM text itself, not file names. */
export interface SslConfig {
  readonly serverKey: string;
  readonly serverCert: string;
  /** CA bundle that client certificates must chain to; empty: the system's roots. */
  readonly customCa: string;
  /** Refuse clients without a certificate that verifies. */
  readonly clientVerify: boolean;
}

const FIELDS = ['server_key', 'server_cert', 'custom_ca', 'client_verify'];

/**
 * Reads TF Serving's --ssl_config_file (text format):
 *   server_key: "-----BEGIN PRIVATE KEY-----\n..."  server_cert: "..."  custom_ca: "..."  client_verify: true
 * As there, it secures the gRPC port only (REST stays plain HTTP).
 */
export function parseSslConfig(text: string): SslConfig {
  const doc = parseTextFormat(text, 'SSL config');
  const unknown = Object.keys(doc).find((field) => !FIELDS.includes(field));
  if (unknown !== undefined) throw invalidArgument(`SSL config: unsupported field "${unknown.replace(' (repeated)', '')}"; supported: ${FIELDS.join(', ')}`);
  const pemField = (field: string): string => {
    const value = doc[field] ?? '';
    if (typeof value !== 'string') throw invalidArgument(`SSL config: ${field} must be a string of PEM text`);
    return value;
  };
  const serverKey = pemField('server_key');
  const serverCert = pemField('server_cert');
  const customCa = pemField('custom_ca');
  const clientVerify = doc.client_verify ?? false;
  if (typeof clientVerify !== 'boolean') throw invalidArgument('SSL config: client_verify must be true or false');
  for (const [field, value, kind] of [
    ['server_key', serverKey, 'PRIVATE KEY'],
    ['server_cert', serverCert, 'CERTIFICATE'],
  ] as const) {
    if (!value.includes('-----BEGIN ') || !value.includes(kind)) {
      throw invalidArgument(`SSL config: ${field} must hold the PEM text of the ${kind.toLowerCase()} (-----BEGIN ... ${kind}-----), not a file name`);
    }
  }
  if (customCa !== '' && !customCa.includes('-----BEGIN CERTIFICATE-----')) throw invalidArgument('SSL config: custom_ca must hold PEM certificates (-----BEGIN CERTIFICATE-----)');
  // Here rather than when the port is bound: a bad key, or a certificate of another key, stops
  // the server before it loads any model.
  try {
    createSecureContext({ key: serverKey, cert: serverCert, ...(customCa !== '' ? { ca: customCa } : {}) });
  } catch (error) {
    throw invalidArgument(`SSL config: server_key, server_cert or custom_ca is not usable: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { serverKey, serverCert, customCa, clientVerify };
}

/** TLS for the gRPC port as TF Serving sets it up; plain text without a config. */
export function grpcServerCredentials(config: SslConfig | undefined): grpc.ServerCredentials {
  if (config === undefined) return grpc.ServerCredentials.createInsecure();
  const roots = config.customCa === '' ? null : Buffer.from(config.customCa);
  return grpc.ServerCredentials.createSsl(roots, [{ private_key: Buffer.from(config.serverKey), cert_chain: Buffer.from(config.serverCert) }], config.clientVerify);
}
