/**
 * The one source of truth for the ServedModel schema. `scripts/k8s/gen-crd.ts` renders
 * `servedModelCrd()` into `crds/servedmodel.yaml`; a unit test fails when the committed YAML
 * drifts from it.
 *
 * CEL rules reject what the model server would refuse later, so a bad manifest fails at
 * `kubectl apply` with a message a person understands. Every list, map and string a rule walks
 * is bounded (maxItems/maxProperties/maxLength) to keep the rules under the apiserver's cost
 * budget.
 */
import { BATCHING_DEFAULTS, CONDITION_MESSAGE_MAX_LENGTH, DEFAULT_CA_BUNDLE_KEY, DEFAULT_TARGET_CPU_UTILIZATION, OPERATOR_ENV_NAMES, SERVER_ARGS_ALLOWED, GROUP, KIND, PLURAL, SHORT_NAME, SINGULAR, VERSION } from './served-model-types.js';

type Schema = Record<string, unknown>;

const MAX_VERSIONS = 64;
const MAX_LABELS = 32;
const MAX_VARIANTS = 16;
const MAX_ALLOWED_BATCH_SIZES = 64;
const MAX_TENSORFLOW_THREADS = 1024;
const INT32_MAX = 2 ** 31 - 1;

/**
 * Versions are int64 in TF Serving, but the operator and the model server read them as JSON
 * numbers: above 2^53 - 1 they would round to another version (the server refuses those).
 */
const version = (description: string): Schema => ({
  type: 'integer',
  format: 'int64',
  minimum: 0,
  maximum: Number.MAX_SAFE_INTEGER,
  description: `${description} At most 9007199254740991 (2^53 - 1).`,
});

const percent = (description: string): Schema => ({
  type: 'number',
  minimum: 0,
  maximum: 100,
  description,
});

/** A resource.Quantity that is not negative: resource amounts and sizes (the apiserver refuses negative ones on the Deployment). */
const quantity: Schema = {
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  minimum: 0,
  pattern: '^\\+?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
};

const resourceList: Schema = {
  type: 'object',
  maxProperties: 16,
  additionalProperties: quantity,
};

