import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { SslConfig } from './ssl-config.js';
import { grpcServerCredentials } from './ssl-config.js';
import { TlsFilesWatcher, type TlsFiles } from './tls-files.js';

export interface GrpcTransportSecurity {
  readonly credentials: grpc.ServerCredentials;
  /** Stops following the TLS files, if any. */
  close(): void;
}

/**
 * The gRPC port's credentials: TF Serving's SSL config (PEM text, fixed for the process), TLS
 * files that are followed as they rotate, or plain text.
 */
export async function grpcTransportSecurity(
  sslConfig: SslConfig | undefined,
  tlsFiles: (TlsFiles & { readonly reloadMs: number }) | undefined,
  logger: Logger,
  onCertificateExpiry: (validTo: Date) => void,
): Promise<GrpcTransportSecurity> {
  if (!tlsFiles) return { credentials: grpcServerCredentials(sslConfig), close: () => undefined };
  const watcher = await TlsFilesWatcher.start(tlsFiles, tlsFiles.reloadMs, logger, onCertificateExpiry);
  const mutual = tlsFiles.clientCaFile !== undefined;
  // grpc-js takes the identity provider first, then the CA provider (its .d.ts names them the other way round).
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(watcher, mutual ? watcher : null, mutual);
  return { credentials, close: () => watcher.close() };
}
