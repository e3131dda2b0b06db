import { describe, expect, it } from 'vitest';
import { RunAdmission } from '../../../../../src/server/servables/tensorflow/run-admission.js';

const NOW = 1_000_000;

describe('RunAdmission', () => {
  it('runs calls without a deadline, and refuses those whose deadline has passed', () => {
    const admission = new RunAdmission();
    expect(admission.refusal(1, undefined, undefined, NOW)).toBeUndefined();
    expect(admission.refusal(1, NOW, NOW - 40, NOW)).toMatchObject({ code: 'DEADLINE_EXCEEDED', message: 'deadline exceeded while the call waited 40 ms for the inference thread; it was not run' });
  });

  it('refuses a call that waited in line when a typical run of its session would end after its deadline', () => {
    const admission = new RunAdmission();
    // No runs of the session yet: nothing to judge by.
    expect(admission.refusal(1, NOW + 30, NOW - 60, NOW)).toBeUndefined();
    admission.record(1, 50);
    expect(admission.refusal(1, NOW + 30, NOW - 60, NOW)?.message).toBe(
      'deadline exceeded while the call waited 60 ms for the inference thread, and its run (50.0 ms lately) would end after the deadline; it was not run',
    );
    // Time enough left, or another session's runs: it runs.
    expect(admission.refusal(1, NOW + 50, NOW - 60, NOW)).toBeUndefined();
    expect(admission.refusal(2, NOW + 30, NOW - 60, NOW)).toBeUndefined();
  });

  it('runs a call that did not wait a typical run: a deadline close to the run time is the caller\'s to judge', () => {
    const admission = new RunAdmission();
    admission.record(1, 50);
    expect(admission.refusal(1, NOW + 30, NOW - 10, NOW)).toBeUndefined();
    expect(admission.refusal(1, NOW + 30, undefined, NOW)).toBeUndefined();
  });

  it('follows the session\'s recent runs, and forgets an unloaded session', () => {
    const admission = new RunAdmission();
    admission.record(1, 100);
    for (let i = 0; i < 30; i++) admission.record(1, 10);
    // ~10 ms lately: 20 ms left is enough.
    expect(admission.refusal(1, NOW + 20, NOW - 200, NOW)).toBeUndefined();
    admission.record(2, 100);
    admission.forget(2);
    expect(admission.refusal(2, NOW + 20, NOW - 200, NOW)).toBeUndefined();
  });
});