const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const sourceSchema: Schema = {
  type: 'object',
  description: 'Where the model versions live: numeric child directories of the prefix are versions.',
  required: ['uri'],
  properties: {
    uri: {
      type: 'string',
      maxLength: 1024,
      description:
        's3://bucket/prefix, or pvc://claim/path on a PersistentVolumeClaim in the same namespace (mounted read-only), ' +
        'holding 1/, 2/, ... SavedModel directories.',
      'x-kubernetes-validations': [
        {
          rule:
            "self.matches('^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$') || (" +
            "self.matches('^pvc://[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?(/[^/]+)*/?$') && " +
            "!self.contains('/./') && !self.contains('/../') && !self.endsWith('/.') && !self.endsWith('/..'))",
          message:
            'source.uri must be s3://bucket/prefix (a bucket of 3-63 lowercase letters, digits, dots or dashes) or ' +
            'pvc://claim/path (a PersistentVolumeClaim name, then a path without empty, "." or ".." segments)',
        },
      ],
    },
    endpoint: {
      type: 'string',
      maxLength: 1024,
      description: 'S3-compatible endpoint URL, e.g. http://minio.ml:9000. Default: AWS S3.',
      'x-kubernetes-validations': [
        {
          rule: "self.matches('^https?://[^\\\\s/]+(/.*)?$')",
          message: 'source.endpoint must be an http:// or https:// URL',
        },
      ],
    },
    region: { type: 'string', maxLength: 64, description: 'S3 region (AWS_REGION).' },
    credentialsSecretRef: {
      type: 'object',
      description: 'Secret in the same namespace with keys accessKeyId, secretAccessKey and optional sessionToken. Default: pod identity.',
      required: ['name'],
      properties: { name: { type: 'string', minLength: 1, maxLength: 253, pattern: DNS_SUBDOMAIN } },
    },
    caBundleRef: {
      type: 'object',
      description:
        "A ConfigMap in the same namespace whose key holds PEM CA certificates for the S3 endpoint's TLS certificate, e.g. a private CA's " +
        '(trust-manager writes such ConfigMaps). A rotated CA is trusted by new connections within 10 s of the mounted file changing, without a restart.',
      required: ['name'],
      properties: {
        name: { type: 'string', maxLength: 253, pattern: DNS_SUBDOMAIN },
        key: { type: 'string', maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$', default: DEFAULT_CA_BUNDLE_KEY },
      },
    },
    pollInterval: {
      type: 'string',
      maxLength: 32,
      default: '30s',
      description: 'How often the server lists the source for new versions (Go duration, e.g. 30s, 1m).',
      'x-kubernetes-validations': [
        {
          rule: "self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('1s')",
          message: 'source.pollInterval must be a duration of at least 1s, such as 30s or 1m',
        },
      ],
    },
  },
  'x-kubernetes-validations': [
    {
      rule: "!self.uri.startsWith('pvc://') || (!has(self.endpoint) && !has(self.region) && !has(self.credentialsSecretRef) && !has(self.caBundleRef))",
      message: 'source.endpoint, source.region, source.credentialsSecretRef and source.caBundleRef are for s3:// sources only',
    },
  ],
};

const versionPolicySchema: Schema = {
  type: 'object',
  description: 'Which versions to serve: exactly one of latest, all, specific. Default: latest 1.',
  default: { latest: { count: 1 } },
  properties: {
    latest: {
      type: 'object',
      properties: { count: { type: 'integer', minimum: 1, maximum: MAX_VERSIONS, default: 1 } },
    },
    all: { type: 'object' },
    specific: {
      type: 'object',
      required: ['versions'],
      properties: {
        versions: {
          type: 'array',
          minItems: 1,
          maxItems: MAX_VERSIONS,
          items: version('A version to serve.'),
          'x-kubernetes-list-type': 'set',
        },
      },
    },
  },
  'x-kubernetes-validations': [
    {
      rule: '[has(self.latest), has(self.all), has(self.specific)].exists_one(x, x)',
      message: 'versionPolicy must set exactly one of latest, all or specific',
    },
  ],
};

const routingSchema: Schema = {
  type: 'object',
  description: 'How requests that name no version or label are routed.',
  properties: {
    canary: {
      type: 'object',
      required: ['version', 'percent'],
      properties: {
        version: version('The canary version.'),
        percent: percent('Share of traffic for the canary (0-100); the rest goes to the stable version.'),
      },
    },
    abTest: {
      type: 'object',
      required: ['key', 'variants'],
      properties: {
        key: {
          type: 'object',
          required: ['header'],
          properties: {
            header: {
              type: 'string',
              minLength: 1,
              maxLength: 128,
              description: 'Request header / gRPC metadata key that keeps a caller on one variant.',
              'x-kubernetes-validations': [
                {
                  rule: "self.matches('^[a-z0-9-]+$')",
                  message: 'routing.abTest.key.header must be a lowercase header name (a-z, 0-9, -)',
                },
              ],
            },
          },
        },
        variants: {
          type: 'array',
          minItems: 2,
          maxItems: MAX_VARIANTS,
          items: {
            type: 'object',
            required: ['version', 'percent'],
            properties: {
              version: version('A variant version.'),
              percent: { type: 'integer', minimum: 0, maximum: 100, description: 'Share of callers (0-100).' },
            },
          },
        },
      },
      'x-kubernetes-validations': [
        {
          rule: 'self.variants.map(v, v.percent).sum() == 100',
          message: 'routing.abTest.variants percentages must add up to 100',
        },
        {
          rule: 'self.variants.all(v, self.variants.exists_one(w, w.version == v.version))',
          message: 'routing.abTest.variants must name each version once',
        },
      ],
    },
    shadow: {
      type: 'object',
      required: ['version', 'percent'],
      properties: {
        version: version('The version that receives a copy of requests; its answers are compared, never returned.'),
        percent: percent('Share of requests copied to the shadow version (0-100).'),
        tolerance: {
          type: 'number',
          minimum: 0,
          description: 'Shadow and primary outputs agree when every element differs by at most this much (default 1e-5).',
        },
      },
    },
  },
  'x-kubernetes-validations': [
    {
      rule: '!(has(self.canary) && has(self.abTest))',
      message: 'routing may set canary or abTest, not both',
    },
  ],
};

const positiveInt32 = (description: string): Schema => ({
  type: 'integer',
  format: 'int32',
  minimum: 1,
  maximum: INT32_MAX,
  description,
});

/**
 * The model server's BatchingParameters (src/server/batching/batching-parameters.ts), with its
 * rules. One deliberate difference: batchTimeout is a duration in us, ms or s of at most 10s, so
 * that `2m` (meant as `2ms`) cannot slip through as a two-minute wait.
 */
const batchingSchema: Schema = {
  type: 'object',
  description:
    'Server-side batching: concurrent requests to a signature whose tensors all have a variable first dimension are merged into one run. ' +
    'Present (even {}) turns it on. Changing it rolls the pods.',
  properties: {
    maxBatchSize: { ...positiveInt32('Most rows (first dimension, summed over the merged requests) in one batch.'), default: BATCHING_DEFAULTS.maxBatchSize },
    batchTimeout: {
      type: 'string',
      maxLength: 32,
      default: BATCHING_DEFAULTS.batchTimeout,
      description:
        'How long the oldest queued request waits for more to batch with (us, ms or s, e.g. 0s, 500us, 2ms; rounded to whole microseconds). ' +
        '0s batches only what queues up while a batch runs.',
      'x-kubernetes-validations': [
        {
          rule: "self.matches('^([0-9]+(\\\\.[0-9]+)?(us|ms|s))+$') && duration(self) <= duration('10s')",
          message: 'batching.batchTimeout must be a duration in us, ms or s of at most 10s, such as 0s, 500us or 2ms',
        },
      ],
    },
    maxEnqueuedBatches: {
      ...positiveInt32('Full batches a queue may hold; further requests are refused with UNAVAILABLE.'),
      default: BATCHING_DEFAULTS.maxEnqueuedBatches,
    },
    numBatchThreads: positiveInt32("Batches running at the same time, over all models. Default: the server's inference threads (1)."),
    allowedBatchSizes: {
      type: 'array',
      maxItems: MAX_ALLOWED_BATCH_SIZES,
      description: 'Batch sizes a batch is padded up to: strictly increasing, the last one equal to maxBatchSize. Default: no padding.',
      items: positiveInt32('An allowed batch size.'),
      'x-kubernetes-list-type': 'atomic',
      'x-kubernetes-validations': [
        {
          rule: 'self.isSorted() && self.all(x, self.exists_one(y, y == x))',
          message: 'batching.allowedBatchSizes must be strictly increasing, such as [8, 32, 64]',
        },
      ],
    },
  },
  'x-kubernetes-validations': [
    {
      rule:
        '!has(self.allowedBatchSizes) || size(self.allowedBatchSizes) == 0 || ' +
        `self.allowedBatchSizes[size(self.allowedBatchSizes) - 1] == (has(self.maxBatchSize) ? self.maxBatchSize : ${BATCHING_DEFAULTS.maxBatchSize})`,
      message: `batching.allowedBatchSizes must end with maxBatchSize (${BATCHING_DEFAULTS.maxBatchSize} when not set)`,
    },
  ],
};

/** The model server's TensorFlow flags (threads: decision 0008; SavedModel loading); changing them rolls the pods. */
const tensorflowSchema: Schema = {
  type: 'object',
  description:
    "How the model server runs TensorFlow: its thread pools (unset: the container's CPU limit, rounded up, if it has one, else the node's cores), " +
    'the meta graph it loads, model warmup and the signature method-name check. Changing them rolls the pods.',
  properties: {
    intraOpParallelism: {
      type: 'integer',
      format: 'int32',
      minimum: 0,
      maximum: MAX_TENSORFLOW_THREADS,
      description: 'Threads one op may use (--tensorflow_intra_op_parallelism); 0 as unset.',
    },
    interOpParallelism: {
      type: 'integer',
      format: 'int32',
      minimum: -1,
      maximum: MAX_TENSORFLOW_THREADS,
      description:
        'Threads running independent ops (--tensorflow_inter_op_parallelism); 0 as unset. -1 runs every op on the inference thread: ' +
        'about twice the throughput of small models without batching, but the independent ops of one request no longer run side by side.',
    },
    savedModelTags: {
      type: 'array',
      description: 'The tag set of the meta graph to load from each SavedModel (--saved_model_tags). Unset: [serve].',
      minItems: 1,
      maxItems: 16,
      items: { type: 'string', pattern: '^[^,\\s]+$', maxLength: 64 },
    },
    modelWarmup: {
      type: 'boolean',
      description: "Replay a version's assets.extra/tf_serving_warmup_requests on every inference thread before it serves (--enable_model_warmup). Unset: true.",
    },
    warmupIterations: {
      type: 'integer',
      format: 'int32',
      minimum: 1,
      maximum: 1000,
      description: 'Times each warmup request is replayed (--num_request_iterations_for_warmup). Unset: once.',
    },
    signatureMethodNameCheck: {
      type: 'boolean',
      description:
        'Classify and Regress take only signatures with the classify/regress method names (--enable_signature_method_name_check). ' +
        'Unset: false, as in TF Serving, so classifiers saved with tf.saved_model.save (recorded as predict) work.',
    },
  },
};

/** The app.kubernetes.io labels the operator puts on the pods (owned-meta.ts; a unit test keeps the two in step). */
export const OPERATOR_POD_LABELS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component', 'app.kubernetes.io/managed-by'] as const;


const stringMap = (maxProperties: number, description: string, rules: Schema[] = []): Schema => ({
  type: 'object',
  description,
  maxProperties,
  additionalProperties: { type: 'string', maxLength: 4096 },
  ...(rules.length > 0 ? { 'x-kubernetes-validations': rules } : {}),
});

/** The pods' labels and annotations that the operator sets itself: keys under tensorfleet.dev/ and the ones named. */
const ownedKeysRule = (field: string, keys: readonly string[] = []): Schema => ({
  rule: `!self.exists(k, k.startsWith('tensorfleet.dev/')${keys.length > 0 ? ` || k in [${keys.map((k) => `'${k}'`).join(', ')}]` : ''})`,
  message: `pod.${field} may not set ${['keys under tensorfleet.dev/', ...keys].join(', ')}: the operator sets those`,
});

const podSchema: Schema = {
  type: 'object',
  description:
    "The model server pods' metadata and scheduling, passed into the Deployment's pod template as given. Changing it rolls the pods. " +
    'affinity and topologySpreadConstraints are core/v1 objects that the apiserver checks when the operator applies the Deployment; ' +
    "a rejected one shows in the ServedModel's Degraded condition (reason ApplyFailed).",
  properties: {
    annotations: stringMap(64, 'Annotations of the pods (e.g. prometheus.io/scrape for annotation-based scraping).', [ownedKeysRule('annotations')]),
    labels: stringMap(32, 'Labels of the pods, besides the ones the operator selects them by.', [ownedKeysRule('labels', OPERATOR_POD_LABELS)]),
    serviceAccountName: {
      type: 'string',
      maxLength: 253,
      pattern: DNS_SUBDOMAIN,
      description:
        "The pods' ServiceAccount, e.g. one bound to a cloud role that may read the bucket (EKS IRSA or pod identity, GKE workload identity). Unset: the namespace's default.",
    },
    nodeSelector: stringMap(32, 'Nodes the pods may run on, by label.'),
    tolerations: {
      type: 'array',
      maxItems: 32,
      description: 'Taints the pods tolerate (core/v1 Toleration).',
      items: {
        type: 'object',
        properties: {
          key: { type: 'string', maxLength: 317 },
          operator: { type: 'string', enum: ['Exists', 'Equal'] },
          value: { type: 'string', maxLength: 63 },
          effect: { type: 'string', enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
          tolerationSeconds: { type: 'integer', format: 'int64' },
        },
      },
    },
    affinity: {
      type: 'object',
      description: 'core/v1 Affinity of the pods (node, pod and pod anti-affinity).',
      'x-kubernetes-preserve-unknown-fields': true,
    },
    topologySpreadConstraints: {
      type: 'array',
      maxItems: 8,
      description: 'core/v1 TopologySpreadConstraints of the pods. Their labelSelector may use the label tensorfleet.dev/served-model: NAME.',
      items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
    priorityClassName: { type: 'string', maxLength: 253, pattern: DNS_SUBDOMAIN, description: 'PriorityClass of the pods.' },
    imagePullSecrets: {
      type: 'array',
      maxItems: 8,
      description: 'Secrets (kubernetes.io/dockerconfigjson) in the same namespace to pull the model server image with, from a private registry.',
      items: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 253, pattern: DNS_SUBDOMAIN } } },
    },
    env: {
      type: 'array',
      maxItems: 64,
      description:
        'More environment variables of the model server container (core/v1 EnvVar: value, or valueFrom a Secret, ConfigMap or field), ' +
        `e.g. S3 credentials from a Secret of your own (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), HTTPS_PROXY and NO_PROXY, or TF Serving's S3_* settings (docs/s3.md). Not ${OPERATOR_ENV_NAMES.join(', ')}, which the operator sets from spec.source.`,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$' },
          value: { type: 'string', maxLength: 32768 },
          valueFrom: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, description: 'core/v1 EnvVarSource, checked by the apiserver on the Deployment.' },
        },
        'x-kubernetes-validations': [{ rule: '!(has(self.value) && has(self.valueFrom))', message: 'an env entry has value or valueFrom, not both' }],
      },
      'x-kubernetes-validations': [
        {
          rule: `self.all(e, !(e.name in ${JSON.stringify(OPERATOR_ENV_NAMES).replaceAll('"', "'")}))`,
          message: `pod.env must not set ${OPERATOR_ENV_NAMES.join(', ')}: the operator sets them from spec.source (endpoint, credentialsSecretRef, region)`,
        },
      ],
    },
  },
};

