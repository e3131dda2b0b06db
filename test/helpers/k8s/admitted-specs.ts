/**
 * ServedModel specs the CRD admits, generated for property tests: built to satisfy its schema and
 * its CEL rules, those between fields included (routing versions among the policy's, at least two
 * versions to route between, A/B percents adding up to 100, allowed batch sizes ending at the
 * maximum, request logging only with an s3:// source). test/integration/operator/crd-validation.test.ts
 * checks a sample of them against a real kube-apiserver.
 */
import fc from 'fast-check';
import type { ServedModelSpec } from '../../../src/api/served-model-types.js';

/** Values the server takes for each flag spec.serverArgs admits (its own checks included). */
const GOOD_SERVER_ARGS = [
  '--inference_threads=2',
  '--inference_thread_niceness=0',
  '--grpc_channel_arguments=grpc.max_concurrent_streams=8',
  '--grpc_prompt_trailers=false',
  '--max_connection_age_seconds=0',
  '--max_request_bytes=1048576',
  '--max_tensor_elements=10',
  '--rest_api_timeout_in_ms=500',
  '--rest_json_threads=0',
  '--rest_api_enable_cors_support=true',
  '--request_log_upload_interval_seconds=60',
  '--enable_serialization_as_tensor_content=true',
  '--max_num_load_retries=0',
  '--load_retry_interval_micros=1000',
  '--num_load_threads=2',
  '--allow_version_labels_for_unavailable_models=true',
  '--shutdown_delay_seconds=0',
  '--shutdown_grace_seconds=5',
  '--s3_path_style=true',
  '--s3_verify_ssl=false',
  '--s3_download_concurrency=4',
  '--s3_part_size_mb=8',
  '--s3_completion_marker=_READY',
  '--log_level=debug',
];

const version = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const duration = (units: readonly string[], max: number): fc.Arbitrary<string> =>
  fc.tuple(fc.integer({ min: 0, max }), fc.constantFrom(...units)).map(([n, unit]) => `${n}${unit}`);

const source = fc.oneof(
  fc.record(
    {
      uri: fc.constantFrom('s3://models/m', 's3://my.bucket-1/a/b/', 's3://abc'),
      endpoint: fc.constantFrom('http://minio:9000', 'https://s3.example.com/base'),
      region: fc.constantFrom('eu-west-1', 'us-east-1'),
      credentialsSecretRef: fc.constant({ name: 's3-creds' }),
      pollInterval: fc.constantFrom('1s', '30s', '1.5m', '1h2m3s'),
      caBundleRef: fc.constant({ name: 'ca', key: 'ca.crt' }),
    },
    { requiredKeys: ['uri'] },
  ),
  fc.record({ uri: fc.constantFrom('pvc://models', 'pvc://team-a.models/mnist/prod/'), pollInterval: fc.constantFrom('10s', '2m') }, { requiredKeys: ['uri'] }),
);

/** A version policy and the versions routing may name under it (CEL: at least two for routing). */
const policy = fc.oneof(
  fc.integer({ min: 1, max: 5 }).map((count) => ({ versionPolicy: { latest: { count } }, versions: undefined as number[] | undefined, routable: count >= 2 })),
  fc.constant({ versionPolicy: { all: {} }, versions: undefined as number[] | undefined, routable: true }),
  fc.uniqueArray(version, { minLength: 1, maxLength: 5 }).map((versions) => ({ versionPolicy: { specific: { versions } }, versions, routable: versions.length >= 2 })),
);

function routingFor(versions: number[] | undefined): fc.Arbitrary<Record<string, unknown>> {
  const pick = versions ? fc.constantFrom(...versions) : version;
  const canary = fc.record({ version: pick, percent: fc.integer({ min: 0, max: 100 }) });
  const abTest = fc
    .tuple(versions ? fc.shuffledSubarray(versions, { minLength: 2, maxLength: 2 }) : fc.uniqueArray(version, { minLength: 2, maxLength: 2 }), fc.integer({ min: 0, max: 100 }), fc.constantFrom('x-user-id', 'session'))
    .map(([[a, b], percent, header]) => ({ key: { header }, variants: [{ version: a, percent }, { version: b, percent: 100 - percent }] }));
  const shadow = fc.record({ version: pick, percent: fc.integer({ min: 0, max: 100 }), tolerance: fc.constantFrom(0, 1e-5, 0.5) }, { requiredKeys: ['version', 'percent'] });
  return fc.oneof(fc.record({ canary, shadow }, { requiredKeys: [] }), fc.record({ abTest, shadow }, { requiredKeys: [] }));
}

const batching = fc
  .record(
    {
      maxBatchSize: fc.integer({ min: 1, max: 1024 }),
      batchTimeout: duration(['us', 'ms', 's'], 10),
      maxEnqueuedBatches: fc.integer({ min: 1, max: 1000 }),
      numBatchThreads: fc.integer({ min: 1, max: 8 }),
      sizes: fc.uniqueArray(fc.integer({ min: 1, max: 1023 }), { maxLength: 4 }),
    },
    { requiredKeys: [] },
  )
  .map(({ sizes, ...rest }) => {
    const max = rest.maxBatchSize ?? 64;
    const below = (sizes ?? []).filter((s) => s < max).sort((a, b) => a - b);
    return sizes !== undefined && sizes.length > 0 ? { ...rest, allowedBatchSizes: [...below, max] } : rest;
  });

const tensorflow = fc.record(
  {
    intraOpParallelism: fc.integer({ min: 0, max: 64 }),
    interOpParallelism: fc.integer({ min: -1, max: 64 }),
    savedModelTags: fc.constantFrom(['serve'], ['serve', 'gpu'], ['train']),
    modelWarmup: fc.boolean(),
    warmupIterations: fc.integer({ min: 1, max: 1000 }),
    signatureMethodNameCheck: fc.boolean(),
  },
  { requiredKeys: [] },
);

/** Specs the CRD admits, built to satisfy its CEL rules (those between fields included). */
export const admittedSpec: fc.Arbitrary<ServedModelSpec> = fc
  .tuple(source, policy)
  .chain(([src, { versionPolicy, versions, routable }]) =>
    fc.record(
      {
        source: fc.constant(src),
        versionPolicy: fc.constant(versionPolicy),
        versionLabels: fc.dictionary(fc.stringMatching(/^[a-zA-Z0-9_]{1,16}$/), versions ? fc.constantFrom(...versions) : version, { maxKeys: 3 }),
        routing: routable ? routingFor(versions) : fc.constant({}),
        batching,
        tensorflow,
        tls: fc.record({ secretName: fc.constant('grpc-tls'), requireClientCertificate: fc.boolean() }, { requiredKeys: ['secretName'] }),
        requestLogging: src.uri.startsWith('s3://') ? fc.record({ uri: fc.constantFrom('s3://logs/requests/m', 's3://logs.bucket/a/b'), samplingRate: fc.double({ min: 0, max: 1, noNaN: true }) }) : fc.constant(undefined),
        serverArgs: fc.subarray(GOOD_SERVER_ARGS),
        replicas: fc.integer({ min: 0, max: 10 }),
      },
      { requiredKeys: ['source', 'versionPolicy'] },
    ),
  )
  .map((spec) => Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)) as unknown as ServedModelSpec);
