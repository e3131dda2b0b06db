import { describe, expect, it } from 'vitest';
import { BdpEstimator } from '../../../../../src/server/transports/grpc/bdp-estimator.js';

const KIB = 1024;

describe('BdpEstimator', () => {
  it('grows the window past what one round trip carried while the window was the limit', () => {
    const estimator = new BdpEstimator(64 * KIB, 16 * 1024 * KIB);
    expect(estimator.sample(64 * KIB, false)).toBe(128 * KIB);
    // A round trip that carried more than the window (the connection allows twice as much).
    expect(estimator.sample(200 * KIB, false)).toBe(400 * KIB);
    expect(estimator.window).toBe(400 * KIB);
    expect(estimator.nextProbeDelayMs).toBe(0);
  });

  it('grows from half a window a round trip: the receiver returns credit by halves', () => {
    expect(new BdpEstimator(64 * KIB, 16 * 1024 * KIB).sample(32 * KIB, false)).toBe(128 * KIB);
  });

  it('keeps the window when a round trip carried less than half of it, and backs off', () => {
    const estimator = new BdpEstimator(64 * KIB, 16 * 1024 * KIB);
    expect(estimator.sample(31 * KIB, false)).toBeUndefined();
    expect(estimator.window).toBe(64 * KIB);
    const delays = [estimator.nextProbeDelayMs];
    for (let i = 0; i < 10; i++) {
      estimator.sample(0, false);
      delays.push(estimator.nextProbeDelayMs);
    }
    expect(delays.slice(0, 4)).toEqual([BdpEstimator.FIRST_DELAY_MS, 200, 400, 800]);
    expect(delays.at(-1)).toBe(BdpEstimator.MAX_DELAY_MS);
  });

  it('stops at its maximum', () => {
    const estimator = new BdpEstimator(64 * KIB, 256 * KIB);
    expect(estimator.sample(64 * KIB, false)).toBe(128 * KIB);
    expect(estimator.sample(1024 * KIB, false)).toBe(256 * KIB);
    expect(estimator.sample(1024 * KIB, false)).toBeUndefined();
    expect(estimator.window).toBe(256 * KIB);
  });

  it('goes back to the initial window while the server is saturated, then grows again once it is not', () => {
    const estimator = new BdpEstimator(64 * KIB, 16 * 1024 * KIB);
    estimator.sample(64 * KIB, false);
    estimator.sample(128 * KIB, false);
    expect(estimator.window).toBe(256 * KIB);
    expect(estimator.sample(256 * KIB, true)).toBe(64 * KIB);
    expect(estimator.nextProbeDelayMs).toBe(BdpEstimator.FIRST_DELAY_MS);
    // Still saturated: nothing to change, so it backs off.
    expect(estimator.sample(64 * KIB, true)).toBeUndefined();
    expect(estimator.nextProbeDelayMs).toBe(2 * BdpEstimator.FIRST_DELAY_MS);
    expect(estimator.sample(64 * KIB, false)).toBe(128 * KIB);
  });

  it('never goes below a larger initial window set by the user', () => {
    const estimator = new BdpEstimator(4096 * KIB, 1024 * KIB);
    expect(estimator.sample(4096 * KIB, false)).toBeUndefined();
    expect(estimator.sample(0, true)).toBeUndefined();
    expect(estimator.window).toBe(4096 * KIB);
  });
});
