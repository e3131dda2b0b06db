import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TlsFilesWatcher } from '../../../../../src/server/transports/grpc/tls-files.js';
import { FIXTURES_DIR } from '../../../../helpers/server/fixture-tensors.js';

const fixture = (name: string): string => join(FIXTURES_DIR, 'tls', `${name}.pem`);

describe('TlsFilesWatcher', () => {
  let dir: string;
  let watcher: TlsFilesWatcher | undefined;
  const logged: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as { level: number; msg: string }) });
  const files = (): { certFile: string; keyFile: string; clientCaFile: string } => ({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), clientCaFile: join(dir, 'ca.crt') });
  const install = (server: 'server' | 'rotated-server', key: 'server' | 'rotated-server' = server): void => {
    copyFileSync(fixture(server), files().certFile);
    copyFileSync(fixture(`${key}-key`), files().keyFile);
  };
  const identities: string[] = [];
  const listen = (w: TlsFilesWatcher): void => w.addIdentityCertificateListener((update) => identities.push(update ? update.certificate.toString() : 'null'));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tensorfleet-tls-files-'));
    copyFileSync(fixture('ca'), files().clientCaFile);
    logged.length = 0;
    identities.length = 0;
  });
  afterEach(() => {
    watcher?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands the certificate to listeners, and the CA when client certificates are asked', async () => {
    install('server');
    const expiries: Date[] = [];
    watcher = await TlsFilesWatcher.start(files(), 60_000, logger, (validTo) => expiries.push(validTo));
    listen(watcher);
    const cas: string[] = [];
    watcher.addCaCertificateListener((update) => cas.push(update ? update.caCertificate.toString() : 'null'));
    // Handed over after the caller's turn: grpc-js adds its listeners before its watcher.
    expect(identities).toEqual([]);
    await Promise.resolve();
    expect(identities).toEqual([readFileSync(fixture('server'), 'utf8')]);
    expect(cas).toEqual([readFileSync(fixture('ca'), 'utf8')]);
    expect(expiries[0]!.getTime()).toBeGreaterThan(Date.now() + 50 * 365 * 86_400_000);
    expect(logged.map((l) => l.msg)).toEqual(['serving gRPC over TLS']);
  });

  it('replaces the certificate when the files change, and only then', async () => {
    install('server');
    watcher = await TlsFilesWatcher.start(files(), 60_000, logger);
    listen(watcher);
    await watcher.reload();
    expect(identities).toHaveLength(1);
    install('rotated-server');
    await watcher.reload();
    expect(identities).toEqual([readFileSync(fixture('server'), 'utf8'), readFileSync(fixture('rotated-server'), 'utf8')]);
    expect(logged.at(-1)).toMatchObject({ msg: 'reloaded the TLS certificate' });
  });

  it('keeps the previous certificate when the new files do not make a usable pair', async () => {
    install('server');
    watcher = await TlsFilesWatcher.start(files(), 60_000, logger);
    listen(watcher);
    install('rotated-server', 'server');
    await watcher.reload();
    writeFileSync(files().certFile, '-----BEGIN CERTIFICATE-----\nhalf');
    await watcher.reload();
    rmSync(files().keyFile);
    await watcher.reload();
    expect(identities).toHaveLength(1);
    expect(logged.filter((l) => l.level === 40).map((l) => l.msg)).toEqual(Array.from({ length: 3 }, () => 'kept the previous TLS certificate: the files could not be used'));
  });

  it('refuses to start on files it cannot use, naming them', async () => {
    install('rotated-server', 'server');
    await expect(TlsFilesWatcher.start(files(), 60_000, logger)).rejects.toThrow(/TLS files .*tls\.crt, .*tls\.key, .*ca\.crt are not usable: .*key values mismatch/);
    await expect(TlsFilesWatcher.start({ certFile: join(dir, 'nope.crt'), keyFile: files().keyFile }, 60_000, logger)).rejects.toThrow(/cannot read --grpc_tls_cert_file .*nope\.crt/);
  });
});
