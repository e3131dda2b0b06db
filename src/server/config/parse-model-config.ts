import { LineCounter, parseDocument } from 'yaml';
import { invalidArgument } from '../../shared/errors.js';
import {
  DEFAULT_VERSION_POLICY,
  type AbVariant,
  type ModelConfig,
  type ModelServerConfig,
  type RequestLoggingConfig,
  type RoutingConfig,
  type VersionPolicy,
} from './model-config.js';
import { parseTextFormat } from './text-format.js';
import { parseS3LogPrefix } from '../request-log/log-prefix.js';
import { isS3Uri } from '../sources/s3/s3-uri.js';
import { setOwnEntry } from '../../shared/own-entry.js';

/**
 * Parses the model config file: YAML (JSON is YAML) or TensorFlow Serving's protobuf text format,
 * told apart by content. Everything is validated and every problem is listed in one
 * INVALID_ARGUMENT error, each as `path: problem`. Unknown keys are errors: a typo such as
 * `base_pth` would otherwise silently fall back to a default. The result is deeply frozen.
 */
export function parseModelConfig(text: string): ModelServerConfig {
  return validateModelConfig(readDocument(text));
}

/** `--model_name` / `--model_base_path`: one model, default policy (latest 1), no labels. */
export function singleModelConfig(name: string, basePath: string): ModelServerConfig {
  return validateModelConfig({ model_config_list: [{ name, base_path: basePath }] });
}

const DEFAULT_SHADOW_TOLERANCE = 1e-5;
const PERCENT_SUM_TOLERANCE = 1e-9;
const LABEL_PATTERN = /^[a-zA-Z0-9_]+$/;
// RFC 9110 token characters; gRPC metadata keys are a subset.
const HEADER_PATTERN = /^[!#$%&'*+\-.^_`|~0-9a-zA-Z]+$/;

function readDocument(text: string): unknown {
  const withoutComments = text.replace(/#[^\n]*/g, '');
  // `model_config_list {` (no colon) is text format; nothing in YAML starts that way.
  if (/^\s*model_config_list\s*[{<]/.test(withoutComments)) return parseTextFormat(text);
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  if (doc.errors.length === 0) {
    try {
      return doc.toJS({ maxAliasCount: 100 }) as unknown;
    } catch (error) {
      // Well-formed YAML can still fail to resolve: an alias to no anchor, too many aliases.
      throw invalidArgument(`model config: ${firstLine((error as Error).message)}`);
    }
  }
  // `model_config_list: { config { ... } }` is also valid text format; try it before giving up.
  try {
    return parseTextFormat(text);
  } catch {
    const problems = doc.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return `line ${line.toString()}, column ${col.toString()}: ${firstLine(e.message)}`;
    });
    throw invalidArgument(`model config is neither valid YAML/JSON nor protobuf text format: ${problems.join('; ')}`);
  }
}

const firstLine = (s: string): string => s.split('\n')[0] ?? s;

class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: string, p: Problems): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) p.add(path === '' ? key : `${path}.${key}`, `unknown field (expected one of: ${allowed.join(', ')})`);
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A non-negative integer version. Decimal strings are accepted: proto JSON writes int64 as strings. */
function readVersion(v: unknown, path: string, p: Problems): number | undefined {
  const n = typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    p.add(path, `must be a non-negative integer version, got ${describe(v)}`);
    return undefined;
  }
  return n;
}

function readPercent(v: unknown, path: string, p: Problems): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) {
    p.add(path, `must be a number from 0 to 100, got ${describe(v)}`);
    return undefined;
  }
  return v;
}

