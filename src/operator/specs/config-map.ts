import type { V1ConfigMap } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { RoutingSpec, ServedModel, VersionPolicySpec } from '../../api/served-model-types.js';
import { BATCHING_PARAMETERS_KEY, renderBatchingParameters } from './batching-parameters.js';
import { modelBasePath } from './model-source.js';
import { configMapName, ownedMeta } from './owned-meta.js';

export const MODEL_CONFIG_KEY = 'models.yaml';

function policyOf(policy: VersionPolicySpec | undefined): Record<string, unknown> {
  if (!policy) return { latest: { num_versions: 1 } };
  if ('latest' in policy) return { latest: { num_versions: policy.latest.count ?? 1 } };
  if ('specific' in policy) return { specific: { versions: [...policy.specific.versions] } };
  return { all: {} };
}

function routingOf(routing: RoutingSpec | undefined): Record<string, unknown> | undefined {
  if (!routing) return undefined;
  const out: Record<string, unknown> = {};
  if (routing.canary) out.canary = { version: routing.canary.version, percent: routing.canary.percent };
  if (routing.abTest) {
    out.ab_test = {
      key: { header: routing.abTest.key.header },
      variants: routing.abTest.variants.map((v) => ({ version: v.version, percent: v.percent })),
    };
  }
  if (routing.shadow) {
    const { version, percent, tolerance } = routing.shadow;
    out.shadow = tolerance === undefined ? { version, percent } : { version, percent, tolerance };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The model server's config file (snake_case, see src/server/config/model-config.ts) for one ServedModel. */
export function renderModelConfig(sm: ServedModel): string {
  const entry: Record<string, unknown> = {
    name: sm.metadata.name,
    base_path: modelBasePath(sm),
    model_platform: 'tensorflow',
    model_version_policy: policyOf(sm.spec.versionPolicy),
  };
  const labels = sm.spec.versionLabels;
  if (labels && Object.keys(labels).length > 0) {
    // Sorted so the rendered text (and so the write decision) never depends on key order.
    entry.version_labels = Object.fromEntries(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
  }
  const routing = routingOf(sm.spec.routing);
  if (routing) entry.routing = routing;
  const logging = sm.spec.requestLogging;
  if (logging) {
    entry.logging_config = {
      log_collector_config: { type: 'tfrecord', filename_prefix: logging.uri },
      sampling_config: { sampling_rate: logging.samplingRate },
    };
  }
  return stringify({ model_config_list: [entry] });
}

/**
 * ConfigMap `<name>-models`: the server polls the model config, so changes to it need no restart.
 * The batching parameters sit next to it but are read only at start; the Deployment's restart
 * hash covers them.
 */
export function buildConfigMap(sm: ServedModel): V1ConfigMap {
  const data: Record<string, string> = { [MODEL_CONFIG_KEY]: renderModelConfig(sm) };
  if (sm.spec.batching) data[BATCHING_PARAMETERS_KEY] = renderBatchingParameters(sm.spec.batching);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: ownedMeta(sm, configMapName(sm)),
    data,
  };
}
