import type http from 'node:http';
import type net from 'node:net';
import type tls from 'node:tls';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';

type ConnectOpts = Parameters<HttpsProxyAgent<string>['connect']>[1];

/**
 * HttpsProxyAgent gives the TLS session to the store only each request's own options, and the
 * SDK's requests carry none: ours (the CA bundle as it is now, verification on or off) come from here.
 */
class StoreTlsProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: string,
    options: http.AgentOptions,
    private readonly storeTls: () => tls.ConnectionOptions,
  ) {
    super(proxy, { ...options, ...storeTls() });
  }

  override connect(req: http.ClientRequest, opts: ConnectOpts): Promise<net.Socket> {
    return super.connect(req, { ...opts, ...this.storeTls() });
  }
}

/**
 * Agents that reach the store through `proxy`: CONNECT tunnels for https, absolute-form requests
 * for http. `storeTls` is asked for every new tunnel (a CA bundle may have rotated).
 */
export function proxyAgents(proxy: string, options: http.AgentOptions, storeTls: () => tls.ConnectionOptions): { httpAgent: http.Agent; httpsAgent: http.Agent } {
  return { httpAgent: new HttpProxyAgent(proxy, options), httpsAgent: new StoreTlsProxyAgent(proxy, options, storeTls) };
}
