/**
 * The contract between the operator and the model server: every spec the CRD admits renders to a
 * command line, model config and batching file the server accepts (a property over generated
 * specs), and a spec it would refuse is named problem by problem.
 */
import fc from 'fast-check';
import { describe, expect, it, test } from 'vitest';
import type { ServedModelSpec } from '../../../../src/api/served-model-types.js';
import { serverRefusals } from '../../../../src/operator/specs/server-acceptance.js';
import { fuzzParameters } from '../../../helpers/fuzz.js';
import { admittedSpec } from '../../../helpers/k8s/admitted-specs.js';
import { servedModel } from '../fixtures.js';

describe('serverRefusals', () => {
  test('every spec the CRD admits renders to what the model server accepts', () => {
    fc.assert(
      fc.property(admittedSpec, (spec) => {
        expect(serverRefusals(servedModel(spec))).toEqual([]);
      }),
      fuzzParameters(500),
    );
  });

  it.each<[string, Partial<ServedModelSpec>, string]>([
    ['a flag value that is no number', { serverArgs: ['--max_request_bytes=lots'] }, 'server flags: --max_request_bytes takes a non-negative integer, got "lots"'],
    ['an out-of-range value', { serverArgs: ['--inference_thread_niceness=40'] }, 'server flags: --inference_thread_niceness must be between 0 and 19'],
    ['an unknown log level', { serverArgs: ['--log_level=loud'] }, 'server flags: --log_level'],
    ['a malformed channel argument', { serverArgs: ['--grpc_channel_arguments=nonsense'] }, 'server flags: --grpc_channel_arguments: "nonsense" is not key=value'],
  ])('names %s', (_case, spec, expected) => {
    const refusals = serverRefusals(servedModel(spec));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toContain(expected);
  });
});