/** Validates an already parsed document (plain objects) into a frozen ModelServerConfig. */
export function validateModelConfig(doc: unknown): ModelServerConfig {
  const p = new Problems();
  const models: ModelConfig[] = [];
  if (!isRecord(doc)) {
    p.add('(root)', `must be a mapping with model_config_list, got ${describe(doc)}`);
  } else {
    checkKeys(doc, ['model_config_list'], '', p);
    let list = doc.model_config_list;
    // Also accept protobuf JSON's shape, `model_config_list: {config: [...]}`.
    if (isRecord(list) && Object.keys(list).length === 1 && 'config' in list) list = list.config;
    if (list === undefined) p.add('model_config_list', 'is required');
    else if (!Array.isArray(list)) p.add('model_config_list', `must be a list of models, got ${describe(list)}`);
    else {
      const seen = new Map<string, number>();
      list.forEach((entry, i) => {
        const path = `model_config_list[${i}]`;
        const model = readModel(entry, path, p);
        // Checked on the raw name so a duplicate is reported even when the entry has other problems.
        const name = isRecord(entry) && typeof entry.name === 'string' && entry.name !== '' ? entry.name : undefined;
        if (name !== undefined) {
          const first = seen.get(name);
          if (first !== undefined) p.add(`${path}.name`, `duplicate model name "${name}" (also model_config_list[${first}])`);
          else seen.set(name, i);
        }
        if (model !== undefined) models.push(model);
      });
    }
  }
  if (p.list.length > 0) {
    throw invalidArgument(`invalid model config (${p.list.length} problem${p.list.length === 1 ? '' : 's'}): ${p.list.join('; ')}`);
  }
  return deepFreeze({ models });
}

const MODEL_KEYS = ['name', 'base_path', 'model_platform', 'model_version_policy', 'version_labels', 'routing', 'logging_config'];

function readModel(entry: unknown, path: string, p: Problems): ModelConfig | undefined {
  if (!isRecord(entry)) {
    p.add(path, `must be a mapping, got ${describe(entry)}`);
    return undefined;
  }
  checkKeys(entry, MODEL_KEYS, path, p);
  const { name, base_path: basePath, model_platform: platform } = entry;
  let ok = true;
  if (typeof name !== 'string' || name.trim() === '') {
    p.add(`${path}.name`, `must be a non-empty string, got ${describe(name)}`);
    ok = false;
  } else if (/[/\s]/.test(name)) {
    // The name is a URL path segment in the REST API (/v1/models/{name}).
    p.add(`${path}.name`, `must not contain '/' or whitespace, got ${JSON.stringify(name)}`);
    ok = false;
  }
  if (typeof basePath !== 'string' || basePath.trim() === '') {
    p.add(`${path}.base_path`, `is required (a local directory or s3:// URI), got ${describe(basePath)}`);
    ok = false;
  }
  if (platform !== undefined && platform !== 'tensorflow') {
    p.add(`${path}.model_platform`, `only "tensorflow" is supported, got ${describe(platform)}`);
  }
  const versionPolicy = readPolicy(entry.model_version_policy, `${path}.model_version_policy`, p);
  const versionLabels = readLabels(entry.version_labels, `${path}.version_labels`, p);
  const routing = readRouting(entry.routing, `${path}.routing`, p);
  const logging = readLogging(entry.logging_config, `${path}.logging_config`, p);
  if (!ok) return undefined;
  return { name: name as string, basePath: basePath as string, versionPolicy, versionLabels, routing, ...(logging ? { logging } : {}) };
}

function readPolicy(v: unknown, path: string, p: Problems): VersionPolicy {
  if (v === undefined || v === null) return DEFAULT_VERSION_POLICY;
  if (!isRecord(v)) {
    p.add(path, `must be one of {latest: {num_versions}}, {all: {}}, {specific: {versions}}, got ${describe(v)}`);
    return DEFAULT_VERSION_POLICY;
  }
  const kinds = Object.keys(v);
  if (kinds.length !== 1) {
    p.add(path, `must set exactly one of latest, all, specific; got ${kinds.length === 0 ? 'none' : kinds.join(', ')}`);
    return DEFAULT_VERSION_POLICY;
  }
  const kind = kinds[0]!;
  const body = v[kind] ?? {};
  const bodyPath = `${path}.${kind}`;
  if (!isRecord(body)) {
    if (['latest', 'all', 'specific'].includes(kind)) p.add(bodyPath, `must be a mapping, got ${describe(body)}`);
    else p.add(bodyPath, 'unknown policy (expected one of: latest, all, specific)');
    return DEFAULT_VERSION_POLICY;
  }
  switch (kind) {
    case 'latest': {
      checkKeys(body, ['num_versions'], bodyPath, p);
      const n = body.num_versions ?? 1;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
        p.add(`${bodyPath}.num_versions`, `must be an integer >= 1, got ${describe(n)}`);
        return DEFAULT_VERSION_POLICY;
      }
      return { kind: 'latest', numVersions: n };
    }
    case 'all':
      checkKeys(body, [], bodyPath, p);
      return { kind: 'all' };
    case 'specific': {
      checkKeys(body, ['versions'], bodyPath, p);
      const versions = body.versions;
      if (!Array.isArray(versions) || versions.length === 0) {
        p.add(`${bodyPath}.versions`, `must be a non-empty list of versions, got ${describe(versions)}`);
        return DEFAULT_VERSION_POLICY;
      }
      const read = versions.map((x, i) => readVersion(x, `${bodyPath}.versions[${i}]`, p));
      const valid = read.filter((x): x is number => x !== undefined);
      return { kind: 'specific', versions: [...new Set(valid)].sort((a, b) => a - b) };
    }
    default:
      p.add(bodyPath, 'unknown policy (expected one of: latest, all, specific)');
      return DEFAULT_VERSION_POLICY;
  }
}

