import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { experimental } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { invalidArgument } from '../../../shared/errors.js';

type CertificateProvider = experimental.CertificateProvider;
type IdentityListener = Parameters<CertificateProvider['addIdentityCertificateListener']>[0];
type CaListener = Parameters<CertificateProvider['addCaCertificateListener']>[0];

/** PEM files of the gRPC port's TLS, e.g. a Kubernetes TLS Secret mounted as files. */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** Client certificates must chain to these CAs; unset: no client certificates asked. */
  readonly clientCaFile?: string | undefined;
}

interface Loaded {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | undefined;
}

/**
 * Serves the gRPC port's certificate from files and follows their rotation (cert-manager renews,
 * the kubelet swaps the mounted Secret): every `reloadMs` the files are read again, and a changed
 * set that makes a usable TLS context replaces the old one for new connections. A set that does
 * not (a key of another certificate, a half-written file) is logged and the previous one kept,
 * so a bad rotation never takes the port down. The first read must succeed.
 */
export class TlsFilesWatcher implements CertificateProvider {
  private loaded: Loaded | undefined;
  private readonly identityListeners = new Set<IdentityListener>();
  private readonly caListeners = new Set<CaListener>();
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly files: TlsFiles,
    private readonly logger: Logger,
    private readonly onExpiry: (validTo: Date) => void,
  ) {}

  static async start(files: TlsFiles, reloadMs: number, logger: Logger, onExpiry: (validTo: Date) => void = () => undefined): Promise<TlsFilesWatcher> {
    const watcher = new TlsFilesWatcher(files, logger, onExpiry);
    const first = await watcher.read();
    watcher.use(first);
    logger.info({ ...watcher.describe(first), clientCertificates: files.clientCaFile !== undefined }, 'serving gRPC over TLS');
    watcher.timer = setInterval(() => void watcher.reload(), reloadMs).unref();
    return watcher;
  }

  /** Reads the files again; replaces the certificate when they changed and are usable. */
  async reload(): Promise<void> {
    let next: Loaded;
    try {
      next = await this.read();
    } catch (error) {
      this.logger.warn({ err: error }, 'kept the previous TLS certificate: the files could not be used');
      return;
    }
    const last = this.loaded;
    if (last && sameFiles(last, next)) return;
    this.use(next);
    this.logger.info(this.describe(next), 'reloaded the TLS certificate');
  }

  close(): void {
    clearInterval(this.timer);
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener);
    // Later, not now: grpc-js registers the server's watcher only after adding its listeners, and
    // would never see a value handed over at once (its port would drop every connection).
    queueMicrotask(() => {
      if (this.loaded && this.identityListeners.has(listener)) listener({ certificate: this.loaded.cert, privateKey: this.loaded.key });
    });
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener);
  }

  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener);
    queueMicrotask(() => {
      if (this.loaded?.ca && this.caListeners.has(listener)) listener({ caCertificate: this.loaded.ca });
    });
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener);
  }

  private use(loaded: Loaded): void {
    this.loaded = loaded;
    this.onExpiry(new Date(new X509Certificate(loaded.cert).validTo));
    for (const listener of this.identityListeners) listener({ certificate: loaded.cert, privateKey: loaded.key });
    if (loaded.ca) for (const listener of this.caListeners) listener({ caCertificate: loaded.ca });
  }

  private describe(loaded: Loaded): Record<string, unknown> {
    const cert = new X509Certificate(loaded.cert);
    return { certFile: this.files.certFile, subject: cert.subject, validTo: new Date(cert.validTo).toISOString() };
  }

  /** The three files, checked together: they must make a TLS context. */
  private async read(): Promise<Loaded> {
    const { certFile, keyFile, clientCaFile } = this.files;
    const readOne = (flag: string, path: string): Promise<Buffer> =>
      readFile(path).catch((error: unknown) => {
        throw invalidArgument(`cannot read --${flag} ${path}: ${String(error)}`);
      });
    const [cert, key, ca] = await Promise.all([
      readOne('grpc_tls_cert_file', certFile),
      readOne('grpc_tls_key_file', keyFile),
      clientCaFile === undefined ? undefined : readOne('grpc_tls_client_ca_file', clientCaFile),
    ]);
    try {
      createSecureContext({ cert, key, ...(ca ? { ca } : {}) });
      new X509Certificate(cert);
    } catch (error) {
      throw invalidArgument(`TLS files ${[certFile, keyFile, clientCaFile].filter(Boolean).join(', ')} are not usable: ${error instanceof Error ? error.message : String(error)}`);
    }
    return { cert, key, ca };
  }
}

function sameFiles(a: Loaded, b: Loaded): boolean {
  const sameCa = a.ca === undefined || b.ca === undefined ? a.ca === b.ca : a.ca.equals(b.ca);
  return a.cert.equals(b.cert) && a.key.equals(b.key) && sameCa;
}
