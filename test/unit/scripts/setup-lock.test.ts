/**
 * The lock that keeps one-time setup steps (native TensorFlow, the first compile) from running
 * twice at once, exercised by real processes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/server/build-check.js';

const LOCK_MODULE = join(REPO_ROOT, 'scripts/native-tf/setup-lock.mjs');
const { withSetupLock } = (await import(LOCK_MODULE)) as { withSetupLock: (path: string, fn: () => unknown, options?: { waitMs?: number; onWait?: (pid?: number) => void }) => unknown };

let dir: string;
let lock: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'setup-lock-'));
  lock = join(dir, 'setup.lock');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A process that, under the lock, writes "in" and "out" lines to `log` with a pause between. */
function holder(log: string): Promise<number | null> {
  const script = `
    import { appendFileSync } from 'node:fs';
    import { withSetupLock } from ${JSON.stringify(LOCK_MODULE)};
    withSetupLock(${JSON.stringify(lock)}, () => {
      appendFileSync(${JSON.stringify(log)}, 'in ' + process.pid + '\\n');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 150);
      appendFileSync(${JSON.stringify(log)}, 'out ' + process.pid + '\\n');
    });`;
  return new Promise((resolve) => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' }).on('exit', resolve));
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('withSetupLock', () => {
  it('lets one process at a time in: four started at once never overlap', async () => {
    const log = join(dir, 'log');
    expect(await Promise.all([holder(log), holder(log), holder(log), holder(log)])).toEqual([0, 0, 0, 0]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(8);
    for (let i = 0; i < lines.length; i += 2) {
      const pid = lines[i]!.split(' ')[1];
      expect([lines[i], lines[i + 1]]).toEqual([`in ${pid}`, `out ${pid}`]);
    }
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock whose process has died', () => {
    writeFileSync(lock, String(deadPid()));
    expect(withSetupLock(lock, () => 'ran', { waitMs: 0 })).toBe('ran');
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock left without a pid once it is old, and waits for a fresh one', () => {
    writeFileSync(lock, '');
    expect(() => withSetupLock(lock, () => 'ran', { waitMs: 300 })).toThrowError(/held by process \(unknown\)/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    expect(withSetupLock(lock, () => 'ran', { waitMs: 0 })).toBe('ran');
  });

  it('waits for a live holder, says so once, and gives up after the wait with a message naming the lock', () => {
    writeFileSync(lock, String(process.pid));
    const waits: unknown[] = [];
    expect(() => withSetupLock(lock, () => 'ran', { waitMs: 500, onWait: (pid) => waits.push(pid) })).toThrowError(
      new RegExp(`${lock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has been held by process ${process.pid} .*remove it if no setup is running`),
    );
    expect(waits).toEqual([process.pid]);
    expect(readFileSync(lock, 'utf8')).toBe(String(process.pid));
  });

  it('releases the lock when the step throws', () => {
    expect(() =>
      withSetupLock(lock, () => {
        throw new Error('the step failed');
      }),
    ).toThrowError('the step failed');
    expect(existsSync(lock)).toBe(false);
  });
});