function readLabels(v: unknown, path: string, p: Problems): Record<string, number> {
  const labels: Record<string, number> = {};
  if (v === undefined || v === null) return labels;
  if (!isRecord(v)) {
    p.add(path, `must be a mapping of label to version, got ${describe(v)}`);
    return labels;
  }
  for (const [label, version] of Object.entries(v)) {
    if (!LABEL_PATTERN.test(label)) {
      p.add(`${path}.${label}`, 'label must match [a-zA-Z0-9_]+');
      continue;
    }
    const n = readVersion(version, `${path}.${label}`, p);
    if (n !== undefined) setOwnEntry(labels, label, n);
  }
  return labels;
}

/** The one collector type: TFRecord files of PredictionLogs, the format warmup files use. */
export const TFRECORD_COLLECTOR = 'tfrecord';

function readLogging(v: unknown, path: string, p: Problems): RequestLoggingConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) {
    p.add(path, `must be a mapping {log_collector_config, sampling_config}, got ${describe(v)}`);
    return undefined;
  }
  checkKeys(v, ['log_collector_config', 'sampling_config'], path, p);
  const collector = v.log_collector_config;
  if (!isRecord(collector)) {
    p.add(`${path}.log_collector_config`, `is required: {type: ${TFRECORD_COLLECTOR}, filename_prefix: /path/prefix}, got ${describe(collector)}`);
    return undefined;
  }
  checkKeys(collector, ['type', 'filename_prefix'], `${path}.log_collector_config`, p);
  if (collector.type !== TFRECORD_COLLECTOR) {
    p.add(`${path}.log_collector_config.type`, `must be "${TFRECORD_COLLECTOR}" (TFRecord files of PredictionLogs, the only collector), got ${describe(collector.type)}`);
  }
  const prefix = collector.filename_prefix;
  if (typeof prefix !== 'string' || prefix.trim() === '') p.add(`${path}.log_collector_config.filename_prefix`, `must be a non-empty path prefix, got ${describe(prefix)}`);
  const s3Problem = typeof prefix === 'string' && isS3Uri(prefix) ? parseS3LogPrefix(prefix) : undefined;
  if (typeof s3Problem === 'string') p.add(`${path}.log_collector_config.filename_prefix`, s3Problem);
  const sampling = v.sampling_config ?? {};
  let rate = 0;
  if (!isRecord(sampling)) {
    p.add(`${path}.sampling_config`, `must be a mapping {sampling_rate}, got ${describe(sampling)}`);
  } else {
    checkKeys(sampling, ['sampling_rate'], `${path}.sampling_config`, p);
    rate = (sampling.sampling_rate as number | undefined) ?? 0;
    if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) p.add(`${path}.sampling_config.sampling_rate`, `must be a number from 0 to 1, got ${describe(sampling.sampling_rate)}`);
  }
  if (collector.type !== TFRECORD_COLLECTOR || typeof prefix !== 'string' || prefix.trim() === '' || typeof s3Problem === 'string' || typeof rate !== 'number') return undefined;
  return { filenamePrefix: prefix, samplingRate: rate };
}

