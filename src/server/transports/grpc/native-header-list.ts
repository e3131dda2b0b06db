/**
 * Node's HTTP/2 binding takes header blocks as `[entries, count]`, where `entries` concatenates
 * `name \0 value \0 flags` for each header and `flags` is one character (here NGHTTP2_NV_FLAG_NONE).
 * This is the format Node's own encoder builds (`mapToHeaders` in Node 20, `buildNgHeaderString`
 * in 22 and 24); prompt-trailers.ts hands it to the binding.
 */
export type NativeHeaderList = [entries: string, count: number];

const NO_FLAGS = '\0';
// HTTP field names as HTTP/2 sends them: lowercase tokens (RFC 9110 5.6.2, RFC 9113 8.2.1).
const FIELD_NAME = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;
const FIELD_VALUE = /^[^\0\r\n]*$/;
// Connection-specific fields, which HTTP/2 forbids (RFC 9113 8.2.2); Node refuses them with its own error.
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te']);

/**
 * Encodes plain trailers (lowercase names, string, number or string-array values) as Node's
 * binding expects them. Returns undefined for anything else (pseudo-headers, odd names or values,
 * connection-specific fields, Node's sensitive-header marker), so the caller can leave those to
 * Node and its checks.
 */
export function nativeTrailerList(trailers: Record<string, unknown>): NativeHeaderList | undefined {
  if (Object.getOwnPropertySymbols(trailers).length > 0) return undefined;
  let entries = '';
  let count = 0;
  for (const [name, value] of Object.entries(trailers)) {
    if (value === undefined) continue;
    if (!FIELD_NAME.test(name) || CONNECTION_SPECIFIC.has(name)) return undefined;
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (typeof item !== 'string' && typeof item !== 'number') return undefined;
      const text = String(item);
      if (!FIELD_VALUE.test(text)) return undefined;
      entries += `${name}\0${text}\0${NO_FLAGS}`;
      count++;
    }
  }
  return [entries, count];
}
