/**
 * `--tensorflow_inter_op_parallelism=-1`: TensorFlow runs every op on the inference thread itself.
 * Every fixture still matches Python TensorFlow, and TensorFlow's inter-op pool (its threads are
 * named tf_Compute) does no work at all, which it does by default (hand-offs of every op).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { fixturePredictJobs, runConcurrently } from '../../helpers/server/fixture-predict-jobs.js';
import { type TfsClients } from '../../helpers/server/grpc-client.js';
import { type ServerProcess } from '../../helpers/server/server-process.js';
import { startFixtureServer } from '../../helpers/server/fixture-server.js';

let server: ServerProcess;
let clients: TfsClients;

beforeAll(async () => {
  ({ server, clients } = await startFixtureServer({ args: ['--tensorflow_inter_op_parallelism=-1'] }));
});

afterAll(async () => {
  clients?.close();
  if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
});

/** CPU ticks (user + system) used so far by the threads of `pid` whose name is `name`, and how many there are. */
function threadTicks(pid: number, name: string): { threads: number; ticks: number } {
  let threads = 0;
  let ticks = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    if (readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim() !== name) continue;
    // Fields after the parenthesized name: state is the 3rd field, utime and stime the 14th and 15th.
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    threads++;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return { threads, ticks };
}

test('the server logs that ops run inline', async () => {
  const line = await server.waitForLog((l) => l.msg === 'tensorflow thread pools');
  expect(line).toMatchObject({ interOp: 'inline' });
});

test('every fixture matches Python TensorFlow with ops inline', async () => {
  expect(await runConcurrently(fixturePredictJobs(clients), 3)).toEqual([]);
});

test("TensorFlow's inter-op pool stays idle through thousands of calls", async () => {
  const x = { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }] }, float_val: [2] };
  // By default these calls cost the tf_Compute threads ~30 µs each: dozens of clock ticks in all.
  const callers = Array.from({ length: 16 }, async () => {
    for (let i = 0; i < 250; i++) await clients.prediction.call('Predict', { model_spec: { name: 'versioned' }, inputs: { x } });
  });
  await Promise.all(callers);
  const pool = threadTicks(server.pid, 'tf_Compute');
  expect(pool.threads).toBeGreaterThan(0);
  expect(pool.ticks).toBe(0);
});
