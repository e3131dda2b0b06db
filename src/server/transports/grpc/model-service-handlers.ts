import type * as grpc from '@grpc/grpc-js';
import { ServingError, invalidArgument } from '../../../shared/errors.js';
import type { ModelServerConfig } from '../../config/model-config.js';
import { validateModelConfig } from '../../config/parse-model-config.js';
import type { ModelVersionStatus } from '../../core/version-state.js';
import { parseVersionNumber } from '../model-spec-version.js';
import { unary } from './grpc-errors.js';
import type { ModelSpecMessage } from './prediction-handlers.js';

/** What ModelService needs from the server. */
export interface ModelServiceBackend {
  status(model: string, version?: number): ModelVersionStatus[];
  /** Applies a new config (models added, removed, changed), as the config file would. */
  reloadConfig(config: ModelServerConfig): Promise<void>;
}

interface ModelConfigMessage {
  name?: string;
  base_path?: string;
  model_platform?: string;
  model_version_policy?: {
    policy_choice?: 'latest' | 'all' | 'specific';
    latest?: { num_versions?: number } | null;
    specific?: { versions?: string[] } | null;
  } | null;
  version_labels?: Record<string, string>;
}

/** TF Serving's ModelServerConfig message as our config document, then validated as a file would be. */
export function configFromReloadRequest(config: { config?: string; model_config_list?: { config?: ModelConfigMessage[] } | null } | null | undefined): ModelServerConfig {
  if (!config || config.config !== 'model_config_list' || !config.model_config_list) {
    throw invalidArgument('config.model_config_list is required (custom_model_config is not supported)');
  }
  const list = (config.model_config_list.config ?? []).map((m) => {
    const policy = m.model_version_policy;
    let versionPolicy: unknown;
    if (policy?.policy_choice === 'latest') versionPolicy = { latest: { num_versions: policy.latest?.num_versions ?? 1 } };
    else if (policy?.policy_choice === 'all') versionPolicy = { all: {} };
    else if (policy?.policy_choice === 'specific') versionPolicy = { specific: { versions: (policy.specific?.versions ?? []).map(Number) } };
    const labels = Object.fromEntries(Object.entries(m.version_labels ?? {}).map(([k, v]) => [k, Number(v)]));
    return {
      name: m.name,
      base_path: m.base_path,
      ...(m.model_platform ? { model_platform: m.model_platform } : {}),
      ...(versionPolicy ? { model_version_policy: versionPolicy } : {}),
      ...(Object.keys(labels).length > 0 ? { version_labels: labels } : {}),
    };
  });
  return validateModelConfig({ model_config_list: list });
}

const OK_STATUS = { error_code: 'OK', error_message: '' };

/** tensorflow.serving.ModelService: GetModelStatus and HandleReloadConfigRequest. */
export function modelServiceHandlers(backend: ModelServiceBackend): grpc.UntypedServiceImplementation {
  return {
    GetModelStatus: unary((call: grpc.ServerUnaryCall<{ model_spec?: ModelSpecMessage | null }, unknown>) => {
      const spec = call.request.model_spec;
      if (!spec?.name) throw invalidArgument('model_spec.name is required');
      if (spec.version_choice === 'version_label') throw invalidArgument('GetModelStatus takes a version, not a version label');
      const version = spec.version_choice === 'version' && spec.version ? parseVersionNumber(spec.version.value ?? '0', 'model_spec.version') : undefined;
      const statuses = backend.status(spec.name, version);
      return Promise.resolve({
        model_version_status: statuses.map((s) => ({
          version: String(s.version),
          state: s.state,
          status: { error_code: s.errorCode, error_message: s.errorMessage },
        })),
      });
    }),
    HandleReloadConfigRequest: unary(async (call: grpc.ServerUnaryCall<{ config?: Parameters<typeof configFromReloadRequest>[0] }, unknown>) => {
      try {
        await backend.reloadConfig(configFromReloadRequest(call.request.config));
        return { status: OK_STATUS };
      } catch (error) {
        if (error instanceof ServingError) return { status: { error_code: error.code, error_message: error.message } };
        throw error;
      }
    }),
  };
}
