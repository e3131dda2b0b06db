import { describe, expect, it } from 'vitest';
import { UtilizationMeter } from '../../../../../src/server/servables/tensorflow/utilization-meter.js';

describe('UtilizationMeter', () => {
  it('reports the share of the last interval the threads were busy', () => {
    let now = 0;
    let busy = 0;
    let threads = 1;
    const meter = new UtilizationMeter(() => busy, () => threads, () => now);
    expect(meter.recent).toBe(0);
    now = 100;
    busy = 97;
    meter.sample();
    expect(meter.recent).toBeCloseTo(0.97);
    // Two threads: 100 ms of work in 100 ms is half of what they could do.
    threads = 2;
    now = 200;
    busy = 197;
    meter.sample();
    expect(meter.recent).toBeCloseTo(0.5);
  });

  it('stays within 0..1 when a replaced thread starts counting again, or time did not move', () => {
    let now = 0;
    let busy = 500;
    const meter = new UtilizationMeter(() => busy, () => 1, () => now);
    now = 100;
    busy = 20;
    meter.sample();
    expect(meter.recent).toBe(0);
    meter.sample();
    expect(meter.recent).toBe(0);
    now = 150;
    busy = 200;
    meter.sample();
    expect(meter.recent).toBe(1);
  });

  it('is saturated from 95% busy until it falls below 80%, so a short dip does not flip it', () => {
    let now = 0;
    let busy = 0;
    const meter = new UtilizationMeter(() => busy, () => 1, () => now);
    const step = (busyMs: number): boolean => {
      now += 100;
      busy += busyMs;
      meter.sample();
      return meter.saturated;
    };
    expect([step(90), step(96), step(85), step(80), step(79), step(94), step(95)]).toEqual([false, true, true, true, false, false, true]);
  });
});
