import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestCounter, RequestHistogram } from '../../../../src/server/metrics/request-metrics.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: [string, string, string, number][] = [
  ['m', 'predict', 'GRPC', 0.0005],
  ['m', 'predict', 'GRPC', 0.001],
  ['m', 'predict', 'GRPC', 0.05],
  ['m', 'predict', 'REST', 3],
  ['other "quoted"\\model', 'metadata', 'GRPC', 0.2],
  ['m', 'predict', 'GRPC', 0.0011],
];

describe('request metrics', () => {
  it('expose exactly the text prom-client exposes for the same calls', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const labelNames = ['model', 'api', 'entrypoint'];
    const counter = new Counter({ name: 'calls_total', help: 'Calls.', labelNames, registers: [theirs] });
    const histogram = new Histogram({ name: ':ns:latency', help: 'Latency.', labelNames, buckets: BUCKETS, registers: [theirs] });
    const ourCounter = new RequestCounter({ name: 'calls_total', help: 'Calls.', labelNames, registers: [ours] });
    const ourHistogram = new RequestHistogram({ name: ':ns:latency', help: 'Latency.', labelNames, buckets: [...BUCKETS].reverse(), registers: [ours] });
    for (const [model, api, entrypoint, value] of OBSERVATIONS) {
      counter.inc({ model, api, entrypoint });
      histogram.observe({ model, api, entrypoint }, value);
      ourCounter.series(model, api, entrypoint).value++;
      ourHistogram.series(model, api, entrypoint).observe(value);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const json = async (registry: Registry) =>
      (await registry.getMetricsAsJSON()).map(({ name, type, values }) => ({
        name,
        type,
        values: values.map((v) => ({ labels: v.labels, value: v.value, metricName: (v as { metricName?: string }).metricName })),
      }));
    expect(await json(ours)).toEqual(await json(theirs));
  });

  it('find one series per label combination, including single-label and five-label metrics', () => {
    const registry = new Registry();
    const one = new RequestCounter({ name: 'one', help: 'h', labelNames: ['a'], registers: [registry] });
    const five = new RequestCounter({ name: 'five', help: 'h', labelNames: ['a', 'b', 'c', 'd', 'e'], registers: [registry] });
    expect(one.series('x')).toBe(one.series('x'));
    expect(one.series('x')).not.toBe(one.series('y'));
    five.series('1', '2', '3', '4', '5').value += 2;
    five.series('1', '2', '3', '4', '6').value += 1;
    expect(five.get().values).toEqual([
      { labels: { a: '1', b: '2', c: '3', d: '4', e: '5' }, value: 2 },
      { labels: { a: '1', b: '2', c: '3', d: '4', e: '6' }, value: 1 },
    ]);
  });

  it('start over on the registry reset, and refuse a name registered twice', async () => {
    const registry = new Registry();
    const counter = new RequestCounter({ name: 'c', help: 'h', labelNames: ['a'], registers: [registry] });
    counter.series('x').value++;
    registry.resetMetrics();
    expect(await registry.metrics()).toBe('# HELP c h\n# TYPE c counter\n');
    expect(() => new RequestCounter({ name: 'c', help: 'h', labelNames: ['a'], registers: [registry] })).toThrow(/already been registered/);
    expect(() => new RequestCounter({ name: 'none', help: 'h', labelNames: [], registers: [registry] })).toThrow(/between 1 and 5/);
  });
});
