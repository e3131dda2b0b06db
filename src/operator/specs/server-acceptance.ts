/**
 * Would the model server start with what we render for this ServedModel? The CRD's schema and
 * CEL rules cannot see everything the server checks (a flag's value in spec.serverArgs, say), and
 * pods given such a spec would crash-loop while the ones serving now are replaced. So the
 * operator reads its own output with the server's own parsers first, and refuses to roll it out.
 */
import type { ServedModel } from '../../api/served-model-types.js';
import { defaultBatchingParameters, parseBatchingParameters } from '../../server/batching/batching-parameters.js';
import { parseModelConfig } from '../../server/config/parse-model-config.js';
import { OptionsError, parseServeOptions, type ServeOptions } from '../../server/serve-options.js';
import { renderBatchingParameters } from './batching-parameters.js';
import { renderModelConfig } from './config-map.js';
import { serverArgs } from './deployment.js';

/** The problems the model server would refuse this ServedModel's rendering for; empty when none. */
export function serverRefusals(sm: ServedModel): string[] {
  const problems: string[] = [];
  let options: ServeOptions | undefined;
  try {
    options = parseServeOptions(serverArgs(sm).slice(1));
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    problems.push(...error.problems.map((p) => `server flags: ${p}`));
  }
  const attempt = (what: string, read: () => unknown): void => {
    try {
      read();
    } catch (error) {
      problems.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  attempt('model config', () => parseModelConfig(renderModelConfig(sm)));
  const batching = sm.spec.batching;
  if (batching) attempt('spec.batching', () => parseBatchingParameters(renderBatchingParameters(batching), defaultBatchingParameters(options?.inference_threads ?? 1)));
  return problems;
}
