import type { Registry } from 'prom-client';

/**
 * Counter and histogram for the metrics recorded on every request, registered in a prom-client
 * Registry and exposed exactly as prom-client's own (a unit test compares the text).
 *
 * prom-client turns the labels object into a string key on every inc/observe; for the four
 * request metrics that was ~1.5 KB of garbage per Predict call on the event loop, measured with
 * V8's sampling heap profiler. Here a series is found through one Map per label, and once it
 * exists recording allocates nothing.
 */
export interface RequestMetricDefinition {
  readonly name: string;
  readonly help: string;
  /** Up to five; values are passed to `series` in this order. */
  readonly labelNames: readonly string[];
  readonly registers: readonly Registry[];
}

interface MetricValue {
  readonly labels: Record<string, string | number>;
  /** As prom-client's histograms: the registry writes `labels` (`le`) first, then these. */
  readonly sharedLabels?: Record<string, string>;
  readonly value: number;
  readonly metricName?: string;
}

type MetricObject = { name: string; help: string; type: string; aggregator: string; values: MetricValue[] };

const MAX_LABELS = 5;

abstract class RequestMetric<S> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum';
  private readonly labelNames: readonly string[];
  private root = new Map<string, unknown>();
  protected entries: { readonly labels: Record<string, string>; readonly series: S }[] = [];

  constructor(definition: RequestMetricDefinition) {
    if (definition.labelNames.length < 1 || definition.labelNames.length > MAX_LABELS) {
      throw new Error(`${definition.name}: between 1 and ${MAX_LABELS} label names`);
    }
    this.name = definition.name;
    this.help = definition.help;
    this.labelNames = definition.labelNames;
    for (const registry of definition.registers) registry.registerMetric(this as never);
  }

  protected abstract newSeries(): S;

  /** The series for these label values, in `labelNames` order (positional, so no array per call). */
  series(v0: string, v1 = '', v2 = '', v3 = '', v4 = ''): S {
    const last = this.labelNames.length - 1;
    let node = this.root;
    for (let i = 0; i < last; i++) {
      const value = i === 0 ? v0 : i === 1 ? v1 : i === 2 ? v2 : v3;
      let next = node.get(value) as Map<string, unknown> | undefined;
      if (next === undefined) node.set(value, (next = new Map()));
      node = next;
    }
    const value = last === 0 ? v0 : last === 1 ? v1 : last === 2 ? v2 : last === 3 ? v3 : v4;
    let series = node.get(value) as S | undefined;
    if (series === undefined) {
      series = this.newSeries();
      node.set(value, series);
      const values = [v0, v1, v2, v3, v4];
      this.entries.push({ labels: Object.fromEntries(this.labelNames.map((name, i) => [name, values[i]!])), series });
    }
    return series;
  }

  /** prom-client's Registry calls this on `resetMetrics()`. */
  reset(): void {
    this.root = new Map();
    this.entries = [];
  }

  protected abstract values(): MetricValue[];

  /** What prom-client's Registry formats as text. */
  getForPromString(): MetricObject {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.values() };
  }

  /** What `getMetricsAsJSON` returns: shared labels merged in, as prom-client does. */
  get(): MetricObject {
    const metric = this.getForPromString();
    const values = metric.values.map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return { ...metric, values };
  }
}

export interface CounterSeries {
  value: number;
}

export class RequestCounter extends RequestMetric<CounterSeries> {
  readonly type = 'counter';

  protected newSeries(): CounterSeries {
    return { value: 0 };
  }

  protected values(): MetricValue[] {
    return this.entries.map(({ labels, series }) => ({ labels, value: series.value }));
  }
}

export class HistogramSeries {
  /** Observations per bucket, not cumulative; the last slot counts those above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class RequestHistogram extends RequestMetric<HistogramSeries> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];

  constructor(definition: RequestMetricDefinition & { readonly buckets: readonly number[] }) {
    super(definition);
    this.bounds = [...definition.buckets].sort((a, b) => a - b);
  }

  protected newSeries(): HistogramSeries {
    return new HistogramSeries(this.bounds);
  }

  protected values(): MetricValue[] {
    const out: MetricValue[] = [];
    for (const { labels, series } of this.entries) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += series.counts[i]!;
        out.push({ labels: { le }, sharedLabels: labels, value: cumulative, metricName: `${this.name}_bucket` });
      });
      out.push({ labels: { le: '+Inf' }, sharedLabels: labels, value: series.count, metricName: `${this.name}_bucket` });
      out.push({ labels, value: series.sum, metricName: `${this.name}_sum` });
      out.push({ labels, value: series.count, metricName: `${this.name}_count` });
    }
    return out;
  }
}
