import { getPriority, setPriority } from 'node:os';

/**
 * Lowers the CPU priority of the calling thread to at least `niceness` (Linux nice values: 0
 * normal, 19 lowest). On Linux, nice is per thread and threads inherit it from the thread that
 * creates them, so an inference worker that calls this before loading any model also lowers
 * TensorFlow's pools, while the main thread (gRPC, REST, health) keeps its priority and wins the
 * CPU when both want it. Elsewhere the call would lower the whole process, so it does nothing.
 * Returns the niceness in effect, or undefined when it was left alone.
 */
export function lowerThreadPriority(niceness: number): number | undefined {
  if (process.platform !== 'linux' || niceness <= 0) return undefined;
  // pid 0 = the calling thread on Linux. Never raise priority (that needs privileges anyway).
  const current = getPriority(0);
  if (current >= niceness) return current;
  setPriority(0, Math.min(19, niceness));
  return getPriority(0);
}