const replicaCount = (description: string): Schema => ({ type: 'integer', format: 'int32', minimum: 1, description });

const autoscalingSchema: Schema = {
  type: 'object',
  required: ['maxReplicas'],
  description:
    'A HorizontalPodAutoscaler (autoscaling/v2) for the model server pods, which scales this ServedModel (spec.replicas) through its scale subresource. ' +
    'Leave spec.replicas out of applied manifests, or each apply resets what the autoscaler chose. CPU metrics need a metrics server in the cluster.',
  properties: {
    minReplicas: replicaCount('Fewest pods; default 1.'),
    maxReplicas: replicaCount('Most pods.'),
    targetCPUUtilization: {
      type: 'integer',
      format: 'int32',
      minimum: 1,
      maximum: 1000,
      description: `Average CPU use to keep, in percent of the pods' CPU request (resources.requests.cpu, else limits.cpu); default ${DEFAULT_TARGET_CPU_UTILIZATION} when metrics is absent.`,
    },
    metrics: {
      type: 'array',
      maxItems: 8,
      description:
        'autoscaling/v2 MetricSpecs, passed to the HorizontalPodAutoscaler as given, e.g. a Pods metric from a Prometheus adapter such as ' +
        'the inference threads\' utilization (rate of tensorfleet_inference_busy_seconds_total over tensorfleet_inference_threads). With targetCPUUtilization both apply (the autoscaler takes the largest recommendation).',
      items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
    behavior: {
      type: 'object',
      description: "autoscaling/v2 HorizontalPodAutoscalerBehavior (scale-up and scale-down policies, stabilization windows), passed as given.",
      'x-kubernetes-preserve-unknown-fields': true,
    },
  },
  'x-kubernetes-validations': [
    { rule: '!has(self.minReplicas) || self.minReplicas <= self.maxReplicas', message: 'autoscaling.minReplicas must not exceed autoscaling.maxReplicas' },
  ],
};

/** Rules that relate several fields of the spec. */
const specRules = [
  {
    rule: "!self.source.uri.startsWith('pvc://') || !has(self.requestLogging)",
    message: "requestLogging needs an s3:// source: the logs are uploaded with the source's endpoint and credentials",
  },
  {
    rule:
      '!has(self.versionPolicy) || !has(self.versionPolicy.specific) || !has(self.versionLabels) || ' +
      'self.versionLabels.all(l, self.versionLabels[l] in self.versionPolicy.specific.versions)',
    message: 'versionLabels must point at versions listed in versionPolicy.specific.versions',
  },
  {
    rule:
      '!has(self.versionPolicy) || !has(self.versionPolicy.specific) || !has(self.routing) || (' +
      '(!has(self.routing.canary) || self.routing.canary.version in self.versionPolicy.specific.versions) && ' +
      '(!has(self.routing.shadow) || self.routing.shadow.version in self.versionPolicy.specific.versions) && ' +
      '(!has(self.routing.abTest) || self.routing.abTest.variants.all(v, v.version in self.versionPolicy.specific.versions)))',
    message: 'routing names a version that versionPolicy.specific.versions never loads',
  },
  {
    rule:
      '!has(self.routing) || !(has(self.routing.canary) || has(self.routing.abTest) || has(self.routing.shadow)) || ' +
      '(has(self.versionPolicy) && (has(self.versionPolicy.all) || ' +
      '(has(self.versionPolicy.latest) && has(self.versionPolicy.latest.count) && self.versionPolicy.latest.count >= 2) || ' +
      '(has(self.versionPolicy.specific) && size(self.versionPolicy.specific.versions) >= 2)))',
    message: 'routing between versions needs a versionPolicy that serves at least two versions (latest.count >= 2, all, or two specific versions)',
  },
  {
    rule:
      '!has(self.autoscaling) || (has(self.autoscaling.metrics) && !has(self.autoscaling.targetCPUUtilization)) || (has(self.resources) && (' +
      "(has(self.resources.requests) && 'cpu' in self.resources.requests) || (has(self.resources.limits) && 'cpu' in self.resources.limits)))",
    message: 'autoscaling on CPU needs resources.requests.cpu (utilization is measured against it); or give only autoscaling.metrics',
  },
];

const specSchema: Schema = {
  type: 'object',
  required: ['source'],
  properties: {
    source: sourceSchema,
    versionPolicy: versionPolicySchema,
    versionLabels: {
      type: 'object',
      description: 'Names for versions (e.g. stable: 2, canary: 3) that clients can request.',
      maxProperties: MAX_LABELS,
      additionalProperties: version('The labelled version.'),
      'x-kubernetes-validations': [
        {
          rule: "self.all(l, size(l) <= 64 && l.matches('^[a-zA-Z0-9_]+$'))",
          message: 'versionLabels names must match [a-zA-Z0-9_]+ (at most 64 characters)',
        },
      ],
    },
    routing: routingSchema,
    batching: batchingSchema,
    tensorflow: tensorflowSchema,
    replicas: { type: 'integer', format: 'int32', minimum: 0, default: 1, description: 'Model server pods; with autoscaling, the autoscaler sets it.' },
    autoscaling: autoscalingSchema,
    image: { type: 'string', minLength: 1, maxLength: 512, pattern: '^\\S+$', description: "Model server image; default: the operator's. No whitespace (the apiserver would refuse the pods)." },
    resources: {
      type: 'object',
      description: 'Model server container resources; changing them rolls the pods.',
      properties: { requests: resourceList, limits: resourceList },
    },
    modelStoreSizeLimit: {
      ...quantity,
      default: '10Gi',
      description: 'Size limit of the emptyDir that holds versions downloaded from an s3:// source (a pvc:// source is served in place).',
    },
    pod: podSchema,
    tls: {
      type: 'object',
      required: ['secretName'],
      description:
        "TLS on the gRPC port (REST stays plain HTTP, as in TF Serving). The Secret's files are read again every minute, so a renewed certificate " +
        '(cert-manager) is served without restarting the pods. Changing these fields rolls the pods.',
      properties: {
        secretName: {
          type: 'string',
          maxLength: 253,
          pattern: DNS_SUBDOMAIN,
          description: 'A kubernetes.io/tls Secret in the same namespace: tls.crt and tls.key, plus ca.crt with requireClientCertificate.',
        },
        requireClientCertificate: { type: 'boolean', description: "Clients must present a certificate that chains to the Secret's ca.crt (mutual TLS). Unset: false." },
      },
    },
    requestLogging: {
      type: 'object',
      required: ['uri', 'samplingRate'],
      description:
        "Request logging, as TF Serving's logging_config: a sampled share of successful Predict, Classify, Regress and MultiInference calls is " +
        'written as PredictionLogs to TFRecord files, uploaded to S3 every 5 minutes (--request_log_upload_interval_seconds in serverArgs), ' +
        "at 64 MiB and when a pod stops. Uses spec.source's endpoint, region and credentials, which must be allowed to write there. " +
        'Turning it on or off rolls the pods; changing the rate or the URI does not.',
      properties: {
        uri: {
          type: 'string',
          maxLength: 1024,
          description: 's3://bucket/key/prefix: the files are <prefix>.<start time>.<pod>.<pid>.<n>.tfrecord.',
          'x-kubernetes-validations': [
            {
              rule:
                "self.matches('^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^/]+)+$') && " +
                "!self.contains('/./') && !self.contains('/../') && !self.endsWith('/.') && !self.endsWith('/..')",
              message: 'requestLogging.uri must be s3://bucket/key/prefix (a bucket of 3-63 lowercase letters, digits, dots or dashes, then a key prefix without empty, "." or ".." segments)',
            },
          ],
        },
        samplingRate: { type: 'number', minimum: 0, maximum: 1, description: 'Share of calls logged, 0 to 1 (e.g. 0.01).' },
      },
    },
    serverArgs: {
      type: 'array',
      maxItems: 32,
      description:
        'Extra model server flags as --name=value, e.g. --inference_threads=2 or --grpc_channel_arguments=grpc.max_concurrent_streams=8 ' +
        `(README: model server flags). Only ${SERVER_ARGS_ALLOWED.join(', ')}: the operator sets the others from the spec. Changing them rolls the pods.`,
      items: { type: 'string', maxLength: 1024 },
      'x-kubernetes-validations': [
        {
          rule: `self.all(a, a.matches('^--(${SERVER_ARGS_ALLOWED.join('|')})(=.*)?$'))`,
          message: `serverArgs must be --name=value with a name among ${SERVER_ARGS_ALLOWED.join(', ')} (the operator sets the other flags from the spec)`,
        },
      ],
    },
  },
  'x-kubernetes-validations': specRules,
};

const conditionSchema: Schema = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { type: 'string', maxLength: 316 },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string', maxLength: 1024 },
    message: { type: 'string', maxLength: CONDITION_MESSAGE_MAX_LENGTH },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
  },
};