function readRouting(v: unknown, path: string, p: Problems): RoutingConfig {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) {
    p.add(path, `must be a mapping with canary, ab_test and/or shadow, got ${describe(v)}`);
    return {};
  }
  checkKeys(v, ['canary', 'ab_test', 'shadow'], path, p);
  const routing: { -readonly [K in keyof RoutingConfig]: RoutingConfig[K] } = {};
  if (v.canary !== undefined && v.ab_test !== undefined) {
    p.add(path, 'canary and ab_test are mutually exclusive; set one of them');
  }
  if (v.canary !== undefined) {
    const c = v.canary;
    const cp = `${path}.canary`;
    if (!isRecord(c)) p.add(cp, `must be a mapping {version, percent}, got ${describe(c)}`);
    else {
      checkKeys(c, ['version', 'percent'], cp, p);
      const version = readVersion(c.version, `${cp}.version`, p);
      const percent = readPercent(c.percent, `${cp}.percent`, p);
      if (version !== undefined && percent !== undefined) routing.canary = { version, percent };
    }
  }
  if (v.ab_test !== undefined) {
    const ab = v.ab_test;
    const ap = `${path}.ab_test`;
    if (!isRecord(ab)) p.add(ap, `must be a mapping {key: {header}, variants}, got ${describe(ab)}`);
    else {
      checkKeys(ab, ['key', 'variants'], ap, p);
      let keyHeader: string | undefined;
      if (!isRecord(ab.key)) p.add(`${ap}.key`, `must be a mapping {header}, got ${describe(ab.key)}`);
      else {
        checkKeys(ab.key, ['header'], `${ap}.key`, p);
        const h = ab.key.header;
        if (typeof h !== 'string' || !HEADER_PATTERN.test(h)) {
          p.add(`${ap}.key.header`, `must be a header name, got ${describe(h)}`);
        } else {
          // HTTP/2 and gRPC metadata keys are lowercase; matching is done on lowercase names.
          keyHeader = h.toLowerCase();
        }
      }
      const variants = readVariants(ab.variants, `${ap}.variants`, p);
      if (keyHeader !== undefined && variants !== undefined) routing.abTest = { keyHeader, variants };
    }
  }
  if (v.shadow !== undefined) {
    const s = v.shadow;
    const sp = `${path}.shadow`;
    if (!isRecord(s)) p.add(sp, `must be a mapping {version, percent, tolerance}, got ${describe(s)}`);
    else {
      checkKeys(s, ['version', 'percent', 'tolerance'], sp, p);
      const version = readVersion(s.version, `${sp}.version`, p);
      const percent = readPercent(s.percent, `${sp}.percent`, p);
      const tolerance = s.tolerance ?? DEFAULT_SHADOW_TOLERANCE;
      const toleranceOk = typeof tolerance === 'number' && Number.isFinite(tolerance) && tolerance >= 0;
      if (!toleranceOk) p.add(`${sp}.tolerance`, `must be a non-negative number, got ${describe(tolerance)}`);
      if (version !== undefined && percent !== undefined && toleranceOk) routing.shadow = { version, percent, tolerance };
    }
  }
  return routing;
}

function readVariants(v: unknown, path: string, p: Problems): AbVariant[] | undefined {
  if (!Array.isArray(v) || v.length === 0) {
    p.add(path, `must be a non-empty list of {version, percent}, got ${describe(v)}`);
    return undefined;
  }
  const variants: AbVariant[] = [];
  let complete = true;
  v.forEach((x, i) => {
    const vp = `${path}[${i}]`;
    if (!isRecord(x)) {
      p.add(vp, `must be a mapping {version, percent}, got ${describe(x)}`);
      complete = false;
      return;
    }
    checkKeys(x, ['version', 'percent'], vp, p);
    const version = readVersion(x.version, `${vp}.version`, p);
    const percent = readPercent(x.percent, `${vp}.percent`, p);
    if (version === undefined || percent === undefined) {
      complete = false;
      return;
    }
    if (variants.some((o) => o.version === version)) p.add(`${vp}.version`, `version ${version} appears in more than one variant`);
    variants.push({ version, percent });
  });
  if (!complete) return undefined;
  const sum = variants.reduce((s, x) => s + x.percent, 0);
  if (Math.abs(sum - 100) > PERCENT_SUM_TOLERANCE) p.add(path, `percents must sum to 100, got ${sum}`);
  return variants;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
