import { BlockList, isIP } from 'node:net';

/**
 * The proxy to reach `url` through, from the variables curl and most tools read:
 * `https_proxy`/`HTTPS_PROXY` for https URLs, `http_proxy`/`HTTP_PROXY` for http ones (lowercase
 * first), and `no_proxy`/`NO_PROXY` for the hosts to reach directly: comma- or space-separated
 * entries, `*` for every host, a name that also covers its subdomains (a leading `.` or `*.` is
 * ignored), an IP address, or (as Go programs read it, and Kubernetes proxy settings use it) a
 * CIDR block that an IP-address host falls in; names and addresses may end in `:port`. A proxy
 * without a scheme is `http://`.
 */
export function proxyFor(url: URL, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const scheme = url.protocol === 'https:' ? 'https' : url.protocol === 'http:' ? 'http' : undefined;
  if (scheme === undefined) return undefined;
  const proxy = read(env, `${scheme}_proxy`);
  if (proxy === undefined || bypassed(url, read(env, 'no_proxy') ?? '')) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

function read(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const value = (env[name] ?? env[name.toUpperCase()])?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  for (const raw of noProxy.toLowerCase().split(/[\s,]+/)) {
    if (raw === '') continue;
    if (raw === '*') return true;
    if (raw.includes('/')) {
      if (inCidr(host, raw)) return true;
      continue;
    }
    const [entryHost, entryPort] = splitPort(raw);
    if (entryPort !== undefined && entryPort !== port) continue;
    const name = entryHost.replace(/^\*?\./, '');
    if (host === name || (isIP(host) === 0 && host.endsWith(`.${name}`))) return true;
  }
  return false;
}

/** `host:port`, `[v6]:port`, or a bare host (an IPv6 address without brackets has no port). */
function splitPort(entry: string): [string, string | undefined] {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return [bracketed[1]!, bracketed[2]];
  if (isIP(entry) === 6) return [entry, undefined];
  const colon = entry.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(entry.slice(colon + 1)) ? [entry.slice(0, colon), entry.slice(colon + 1)] : [entry, undefined];
}

function inCidr(host: string, cidr: string): boolean {
  const hostFamily = isIP(host);
  const [network, bits] = cidr.split('/');
  const family = isIP(network ?? '');
  const prefix = Number(bits);
  if (hostFamily === 0 || family !== hostFamily || !Number.isInteger(prefix)) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefix < 0 || prefix > (family === 4 ? 32 : 128)) return false;
  const block = new BlockList();
  block.addSubnet(network!, prefix, type);
  return block.check(host, type);
}