const statusSchema: Schema = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64' },
    replicas: { type: 'integer', format: 'int32' },
    readyReplicas: { type: 'integer', format: 'int32' },
    updatedReplicas: { type: 'integer', format: 'int32' },
    observedReplicas: { type: 'integer', format: 'int32' },
    ready: { type: 'string' },
    selector: { type: 'string' },
    servedVersions: { type: 'string' },
    canary: { type: 'string' },
    versions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['version', 'state'],
        properties: {
          version: { type: 'integer', format: 'int64' },
          state: { type: 'string', enum: ['AVAILABLE', 'PARTIAL', 'LOADING', 'FAILED', 'NOT_LOADED', 'Configured'] },
          availableReplicas: { type: 'integer', format: 'int32' },
          labels: { type: 'array', items: { type: 'string' } },
          percent: { type: 'number' },
          message: { type: 'string', maxLength: 4096 },
        },
      },
    },
    endpoints: {
      type: 'object',
      properties: { grpc: { type: 'string' }, rest: { type: 'string' }, headless: { type: 'string' } },
    },
    conditions: {
      type: 'array',
      items: conditionSchema,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    },
  },
};

/** The longest ServedModel name whose headless Service name, `<name>-headless`, is still a DNS label (63). */
export const MAX_NAME_LENGTH = 63 - '-headless'.length;

