/**
 * The Via rules of the transport layer, as pure functions over the Via model: the branch and `rport` of requests we
 * send (RFC 3261 §8.1.1.7, RFC 3581 §3), `received` / `rport` stamped on requests we receive (RFC 3261 §18.2.1,
 * RFC 3581 §4), and where a response goes (RFC 3261 §18.2.2, RFC 3581 §4).
 */
import { isIP } from 'node:net';
import { newBranch } from '../message/builders.ts';
import type { Via } from '../message/types.ts';
import { normalizeAddress, type Endpoint, type TransportProtocol } from './transport.ts';

/** RFC 3263 §4.2 default ports: 5061 for TLS (and WSS), 5060 otherwise. */
export function defaultPort(transport: string): number {
  const t = transport.toUpperCase();
  return t === 'TLS' || t === 'WSS' ? 5061 : 5060;
}

/** A host as it goes into a Via sent-by: IPv6 references in brackets (RFC 3261 §25.1 hostport). */
export function viaHost(address: string): string {
  return isIP(address) === 6 ? `[${address}]` : address;
}

/**
 * The Via for a request we send (RFC 3261 §8.1.1.7, §18.1.1): our advertised sent-by, a fresh branch unless one is
 * given (z9hG4bK + random), and an empty `rport` asking the next hop to tell us the port it saw (RFC 3581 §3),
 * which makes responses find us behind NAT. Over TLS also `alias` (RFC 5923 §5): the next hop may send its own
 * requests for our sent-by over this connection, so a registrar reaches our Contact without connecting to us.
 */
export function requestVia(protocol: TransportProtocol, sentBy: Endpoint, branch: string = newBranch()): Via {
  return {
    protocol: 'SIP/2.0',
    transport: protocol,
    host: viaHost(sentBy.address),
    port: sentBy.port,
    params: new Map<string, string | null>([
      ['branch', branch],
      ['rport', null],
      // RFC 5923 §5 is for TLS only: a TCP peer is not authenticated, so aliasing its connection is unsafe.
      ...(protocol === 'TLS' ? [['alias', null] as const] : []),
    ]),
  };
}

/**
 * RFC 3261 §18.2.1: a received request gets `received=<source address>` when the sent-by host differs from it.
 * RFC 3581 §4: an empty `rport` is filled with the source port, and then `received` is added even when the host
 * is the same. Returns whether the Via changed.
 */
export function stampReceived(via: Via, source: Endpoint): boolean {
  const address = normalizeAddress(source.address);
  let changed = false;
  const rportRequested = via.params.has('rport') && via.params.get('rport') === null;
  if (rportRequested) {
    via.params.set('rport', String(source.port));
    changed = true;
  }
  if (rportRequested || normalizeAddress(via.host) !== address) {
    via.params.set('received', address);
    changed = true;
  }
  return changed;
}

/**
 * Where a response goes over an unreliable transport, from its top Via (which carries what `stampReceived` added):
 * RFC 3261 §18.2.2 and RFC 3581 §4, in their order of precedence —
 * `maddr` (sent-by port), then `received` with `rport`, then `received` (sent-by port), then sent-by itself.
 * With `useRport` false (a reliable transport whose connection is gone) the sent-by port is used, since the
 * `rport` then names a closed connection's ephemeral port.
 */
export function viaDestination(via: Via, useRport = true): Endpoint {
  const port = via.port ?? defaultPort(via.transport);
  const maddr = via.params.get('maddr');
  if (maddr) return { address: normalizeAddress(maddr), port };
  const received = via.params.get('received');
  const rport = Number(via.params.get('rport'));
  if (received && useRport && Number.isInteger(rport) && rport > 0 && rport <= 65535) {
    return { address: normalizeAddress(received), port: rport };
  }
  return { address: normalizeAddress(received || via.host), port };
}
