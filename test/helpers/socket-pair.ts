import type net from 'node:net';

/** Tracks a proxied pair of sockets in `open`; the returned drop() ends both and forgets them. */
export function trackSocketPair(open: Set<net.Socket>, client: net.Socket, upstream: net.Socket): () => void {
  open.add(client).add(upstream);
  return () => {
    client.destroy();
    upstream.destroy();
    open.delete(client);
    open.delete(upstream);
  };
}
