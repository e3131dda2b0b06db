import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { threadEnvOfThisProcess } from '../../src/server/servables/tensorflow/thread-env.js';
import type { CeilingJob, CeilingResult } from './ceiling-process.js';

const CEILING_PROCESS = fileURLToPath(new URL('./ceiling-process.ts', import.meta.url));

/**
 * Runs one ceiling measurement in a fresh process, with the TensorFlow thread settings `serve`
 * would choose here (`opsInline`: as with `--tensorflow_inter_op_parallelism=-1`).
 */
export function measureCeiling(job: CeilingJob, opsInline: boolean): Promise<CeilingResult> {
  const env = { ...process.env, ...threadEnvOfThisProcess({ tensorflow_intra_op_parallelism: 0, tensorflow_inter_op_parallelism: opsInline ? -1 : 0 }) };
  return new Promise((resolve, reject) => {
    const child = fork(CEILING_PROCESS, [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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
