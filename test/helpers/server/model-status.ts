import { eventually } from '../k8s/eventually.js';
import type { UnaryClient } from './grpc-client.js';

export interface VersionStatus {
  readonly version: string;
  readonly state: string;
  readonly status: { readonly error_code: string; readonly error_message: string };
}

export async function modelStatus(model: UnaryClient, name: string): Promise<VersionStatus[]> {
  const { response } = await model.call<{ model_version_status: VersionStatus[] }>('GetModelStatus', { model_spec: { name } });
  return [...response.model_version_status].sort((a, b) => Number(a.version) - Number(b.version));
}

/** Waits until exactly `versions` of the model are AVAILABLE (others may be in any other state). */
export function waitForAvailable(model: UnaryClient, name: string, versions: readonly number[], timeoutMs = 30_000): Promise<VersionStatus[]> {
  return eventually(async () => {
    const statuses = await modelStatus(model, name);
    const available = statuses.filter((s) => s.state === 'AVAILABLE').map((s) => Number(s.version));
    if (JSON.stringify(available) !== JSON.stringify([...versions].sort((a, b) => a - b))) {
      throw new Error(`${name}: available ${JSON.stringify(available)}, waiting for ${JSON.stringify(versions)} (${JSON.stringify(statuses)})`);
    }
    return statuses;
  }, timeoutMs, 100);
}
