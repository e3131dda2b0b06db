import { deadlineExceeded } from '../../core/deadline.js';
import type { ServingError } from '../../../shared/errors.js';
import { TypicalTimes } from '../../core/typical-times.js';

/**
 * Whether the inference thread starts a run whose caller has a deadline (core/deadline.ts). Not
 * when the deadline has passed. Nor when the call has waited in line at least a typical run of its
 * session and such a run would end after the deadline: in a queue served in order, runs then start
 * just before their deadlines and end after them, so under overload nearly every run's result
 * arrives when its caller has given up. A call that did not wait always runs, so a deadline close
 * to a model's run time is the caller's to judge.
 */
export class RunAdmission {
  private readonly runTimes = new TypicalTimes<number>();

  /** Undefined to run; else the error to answer with. Times are epoch ms (Date.now()). */
  refusal(session: number, deadline: number | undefined, postedAt: number | undefined, now: number): ServingError | undefined {
    if (deadline === undefined) return undefined;
    const waitedMs = postedAt === undefined ? 0 : now - postedAt;
    if (now >= deadline) return deadlineExceeded(`${Math.round(waitedMs)} ms for the inference thread`);
    const typical = this.runTimes.typical(session);
    if (typical === undefined || waitedMs < typical || now + typical <= deadline) return undefined;
    return deadlineExceeded(`${Math.round(waitedMs)} ms for the inference thread, and its run (${typical.toFixed(1)} ms lately) would end after the deadline`);
  }

  record(session: number, ms: number): void {
    this.runTimes.record(session, ms);
  }

  forget(session: number): void {
    this.runTimes.forget(session);
  }
}
