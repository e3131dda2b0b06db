import { readFileSync, statSync } from 'node:fs';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { rootCertificates } from 'node:tls';
import { ServingError } from '../../../shared/errors.js';

/** How often, at most, a new TLS connection looks whether the bundle file changed. */
export const CA_BUNDLE_CHECK_MS = 10_000;

/**
 * The CAs S3 connections trust: the system roots plus a PEM bundle file, read again when the file
 * changes. trust-manager and cert-manager rotate CAs in place (a ConfigMap volume swaps its
 * files), so a server must not need a restart to trust a new store certificate. The file is
 * looked at lazily, when a connection is made and at most every CA_BUNDLE_CHECK_MS: connections
 * made after a rotation trust the new bundle; open ones, already verified, stay.
 */
export class CaBundle {
  private cas: string[];
  private signature: string;
  private checkedAt: number;

  /** Reads the bundle once; a file that cannot be read stops the server at start. */
  constructor(
    private readonly file: string,
    private readonly now: () => number,
    private readonly onChange: (problem: string | undefined) => void = () => {},
  ) {
    let first: { signature: string; cas: string[] };
    try {
      first = read(file);
    } catch (error) {
      throw new ServingError('INVALID_ARGUMENT', `cannot read the S3 CA bundle ${file}: ${errorCode(error)}`);
    }
    this.signature = first.signature;
    this.cas = first.cas;
    this.checkedAt = now();
  }

  /** The CAs to trust now. A bundle that became unreadable keeps the last good one. */
  current(): string[] {
    const now = this.now();
    if (now - this.checkedAt < CA_BUNDLE_CHECK_MS) return this.cas;
    this.checkedAt = now;
    try {
      if (signatureOf(this.file) !== this.signature) {
        ({ signature: this.signature, cas: this.cas } = read(this.file));
        this.onChange(undefined);
      }
    } catch (error) {
      this.onChange(`cannot read the S3 CA bundle ${this.file} (${errorCode(error)}); still trusting the one read before`);
    }
    return this.cas;
  }
}

function read(file: string): { signature: string; cas: string[] } {
  return { signature: signatureOf(file), cas: [...rootCertificates, readFileSync(file, 'utf8')] };
}

const errorCode = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? String(error);

/** What changes when the file is replaced or rewritten (a ConfigMap update replaces it via a symlink). */
function signatureOf(file: string): string {
  const stat = statSync(file);
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
}

/** An https.Agent whose new connections trust the bundle's CAs as they are at that moment. */
export class CaBundleAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly bundle: CaBundle,
  ) {
    super(options);
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return super.createConnection({ ...options, ca: this.bundle.current() }, callback);
  }
}
