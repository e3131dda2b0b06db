/**
 * Triton's perf_analyzer, the load tool Triton and KServe users benchmark servers with, run
 * unmodified against the real server: over the Open Inference Protocol (REST and gRPC; it reads
 * the model's metadata and Triton's model config first, and the server's statistics around each
 * measurement) and in its TF Serving mode (gRPC Predict and GetModelMetadata). It exits non-zero
 * when any request fails.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type TfsClients } from '../../helpers/server/grpc-client.js';
import { perfAnalyzerPath, runPerfAnalyzer } from '../../helpers/server/perf-analyzer.js';
import { startFixtureServer } from '../../helpers/server/fixture-server.js';
import { type ServerProcess } from '../../helpers/server/server-process.js';

// perf_analyzer's binary is for Linux x86_64; elsewhere this documented variable skips the file.
const skipped = process.env.TENSORFLEET_SKIP_PERF_ANALYZER_TESTS === '1';
let launcher: string;

beforeAll(async () => {
  if (!skipped) launcher = await perfAnalyzerPath();
}, 900_000);

describe.skipIf(skipped).each([
  ['with --enable_batching', ['--enable_batching'], ['-b', '4']],
  // No batching: the config's max_batch_size is 0, so the tool takes full shapes.
  ['without batching', [], ['--shape', 'x:1,4']],
])('perf_analyzer against the server %s', (_case, serverArgs, batchArgs) => {
  let server: ServerProcess;
  let clients: TfsClients;

  beforeAll(async () => {
    ({ server, clients } = await startFixtureServer({ args: serverArgs }));
  });

  afterAll(async () => {
    clients?.close();
    if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  test.each([
    ['Open Inference Protocol over gRPC', () => ['-i', 'grpc', '-u', server.grpcTarget]],
    ['Open Inference Protocol over REST', () => ['-i', 'http', '-u', new URL(server.restUrl).host]],
  ])('%s, with the server-side split from its statistics', async (_protocol, target) => {
    const result = await runPerfAnalyzer(launcher, ['-m', 'tiny', ...batchArgs, ...target()]);
    expect(result.code, result.output).toBe(0);
    expect(result.throughput, result.output).toBeGreaterThan(0);
    expect(result.server, result.output).toBeDefined();
    expect(result.server!.requests, result.output).toBeGreaterThan(0);
    // Batched executions serve one or more requests each; unbatched, one each.
    if (serverArgs.length === 0) expect(result.server!.executions, result.output).toBe(result.server!.requests);
    else expect(result.server!.executions, result.output).toBeLessThanOrEqual(result.server!.requests);
  });

  test('TF Serving mode over gRPC', async () => {
    const result = await runPerfAnalyzer(launcher, ['--service-kind', 'tfserving', '-m', 'tiny', '-b', '2', '-i', 'grpc', '-u', server.grpcTarget]);
    expect(result.code, result.output).toBe(0);
    expect(result.throughput, result.output).toBeGreaterThan(0);
  });
});
