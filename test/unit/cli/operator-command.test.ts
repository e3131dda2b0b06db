import { describe, expect, it } from 'vitest';
import { OPERATOR_HELP, parseOperatorArgs } from '../../../src/cli/operator-command.js';

describe('tensorfleet operator flags', () => {
  it('turns durations in seconds into the options in milliseconds', () => {
    const options = parseOperatorArgs(['--resync=60', '--pod-status-interval=0', '--pod-status-timeout=1.5', '--autoscaling-grace=30', '--leader-elect']);
    expect(options).toMatchObject({ resyncMs: 60_000, podStatusIntervalMs: 0, podStatusTimeoutMs: 1500, autoscalingGraceMs: 30_000, leaderElect: true, logLevel: 'info' });
  });

  it('leaves unset flags to the defaults of runOperator', () => {
    const options = parseOperatorArgs([]);
    expect(options.autoscalingGraceMs).toBeUndefined();
    expect(options.resyncMs).toBeUndefined();
  });

  it('refuses unknown flags and documents every flag it takes', () => {
    expect(() => parseOperatorArgs(['--autoscaling-grace-seconds=30'])).toThrow(/Unknown option '--autoscaling-grace-seconds'/);
    for (const flag of ['--autoscaling-grace', '--pod-status-interval', '--resync', '--leader-elect']) expect(OPERATOR_HELP).toContain(flag);
  });
});
