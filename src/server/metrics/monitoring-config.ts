import { invalidArgument } from '../../shared/errors.js';
import { parseTextFormat } from '../config/text-format.js';

/** Where TF Serving serves Prometheus metrics when its monitoring config names no path. */
export const TF_SERVING_METRICS_PATH = '/monitoring/prometheus/metrics';

export interface MonitoringConfig {
  /** A further path the REST port serves metrics at, besides /metrics and TF_SERVING_METRICS_PATH. */
  readonly metricsPath: string | undefined;
}

/**
 * Reads TF Serving's --monitoring_config_file (text format):
 *   prometheus_config { enable: true, path: "/monitoring/prometheus/metrics" }
 * Metrics are always served at /metrics and TF Serving's default path, so the file matters only
 * when it names another path; unknown fields are refused.
 */
export function parseMonitoringConfig(text: string): MonitoringConfig {
  const doc = parseTextFormat(text, 'monitoring config');
  for (const field of Object.keys(doc)) {
    if (field !== 'prometheus_config') throw invalidArgument(`monitoring config: unsupported field "${field.replace(' (repeated)', '')}"; supported: prometheus_config`);
  }
  const prometheus = doc.prometheus_config;
  if (prometheus === undefined) return { metricsPath: undefined };
  if (typeof prometheus !== 'object' || prometheus === null || Array.isArray(prometheus)) {
    throw invalidArgument('monitoring config: prometheus_config must be a message, as in prometheus_config { enable: true }');
  }
  const { enable, path, ...rest } = prometheus as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw invalidArgument(`monitoring config: unsupported field "prometheus_config.${unknown[0]!.replace(' (repeated)', '')}"; supported: enable, path`);
  if (enable !== undefined && typeof enable !== 'boolean') throw invalidArgument('monitoring config: prometheus_config.enable must be true or false');
  if (path !== undefined && (typeof path !== 'string' || !/^\/[\x21-\x7e]*$/.test(path))) {
    throw invalidArgument(`monitoring config: prometheus_config.path must be a URL path starting with "/", got ${JSON.stringify(path)}`);
  }
  const wanted = enable === true && typeof path === 'string' && path !== '' ? path : undefined;
  return { metricsPath: wanted === TF_SERVING_METRICS_PATH || wanted === '/metrics' ? undefined : wanted };
}
