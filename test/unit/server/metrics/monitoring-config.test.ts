import { describe, expect, it } from 'vitest';
import { parseMonitoringConfig } from '../../../../src/server/metrics/monitoring-config.js';

describe('parseMonitoringConfig (TF Serving --monitoring_config_file)', () => {
  it.each([
    ['a custom path', 'prometheus_config {\n  enable: true,\n  path: "/custom/metrics"\n}\n', '/custom/metrics'],
    ['the colon form', 'prometheus_config: { enable: true path: "/m" }', '/m'],
    ["TF Serving's default path (always served)", 'prometheus_config { enable: true path: "/monitoring/prometheus/metrics" }', undefined],
    ['enabled without a path (the default path)', 'prometheus_config { enable: true }', undefined],
    ['disabled (metrics stay at the usual paths)', 'prometheus_config { enable: false path: "/custom" }', undefined],
    ['an empty file', '', undefined],
  ])('%s', (_name, text, path) => {
    expect(parseMonitoringConfig(text)).toEqual({ metricsPath: path });
  });

  it.each([
    ['an unknown top-level field', 'logging_config { }', /unsupported field "logging_config"; supported: prometheus_config/],
    ['an unknown prometheus field', 'prometheus_config { enable: true port: 9000 }', /unsupported field "prometheus_config.port"; supported: enable, path/],
    ['a relative path', 'prometheus_config { enable: true path: "metrics" }', /prometheus_config.path must be a URL path starting with "\/", got "metrics"/],
    ['a path with a space', 'prometheus_config { enable: true path: "/a b" }', /must be a URL path/],
    ['enable that is not a bool', 'prometheus_config { enable: "yes" }', /prometheus_config.enable must be true or false/],
    ['a syntax error', 'prometheus_config { enable: true', /monitoring config/],
  ])('refuses %s', (_name, text, message) => {
    expect(() => parseMonitoringConfig(text)).toThrowError(message);
  });
});
