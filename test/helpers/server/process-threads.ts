import { readFileSync, readdirSync } from 'node:fs';

/** id, name and nice value of every thread of a process, from /proc (Linux). */
export function processThreads(pid: number): { tid: number; comm: string; nice: number }[] {
  if (process.platform !== 'linux') throw new Error('this reads /proc: run it on Linux');
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the parenthesised name; nice is field 19 overall, the 17th after it.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    return { tid: Number(tid), comm: stat.slice(stat.indexOf('(') + 1, close), nice: Number(fields[16]) };
  });
}
