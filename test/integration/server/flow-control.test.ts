/**
 * HTTP/2 receive windows of the real server (docs/decisions/0012-http2-flow-control-windows.md):
 * large requests through a proxy that adds network latency grow the windows the server grants
 * (BDP probing), not while inference is saturated, and `--grpc_channel_arguments` sets a fixed
 * window instead. A raw Node HTTP/2 client sends the calls, so the test sees the SETTINGS the
 * server sends.
 */
import http2 from 'node:http2';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadTensorflowServingGrpc } from '../../../src/server/transports/grpc/proto-loader.js';
import { DelayProxy } from '../../helpers/server/delay-proxy.js';
import { tfsClients } from '../../helpers/server/grpc-client.js';
import { fixtureVersionDir } from '../../helpers/server/model-dirs.js';
import { startServer, type ServerProcess } from '../../helpers/server/server-process.js';

const NODE_DEFAULT_WINDOW = 65_535;
const ROWS = 200_000; // tiny's x is [-1, 4] float: a 3.2 MB request, a 2.4 MB answer
const ONE_WAY_DELAY_MS = 5;

const config = `model_config_list:
  - {name: tiny, base_path: ${join(fixtureVersionDir('tiny', 1), '..')}}
  - {name: mnist, base_path: ${join(fixtureVersionDir('mnist', 1), '..')}}
`;
const predict = loadTensorflowServingGrpc().predictionService.Predict!;
const largeRequest = predict.requestSerialize({
  model_spec: { name: 'tiny' },
  inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: String(ROWS) }, { size: '4' }] }, tensor_content: Buffer.alloc(ROWS * 16) } },
});

/** One Predict over a raw HTTP/2 session; returns the grpc-status and the rows of `y`. */
async function rawPredict(session: http2.ClientHttp2Session, request: Buffer): Promise<{ status: string; rows: number }> {
  const frame = Buffer.alloc(5 + request.length);
  frame.writeUInt32BE(request.length, 1);
  request.copy(frame, 5);
  const stream = session.request({ ':method': 'POST', ':path': '/tensorflow.serving.PredictionService/Predict', 'content-type': 'application/grpc', te: 'trailers' });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const trailers = once(stream, 'trailers') as Promise<[http2.IncomingHttpHeaders]>;
  stream.end(frame);
  await once(stream, 'end');
  const [headers] = await trailers;
  const body = Buffer.concat(chunks);
  const response = body.length > 5 ? (predict.responseDeserialize(body.subarray(5)) as { outputs: { y: { tensor_shape: { dim: { size: string }[] } } } }) : undefined;
  return { status: String(headers['grpc-status']), rows: Number(response?.outputs.y.tensor_shape.dim[0]?.size ?? 0) };
}

async function withSession<T>(target: string, use: (session: http2.ClientHttp2Session) => Promise<T>): Promise<T> {
  const session = http2.connect(`http://${target}`);
  session.on('error', () => undefined);
  try {
    await once(session, 'remoteSettings');
    return await use(session);
  } finally {
    session.close();
  }
}

async function largeCalls(session: http2.ClientHttp2Session, count: number): Promise<void> {
  for (let i = 0; i < count; i++) expect(await rawPredict(session, largeRequest)).toEqual({ status: '0', rows: ROWS });
}

describe('by default (BDP probing)', () => {
  let server: ServerProcess;
  let proxy: DelayProxy;

  beforeAll(async () => {
    server = await startServer({ config });
    proxy = await DelayProxy.start(Number(server.grpcTarget.split(':').pop()), ONE_WAY_DELAY_MS);
  });

  afterAll(async () => {
    await proxy?.close();
    if (server) expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  test('large requests over a slow network grow the window the server grants', async () => {
    await withSession(proxy.target, async (session) => {
      expect(session.remoteSettings.initialWindowSize).toBe(NODE_DEFAULT_WINDOW);
      await largeCalls(session, 3);
      expect(session.remoteSettings.initialWindowSize).toBeGreaterThanOrEqual(4 * NODE_DEFAULT_WINDOW);
      // The connection window grows with it (the client may send that much more).
      expect(session.state.remoteWindowSize).toBeGreaterThan(NODE_DEFAULT_WINDOW);
    });
  });

  test('saturated inference takes a grown window back to 64 KiB; once the load stops it grows again', async () => {
    const clients = tfsClients(server.grpcTarget);
    const images = { dtype: 'DT_FLOAT', tensor_shape: { dim: [1000, 28, 28, 1].map((d) => ({ size: String(d) })) }, tensor_content: Buffer.alloc(1000 * 784 * 4, 1) };
    let loading = false;
    let load: Promise<void>[] = [];
    const saturate = async (): Promise<void> => {
      while (loading) await clients.prediction.call('Predict', { model_spec: { name: 'mnist', signature_name: 'predict_images' }, inputs: { images } });
    };
    // Probes back off while nothing changes (100 ms, doubling), so each step calls until it sees
    // the change, up to a limit.
    const callUntil = async (session: http2.ClientHttp2Session, done: () => boolean): Promise<void> => {
      for (let i = 0; i < 20 && !done(); i++) await largeCalls(session, 1);
    };
    try {
      await withSession(proxy.target, async (session) => {
        await callUntil(session, () => (session.remoteSettings.initialWindowSize ?? 0) >= 4 * NODE_DEFAULT_WINDOW);
        expect(session.remoteSettings.initialWindowSize).toBeGreaterThanOrEqual(4 * NODE_DEFAULT_WINDOW);

        loading = true;
        // Six callers keep a call queued at the inference thread even while some are being
        // encoded or uploaded: with three, a CI machine busy with other suites left gaps that
        // dropped the busy share below the gate's 80% and let the windows grow again mid-check.
        load = Array.from({ length: 6 }, saturate);
        await sleep(500);
        await callUntil(session, () => session.remoteSettings.initialWindowSize === NODE_DEFAULT_WINDOW);
        expect(session.remoteSettings.initialWindowSize).toBe(NODE_DEFAULT_WINDOW);
        // The connection goes back to 64 KiB too: what the client may send unacknowledged. HTTP/2
        // cannot take back credit already given, so that shows once the client has used it up.
        await callUntil(session, () => (session.state.remoteWindowSize ?? Infinity) <= NODE_DEFAULT_WINDOW);
        expect(session.state.remoteWindowSize).toBeLessThanOrEqual(NODE_DEFAULT_WINDOW);

        loading = false;
        await Promise.all(load);
        await callUntil(session, () => (session.remoteSettings.initialWindowSize ?? 0) >= 4 * NODE_DEFAULT_WINDOW);
        expect(session.remoteSettings.initialWindowSize).toBeGreaterThanOrEqual(4 * NODE_DEFAULT_WINDOW);
      });
    } finally {
      loading = false;
      await Promise.allSettled(load);
      clients.close();
    }
  });
});

test('grpc.http2.lookahead_bytes with grpc.http2.bdp_probe=0 grants a fixed window from the start', async () => {
  const window = 1 << 20;
  const server = await startServer({ config, args: [`--grpc_channel_arguments=grpc.http2.lookahead_bytes=${window},grpc.http2.bdp_probe=0`] });
  const proxy = await DelayProxy.start(Number(server.grpcTarget.split(':').pop()), ONE_WAY_DELAY_MS);
  try {
    await withSession(proxy.target, async (session) => {
      while (session.remoteSettings.initialWindowSize !== window) await once(session, 'remoteSettings');
      await largeCalls(session, 3);
      expect(session.remoteSettings.initialWindowSize).toBe(window);
    });
  } finally {
    await proxy.close();
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  }
});
