// A lock between processes for one-time setup steps (native TensorFlow, the first compile). Two
// servers started at once in a fresh checkout both found native TensorFlow missing, and one
// relinked tfjs-node's deps/ while the other was loading it: "Command failed ... require(
// '@tensorflow/tfjs-node')" in about one of five tries. Node has no flock, so the lock is a file
// created exclusively, holding the owner's pid; a lock whose owner died is taken over.
import fs from 'node:fs';

/** How long a lock file may stay without a pid before it is taken for abandoned. */
const UNNAMED_GRACE_MS = 10_000;
const POLL_MS = 200;

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function ownerOf(lockPath) {
  try {
    const text = fs.readFileSync(lockPath, 'utf8').trim();
    return { pid: /^\d+$/.test(text) ? Number(text) : undefined, ageMs: Date.now() - fs.statSync(lockPath).mtimeMs };
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function isAbandoned(owner) {
  return owner.pid === undefined ? owner.ageMs > UNNAMED_GRACE_MS : !isAlive(owner.pid);
}

/**
 * Runs `fn` (synchronous) while this process holds the lock at `lockPath`, waiting up to `waitMs`
 * for another holder. `onWait` is told once, with the holder's pid, when the lock is busy.
 */
export function withSetupLock(lockPath, fn, { waitMs = 30 * 60_000, onWait = () => {} } = {}) {
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      const fd = fs.openSync(lockPath, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const owner = ownerOf(lockPath);
    if (owner === undefined) continue; // released meanwhile
    // Read again just before removing, so a lock another waiter has just taken over is left alone.
    if (isAbandoned(owner)) {
      const now = ownerOf(lockPath);
      if (now !== undefined && now.pid === owner.pid && isAbandoned(now)) fs.rmSync(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`${lockPath} has been held by process ${owner.pid ?? '(unknown)'} for over ${Math.round(waitMs / 1000)} s; remove it if no setup is running`);
    }
    if (!told) onWait(owner.pid);
    told = true;
    sleep(POLL_MS);
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockPath, { force: true });
  }
}
