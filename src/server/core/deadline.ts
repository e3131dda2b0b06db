import { ServingError } from '../../shared/errors.js';

/**
 * A call's deadline: epoch milliseconds (Date.now()), the clock every thread of the process reads
 * alike. A gRPC call's comes from its client; a REST call's is --rest_api_timeout_in_ms after it
 * arrived, as TF Serving bounds REST calls. Work for a call whose deadline has passed is not
 * started: under overload its caller has already given up, and running it would only make the
 * calls behind it late too.
 */
export type Deadline = number | undefined;

export const isPast = (deadline: Deadline): boolean => deadline !== undefined && Date.now() >= deadline;

/** The error for a call whose deadline passed before its run started, `where` naming the wait. */
export const deadlineExceeded = (where: string): ServingError => new ServingError('DEADLINE_EXCEEDED', `deadline exceeded while the call waited ${where}; it was not run`);

/** The latest of the deadlines (a batch runs while any of its calls still waits): undefined when one has none. */
export function latestDeadline(deadlines: Iterable<Deadline>): Deadline {
  let latest = -Infinity;
  for (const deadline of deadlines) {
    if (deadline === undefined) return undefined;
    latest = Math.max(latest, deadline);
  }
  return latest === -Infinity ? undefined : latest;
}
