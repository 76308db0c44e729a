/**
 * Where a request goes (RFC 3263 §4): the session's next hop — outbound proxy or domain — turned into an address,
 * port and transport. The transport is chosen by configuration or the client (never by NAPTR), so the lookups
 * are: an IP address is used as is; a name with a port is resolved to an address (A/AAAA); a name without a port
 * first asks for SRV records `_sip._udp`/`_sip._tcp`/`_sips._tcp` (§4.2) and falls back to A/AAAA on the default
 * port.
 */
import { lookup, resolveSrv } from 'node:dns/promises';
import { isIP } from 'node:net';
import { SipError } from '../errors.ts';
import { isSipUri, type Uri } from '../message/types.ts';
import { formatUri } from '../message/uri.ts';
import { defaultPort } from '../transport/via.ts';
import type { Endpoint } from '../transport/transport.ts';

export type SipTransportName = 'UDP' | 'TCP' | 'TLS';

export interface NextHop {
  host: string;
  port?: number;
  transport: SipTransportName;
}

const SRV_PREFIX: Record<SipTransportName, string> = { UDP: '_sip._udp.', TCP: '_sip._tcp.', TLS: '_sips._tcp.' };

/**
 * The endpoint keeps the hop's host as `host`: over TLS the certificate must name it (RFC 5922 §4.1: the domain
 * asked for, not the target of its SRV record, which DNS could have forged).
 */
export async function resolveNextHop(hop: NextHop): Promise<Endpoint> {
  const host = hop.host.startsWith('[') && hop.host.endsWith(']') ? hop.host.slice(1, -1) : hop.host;
  if (isIP(host) !== 0) return { address: host, port: hop.port ?? defaultPort(hop.transport), host };
  let target = host;
  let port = hop.port;
  if (port === undefined) {
    const srv = await lookupSrv(SRV_PREFIX[hop.transport] + host);
    if (srv) {
      target = srv.name;
      port = srv.port;
    }
  }
  try {
    const { address } = await lookup(target);
    return { address, port: port ?? defaultPort(hop.transport), host };
  } catch (e) {
    throw new SipError('SIP_TRANSPORT', `cannot resolve SIP server ${target}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
}

/**
 * §4.1 for a URI of a dialog (its first route or remote target): its host and port, and the transport its
 * `transport` parameter names (UDP when none, TLS for sips). A tel: or other non-SIP URI cannot be a next hop:
 * SipError SIP_TRANSPORT.
 */
export function uriNextHop(uri: Uri): NextHop {
  if (!isSipUri(uri)) throw new SipError('SIP_TRANSPORT', `cannot send to a ${uri.scheme}: URI (${formatUri(uri)})`);
  const param = uri.params.get('transport')?.toUpperCase();
  const transport: SipTransportName = uri.scheme === 'sips' ? 'TLS' : param === 'TCP' || param === 'TLS' ? param : 'UDP';
  return { host: uri.host, transport, ...(uri.port !== undefined && { port: uri.port }) };
}

/**
 * The next hop of a new request to `target`: `hop`, unless `target` is a SIPS URI and `hop` is not TLS — RFC 3261
 * §26.2.2: "the request is sent over a secure transport [...] on each hop", so it is refused rather than sent in
 * clear (SipError SIP_TRANSPORT).
 */
export function hopTowards(hop: NextHop, target: Uri): NextHop {
  if (target.scheme === 'sips' && hop.transport !== 'TLS') {
    throw new SipError('SIP_TRANSPORT', `${formatUri(target)} is a sips: URI: it needs sipTransport tls, not ${hop.transport.toLowerCase()} (RFC 3261 §26.2.2)`);
  }
  return hop;
}

/** §4.4 (RFC 2782): lowest priority first; among equals, the highest weight (a simplification of weighted pick). */
async function lookupSrv(name: string): Promise<{ name: string; port: number } | undefined> {
  try {
    const records = await resolveSrv(name);
    records.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    return records[0];
  } catch {
    // No SRV records (ENOTFOUND / ENODATA) is the common case; fall back to A/AAAA.
    return undefined;
  }
}
