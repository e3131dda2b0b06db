/** The operator's own Prometheus metrics: a few counters and gauges, rendered as text. */
export class OperatorMetrics {
  private readonly counters = new Map<string, number>();
  private readonly gauges = new Map<string, number>();
  private readonly help = new Map<string, [string, 'counter' | 'gauge']>();

  constructor() {
    this.describe('tensorfleet_operator_reconciles_total', 'Reconciles by result', 'counter');
    this.describe('tensorfleet_operator_api_writes_total', 'API writes (apply, delete, status, event) by verb', 'counter');
    this.describe('tensorfleet_operator_watch_restarts_total', 'Informer restarts after a watch error', 'counter');
    this.describe('tensorfleet_operator_queue_depth', 'Keys waiting in the work queue', 'gauge');
    this.describe('tensorfleet_operator_leader', '1 while this replica leads', 'gauge');
    this.describe('tensorfleet_operator_pod_status_queries_total', 'Model status queries to model server pods by result', 'counter');
    this.describe('tensorfleet_operator_route_target_unavailable', '1 while a route target (canary, A/B, shadow or label version) of the ServedModel is not AVAILABLE on every pod', 'gauge');
  }

  private describe(name: string, help: string, type: 'counter' | 'gauge'): void {
    this.help.set(name, [help, type]);
  }

  private static key(name: string, labels: Record<string, string>): string {
    const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
    return parts.length > 0 ? `${name}{${parts.join(',')}}` : name;
  }

  inc(name: string, labels: Record<string, string> = {}, by = 1): void {
    const key = OperatorMetrics.key(name, labels);
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  set(name: string, value: number, labels: Record<string, string> = {}): void {
    this.gauges.set(OperatorMetrics.key(name, labels), value);
  }

  /** Drops one labelled gauge series (e.g. of a deleted ServedModel). */
  unset(name: string, labels: Record<string, string> = {}): void {
    this.gauges.delete(OperatorMetrics.key(name, labels));
  }

  /** Sum of a counter over all label sets. */
  total(name: string): number {
    let sum = 0;
    for (const [key, v] of this.counters) if (key === name || key.startsWith(`${name}{`)) sum += v;
    return sum;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, [help, type]] of this.help) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      const source = type === 'counter' ? this.counters : this.gauges;
      for (const [key, v] of source) if (key === name || key.startsWith(`${name}{`)) lines.push(`${key} ${v}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
