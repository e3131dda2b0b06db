import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { CA_BUNDLE_CHECK_MS, CaBundle } from '../../../../../src/server/sources/s3/ca-bundle.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function bundleFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tensorfleet-ca-'));
  dirs.push(dir);
  const file = join(dir, 'ca.crt');
  writeFileSync(file, content);
  return file;
}

describe('CaBundle', () => {
  it('trusts the system roots plus the file, and reads the file again once it changed and the check interval passed', () => {
    const file = bundleFile('FIRST');
    let now = 0;
    const changes: (string | undefined)[] = [];
    const bundle = new CaBundle(file, () => now, (problem) => changes.push(problem));
    expect(bundle.current()).toEqual([...rootCertificates, 'FIRST']);
    // As a ConfigMap volume updates: a new file swapped in.
    writeFileSync(`${file}.new`, 'SECOND, LONGER');
    renameSync(`${file}.new`, file);
    now = CA_BUNDLE_CHECK_MS - 1;
    expect(bundle.current().at(-1)).toBe('FIRST');
    now = CA_BUNDLE_CHECK_MS;
    expect(bundle.current().at(-1)).toBe('SECOND, LONGER');
    expect(changes).toEqual([undefined]);
    // Unchanged: no new read, no news.
    now += CA_BUNDLE_CHECK_MS;
    expect(bundle.current().at(-1)).toBe('SECOND, LONGER');
    expect(changes).toEqual([undefined]);
  });

  it('keeps the last good bundle when the file goes away, and says so', () => {
    const file = bundleFile('GOOD');
    let now = 0;
    const changes: (string | undefined)[] = [];
    const bundle = new CaBundle(file, () => now, (problem) => changes.push(problem));
    rmSync(file);
    now = CA_BUNDLE_CHECK_MS;
    expect(bundle.current().at(-1)).toBe('GOOD');
    expect(changes).toEqual([expect.stringMatching(/cannot read the S3 CA bundle .*ca\.crt \(ENOENT\); still trusting the one read before/)]);
  });

  it('refuses a file it cannot read at start', () => {
    expect(() => new CaBundle('/nonexistent/ca.crt', () => 0)).toThrowError(/cannot read the S3 CA bundle \/nonexistent\/ca\.crt: ENOENT/);
  });
});
