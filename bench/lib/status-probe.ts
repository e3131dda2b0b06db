import type { LoadGroup } from './load-runner.js';

/**
 * A sequential probe, one call every ~10 ms, from the Go client (gRPC). It also times each call to
 * the kernel's receive time of the answer: on these 2 cores the probe itself waits for a CPU once
 * the answer is in, and that wait is the machine's, not the server's.
 */
export function grpcProbe(address: string, method: string, request: Buffer, warmupMs: number, durationMs: number): LoadGroup {
  return {
    client: 'go',
    processes: 1,
    job: { target: { kind: 'grpc', address, method, requestBase64: request.toString('base64') }, concurrency: 1, pauseMs: 10, socketTimestamps: true, warmupMs, durationMs },
  };
}
