/**
 * The SIP message model (RFC 3261 §7, §19.1, §20, §25). One shape for everything above the parser: transports,
 * transactions, registration and the gateway all see these types and nothing of the wire text.
 *
 * Header values are kept as raw strings in wire order (so a message round-trips without surprises); the typed
 * views (Via, NameAddr, CSeq, …) are parsed on demand by the functions of ./headers.ts.
 */

/** URI or header parameters. Names are lower-cased (RFC 3261 §19.1.4: parameter names compare case-insensitively);
 * values keep their case and escaping (a quoted-string header parameter value keeps its quotes: `unquote()` reads
 * it); `null` for a parameter without `=value` (e.g. `;lr`). Insertion ordered. */
export type Params = Map<string, string | null>;

/** RFC 3261 §19.1: sip: / sips: URI. `host` keeps IPv6 references in brackets (`[::1]`). `user` and `password` are
 * kept escaped as on the wire. Other schemes (tel:, urn:, …) only ever appear as AbsoluteUri. */
export interface SipUri {
  scheme: 'sip' | 'sips';
  user?: string;
  password?: string;
  host: string;
  port?: number;
  params: Params;
  /** URI headers (`?subject=x&priority=urgent`): names as written, values escaped. */
  headers: Map<string, string>;
}

/** A non-SIP URI (RFC 3261 §25.1 absoluteURI), kept opaque: `tel:+1234`, `urn:service:sos`. */
export interface AbsoluteUri {
  scheme: string;
  /** Everything after the first ':' */
  opaque: string;
}

export type Uri = SipUri | AbsoluteUri;

export function isSipUri(u: Uri): u is SipUri {
  return u.scheme === 'sip' || u.scheme === 'sips';
}

/** RFC 3261 §20.10, §25.1 name-addr / addr-spec with header parameters (From, To, Contact, Route, …). */
export interface NameAddr {
  /** Unquoted display name (escapes resolved); undefined when absent. */
  displayName?: string;
  uri: Uri;
  params: Params;
}

/** RFC 3261 §20.42: one Via entry. */
export interface Via {
  /** 'SIP/2.0' in practice; kept for round-trips. */
  protocol: string;
  /** Upper-case transport token: UDP, TCP, TLS, WS, WSS, SCTP … */
  transport: string;
  host: string;
  port?: number;
  params: Params;
}

/** RFC 3261 §20.16 */
export interface CSeq {
  seq: number;
  method: string;
}

/** RFC 3261 §25.1 challenge / credentials (WWW-Authenticate, Proxy-Authenticate, Authorization, …). */
export interface AuthHeader {
  /** 'Digest' in practice. */
  scheme: string;
  /** auth-params, names lower-cased, values unquoted. */
  params: Map<string, string>;
}

/** One header line as it travels: canonical long-form name (see ./header-names.ts) and raw value. */
export interface HeaderField {
  name: string;
  value: string;
}
