/**
 * The client's address behind a reverse proxy. A proxy that terminates TLS for `wss://` (docs/deploy.md) is the
 * TCP peer of every client, so the per-IP limits would count all clients as one. The proxy appends the address it
 * saw to `X-Forwarded-For` (a comma list, nearest hop last); that header is believed only when the TCP peer is one
 * of `trustedProxies`, since anyone else can write anything into it.
 */
import { isIP } from 'node:net';
import { displayAddress } from '../gateway/ids.ts';

/** `trustedProxies` (a comma list of IP addresses, or empty) as a set in displayAddress form. */
export function trustedProxySet(setting: string): ReadonlySet<string> {
  return new Set(setting.split(',').map((a) => a.trim()).filter((a) => a !== '').map(displayAddress));
}

/**
 * The address of the client on whose behalf `peerAddress` connected: walking `X-Forwarded-For` from the nearest
 * hop, the first address that is not a trusted proxy. Undefined when the peer is not trusted, or the header is
 * absent or names no usable address (then the peer itself is the client).
 */
export function forwardedClient(peerAddress: string, header: string | string[] | undefined, trusted: ReadonlySet<string>): string | undefined {
  if (!trusted.has(displayAddress(peerAddress)) || header === undefined) return undefined;
  // Repeated headers are one list in order (RFC 9110 §5.3).
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',').map((h) => h.trim());
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    if (isIP(hop) === 0) return undefined; // `unknown`, an obfuscated name (RFC 7239 §6) or garbage: stop trusting here
    if (!trusted.has(displayAddress(hop))) return hop;
  }
  return undefined;
}
