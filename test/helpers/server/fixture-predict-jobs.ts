import { FIXTURE_MODELS, fromTensorProto, loadExpected, tensorMismatches, toTensorProto } from './fixture-tensors.js';
import type { TfsClients } from './grpc-client.js';

export interface PredictJob {
  readonly title: string;
  /** Calls Predict and resolves with the differences from Python TensorFlow's outputs. */
  readonly run: () => Promise<string[]>;
}

/** One job per fixture predict case and encoding (typed fields and tensor_content). */
export function fixturePredictJobs(clients: TfsClients): PredictJob[] {
  const out: PredictJob[] = [];
  for (const model of FIXTURE_MODELS) {
    const expected = loadExpected(model);
    for (const [signature, sig] of Object.entries(expected.signatures)) {
      if (sig.method_name !== 'tensorflow/serving/predict') continue;
      sig.cases.forEach((c, i) => {
        for (const content of [false, true]) {
          out.push({
            title: `${model} ${signature} #${i} ${content ? 'content' : 'typed'}`,
            run: async () => {
              const { response } = await clients.prediction.call<{ outputs: Record<string, Parameters<typeof fromTensorProto>[0]> }>('Predict', {
                model_spec: { name: model, version: { value: String(expected.version) }, signature_name: signature },
                inputs: Object.fromEntries(Object.entries(c.inputs).map(([n, t]) => [n, toTensorProto(t, content)])),
              });
              return Object.entries(c.outputs).flatMap(([n, t]) => tensorMismatches(n, response.outputs[n] && fromTensorProto(response.outputs[n]), t));
            },
          });
        }
      });
    }
  }
  return out;
}

/** Runs every job `rounds` times, all at once; resolves with the jobs that went wrong. */
export async function runConcurrently(jobs: readonly PredictJob[], rounds: number): Promise<{ title: string; problems: string[] }[]> {
  const results = await Promise.all(
    Array.from({ length: rounds }, () => jobs)
      .flat()
      .map(async (job) => ({ title: job.title, problems: await job.run().catch((error: unknown) => [String(error)]) })),
  );
  if (results.length !== rounds * jobs.length) throw new Error(`expected ${rounds * jobs.length} results, got ${results.length}`);
  return results.filter((r) => r.problems.length > 0);
}
