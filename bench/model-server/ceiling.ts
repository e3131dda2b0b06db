import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CeilingJob, CeilingResult } from './ceiling-process.js';

const CEILING_PROCESS = fileURLToPath(new URL('./ceiling-process.ts', import.meta.url));

/** Runs one ceiling measurement in a fresh process. */
export function measureCeiling(job: CeilingJob): Promise<CeilingResult> {
  return new Promise((resolve, reject) => {
    const child = fork(CEILING_PROCESS, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let settled = false;
    child.once('message', (m: { ok: true; result: CeilingResult } | { ok: false; message: string }) => {
      settled = true;
      if (m.ok) resolve(m.result);
      else reject(new Error(`ceiling process failed: ${m.message}`));
    });
    child.once('exit', (code) => {
      if (!settled) reject(new Error(`ceiling process exited with code ${code}`));
    });
    child.send(job);
  });
}