/**
 * The ServedModel's name becomes the names of its Services (DNS labels: no dots, at most 63
 * characters) and a label value. Refused at `kubectl apply`, a name that cannot be either would
 * otherwise leave the ServedModel half built. A digit first is left to the apiserver: Services
 * take it once RelaxedServiceNameValidation is on (Kubernetes 1.36 here), older ones refuse it and
 * the status says so. The rules sit on metadata.name, not on the root: a root rule is checked on
 * every write, status included, and would freeze the status of a ServedModel created with such a
 * name before the rules existed. On the name, the apiserver ratchets them (Kubernetes 1.30 on): an
 * unchanged name is written with the message as a warning (crd-validation.test.ts).
 */
const nameRules: Schema[] = [
  {
    rule: `self.size() <= ${MAX_NAME_LENGTH}`,
    message: `metadata.name must be at most ${MAX_NAME_LENGTH} characters: the operator names the headless Service <name>-headless, and a Service name has at most 63`,
  },
  {
    rule: "self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
    message: "metadata.name must be a DNS label (lowercase letters, digits and '-', no dots): the operator gives its Services the same name",
  },
];

export const servedModelOpenApiSchema: Schema = {
  type: 'object',
  description: 'A TensorFlow model served from S3 by TensorFleet model server pods.',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object', properties: { name: { type: 'string', 'x-kubernetes-validations': nameRules } } },
    spec: specSchema,
    status: statusSchema,
  },
};

/** The CustomResourceDefinition object, ready to serialise to YAML. */
export function servedModelCrd(): Schema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: [SHORT_NAME], categories: ['tensorfleet'] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: servedModelOpenApiSchema },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: '.status.ready', description: 'Ready / desired pods' },
            { name: 'Versions', type: 'string', jsonPath: '.status.servedVersions', description: 'Versions available on the pods (configured ones until a pod answers)' },
            { name: 'Canary', type: 'string', jsonPath: '.status.canary', description: 'Canary version and share' },
            { name: 'Status', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].reason" },
            { name: 'Routing', type: 'string', priority: 1, jsonPath: ".status.conditions[?(@.type=='RoutingReady')].reason", description: 'Whether every route target is available' },
            { name: 'Source', type: 'string', priority: 1, jsonPath: '.spec.source.uri', description: 'Where the versions come from (s3:// or pvc://)' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}
