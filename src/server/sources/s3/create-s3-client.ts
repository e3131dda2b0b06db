import { S3Client } from '@aws-sdk/client-s3';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as delay } from 'node:timers/promises';
import { CaBundle, CaBundleAgent } from './ca-bundle.js';
import { fileCredentialsProvider } from './file-credentials.js';
import { HttpObjectGetter, sdkBucketResolver } from './http-object-getter.js';
import { proxyAgents } from './proxy-agents.js';
import { attachObjectGetter, objectGetterFor, sdkObjectGetter } from './object-getter.js';
import { attachObjectLister, sdkObjectLister } from './object-lister.js';
import type { S3Settings } from './s3-settings.js';

/**
 * Builds the one S3 client of the process (model-server assembly calls this, once), and next to
 * it the lean object getter the source downloads and lists with (same agents, endpoint rules and
 * credentials; see http-object-getter.ts), unless `settings.sdkGet` asks for the SDK's GetObject
 * and ListObjectsV2.
 */
export function createS3Client(
  settings: S3Settings,
  now: () => number,
  sleep: (ms: number, signal: AbortSignal) => Promise<void> = (ms, signal) => delay(ms, undefined, { signal }),
  /** Told when the CA bundle file was read again after a change, or could not be. */
  onCaBundleChange: (problem: string | undefined) => void = () => {},
): S3Client {
  const bundle = settings.caFile !== undefined ? new CaBundle(settings.caFile, now, onCaBundleChange) : undefined;
  // Enough sockets for every GET in flight plus listings; keep-alive saves a handshake per object.
  const agentOptions = { keepAlive: true, maxSockets: settings.concurrency + 4 };
  const rejectUnauthorized = settings.verifyTls;
  // Through a proxy: CONNECT tunnels for https (TLS to the store inside them), absolute-form requests for http.
  const { proxy } = settings;
  const { httpAgent, httpsAgent } =
    proxy !== undefined
      ? proxyAgents(proxy, agentOptions, () => ({ ...(bundle !== undefined ? { ca: bundle.current() } : {}), rejectUnauthorized }))
      : {
          httpAgent: new http.Agent(agentOptions),
          httpsAgent: bundle !== undefined ? new CaBundleAgent({ ...agentOptions, rejectUnauthorized }, bundle) : new https.Agent({ ...agentOptions, rejectUnauthorized }),
        };
  const client = new S3Client({
    region: settings.region,
    ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    ...(settings.credentialsDir !== undefined ? { credentials: fileCredentialsProvider(settings.credentialsDir, now) } : {}),
    requestHandler: {
      httpAgent,
      httpsAgent,
      ...(settings.connectTimeoutMs !== undefined ? { connectionTimeout: settings.connectTimeoutMs } : {}),
      ...(settings.requestTimeoutMs !== undefined ? { requestTimeout: settings.requestTimeoutMs } : {}),
    },
    // Integrity comes from If-Match on the listed ETag plus exact sizes; the SDK's own CRC of
    // every body (pure JS) would cost more CPU than the download itself.
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
  if (!settings.sdkGet) {
    const getter = new HttpObjectGetter({
      resolveBucket: sdkBucketResolver(client, settings),
      credentials: () => client.config.credentials(),
      httpAgent,
      httpsAgent,
      // RawHttpClient speaks only to the store itself.
      direct: proxy === undefined,
      fallback: sdkObjectGetter(client),
      fallbackLister: sdkObjectLister(client),
      now,
      sleep,
      connectTimeoutMs: settings.connectTimeoutMs,
      requestTimeoutMs: settings.requestTimeoutMs,
    });
    attachObjectGetter(client, getter);
    attachObjectLister(client, getter);
  }
  return client;
}

/** Closes what createS3Client opened: the getter's idle connections and the SDK client's agents. */
export function closeS3Client(client: S3Client): void {
  objectGetterFor(client).close?.();
  client.destroy();
}
