/**
 * A session's SIP side, read from its connection fields after the connect hook (docs/client-protocol.md "SIP
 * settings of a session"): the identity (AOR `sip:<sipLogin>@<sipDomain>`), the digest credentials, the next hop,
 * whether to register, and SRTP towards SIP (`sipSrtp`).
 *
 * The fields come from a browser or from a backend's JSON, so they are read leniently where real clients differ
 * (SDK 2.0's demo sends `sipPort` as a string and `""` for blank inputs, a backend may send a numeric login) and
 * strictly where a value would end up in a SIP header: no control characters, a host that parses.
 */
import { isIP } from 'node:net';
import { inClass, USER } from '../sip/message/chars.ts';
import { isSipUri, type SipUri, type Uri } from '../sip/message/types.ts';
import { parseUri } from '../sip/message/uri.ts';
import { SipParseError } from '../sip/errors.ts';
import type { NextHop, SipAccount, SipTransportName } from '../sip/ua/index.ts';
import type { JsonObject } from '../hooks/types.ts';
import type { SrtpPolicy } from '../media/index.ts';
import { GatewayError } from './errors.ts';

export interface SipSettings {
  login?: string;
  /** Digest user name; defaults to `login`. */
  authenticationName?: string;
  password?: string;
  /** Display name in From. */
  visibleName?: string;
  domain?: string;
  outboundProxy?: string;
  port?: number;
  registerRequired: boolean;
  transport: SipTransportName;
  /** SRTP of the session's calls towards SIP (RFC 4568 SDES): `sipSrtp`, else the configuration's. */
  srtp: SrtpPolicy;
}

const TRANSPORTS: Readonly<Record<string, SipTransportName>> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS' };
const SRTP_POLICIES: ReadonlySet<string> = new Set<SrtpPolicy>(['off', 'optional', 'required']);
const CONTROL = /[\u0000-\u001f\u007f]/;

function invalid(message: string): never {
  throw new GatewayError('INVALID_SIP_SETTINGS', message);
}

/** A text field: a string or a number (a backend's `"sipLogin": 1000`); `""`, null and absent mean "not given". */
function text(fields: JsonObject, name: string): string | undefined {
  const v = fields[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') invalid(`${name} must be a string, got ${JSON.stringify(v)}`);
  if (CONTROL.test(v)) invalid(`${name} must not contain control characters`);
  return v.trim() === '' ? undefined : v;
}

function port(fields: JsonObject): number | undefined {
  const v = fields['sipPort'];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'string' && /^\d{1,5}$/.test(v.trim()) ? Number(v.trim()) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) {
    invalid(`sipPort must be a port number from 1 to 65535, got ${JSON.stringify(v)}`);
  }
  return n;
}

function flag(fields: JsonObject, name: string): boolean {
  const v = fields[name];
  if (v === undefined || v === null || v === '') return false;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  return invalid(`${name} must be true or false, got ${JSON.stringify(v)}`);
}

function transport(fields: JsonObject, fallback: string): SipTransportName {
  const v = text(fields, 'sipTransport') ?? fallback;
  const t = TRANSPORTS[v.toLowerCase()];
  if (t === undefined) invalid(`sipTransport must be udp, tcp or tls, got ${JSON.stringify(v)}`);
  return t;
}

function srtp(fields: JsonObject, fallback: SrtpPolicy): SrtpPolicy {
  const v = text(fields, 'sipSrtp') ?? fallback;
  if (!SRTP_POLICIES.has(v)) invalid(`sipSrtp must be off, optional or required, got ${JSON.stringify(v)}`);
  return v as SrtpPolicy;
}

/** Reads the sip* fields; throws GatewayError INVALID_SIP_SETTINGS naming the first bad one. */
export function readSipSettings(fields: JsonObject, defaultTransport: string, defaultSrtp: SrtpPolicy = 'off'): SipSettings {
  const s: SipSettings = {
    registerRequired: flag(fields, 'sipRegisterRequired'), transport: transport(fields, defaultTransport), srtp: srtp(fields, defaultSrtp),
  };
  const login = text(fields, 'sipLogin');
  const authenticationName = text(fields, 'sipAuthenticationName');
  const password = text(fields, 'sipPassword');
  const visibleName = text(fields, 'sipVisibleName');
  const domain = text(fields, 'sipDomain');
  const outboundProxy = text(fields, 'sipOutboundProxy');
  const p = port(fields);
  if (login !== undefined) s.login = login;
  if (authenticationName !== undefined) s.authenticationName = authenticationName;
  if (password !== undefined) s.password = password;
  if (visibleName !== undefined) s.visibleName = visibleName;
  if (domain !== undefined) s.domain = domain;
  if (outboundProxy !== undefined) s.outboundProxy = outboundProxy;
  if (p !== undefined) s.port = p;
  return s;
}

/**
 * `text` as the user part of a SIP URI (RFC 3261 §25.1 `user`): characters outside the class are %-escaped
 * (§19.1.2), so a login like `john doe` or `a@b` cannot break the URI.
 */
export function escapeUser(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c !== 0x25 && inClass(USER, c)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `host` or `host:port` (as sipDomain / sipOutboundProxy may be written) as a URI, or a clear error. */
function hostUri(field: string, value: string): SipUri {
  let uri: Uri;
  try {
    uri = parseUri(`sip:${value}`);
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
    return invalid(`${field} ${JSON.stringify(value)} is not a host name or address (${e.reason})`);
  }
  if (!isSipUri(uri) || uri.user !== undefined || uri.params.size > 0 || uri.headers.size > 0) {
    invalid(`${field} ${JSON.stringify(value)} is not a host name or address`);
  }
  return uri as SipUri;
}

/**
 * The next hop of every request of the session: `sipOutboundProxy` when set, else `sipDomain`; the port is
 * `sipPort`, else one written in the host field, else left to RFC 3263 (SRV, then the transport's default).
 */
function nextHopOf(s: SipSettings, domain: string): NextHop {
  const field = s.outboundProxy !== undefined ? 'sipOutboundProxy' : 'sipDomain';
  const hop = hostUri(field, s.outboundProxy ?? domain);
  const p = s.port ?? hop.port;
  return { host: hop.host, transport: s.transport, ...(p !== undefined && { port: p }) };
}

/** An IPv4 address or a bracketed IPv6 reference, as a SIP URI's host keeps it. */
function isIpLiteral(host: string): boolean {
  return isIP(host.startsWith('[') ? host.slice(1, -1) : host) !== 0;
}

/**
 * The account SIP requests of the session are sent as. Throws NO_SIP_IDENTITY without sipLogin and sipDomain,
 * INVALID_SIP_SETTINGS when they do not make a SIP address.
 */
export function accountOf(s: SipSettings): SipAccount {
  if (s.login === undefined || s.domain === undefined) {
    const missing = [s.login === undefined && 'sipLogin', s.domain === undefined && 'sipDomain'].filter(Boolean);
    throw new GatewayError('NO_SIP_IDENTITY', `no SIP identity: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set`);
  }
  const domain = hostUri('sipDomain', s.domain);
  // Written out rather than spread and extended: V8 gave each spread copy with `user` added a hidden class and
  // descriptor array of its own, some 300 bytes a session (a heap snapshot, docs/benchmarks.md).
  const aor: SipUri = { scheme: domain.scheme, user: escapeUser(s.login), host: domain.host, port: domain.port, params: domain.params, headers: domain.headers };
  // An IP literal names one server, not a domain RFC 3263 could look up, and with no outbound proxy that server is
  // the next hop: sipPort is its port, so it belongs in the AOR and thus the REGISTER Request-URI (RFC 3261 §10.2)
  // — a registrar on 127.0.0.1:5070 refuses `sip:127.0.0.1` as not its own (403 Not relaying). A host name keeps
  // the domain bare: the port is where the packets go, not part of the identity.
  if (s.outboundProxy === undefined && s.port !== undefined && aor.port === undefined && isIpLiteral(aor.host)) aor.port = s.port;
  const account: SipAccount = { aor, nextHop: nextHopOf(s, s.domain) };
  if (s.visibleName !== undefined) account.displayName = s.visibleName;
  if (s.password !== undefined) account.credentials = { username: s.authenticationName ?? s.login, password: s.password };
  return account;
}

/**
 * A message `to` (or call `callee`): a full `sip:`/`sips:`/`tel:` URI is used as is, `user@host` gets `sip:`,
 * anything else is a user in the session's domain (docs/client-protocol.md "SIP settings of a session").
 */
export function resolveTarget(to: string, domain: SipUri): Uri {
  const trimmed = to.trim();
  let text: string;
  if (/^(sips?|tel):/i.test(trimmed)) text = trimmed;
  else if (trimmed.includes('@')) text = `sip:${trimmed}`;
  else {
    const hostPort = domain.port !== undefined ? `${domain.host}:${domain.port}` : domain.host;
    text = `sip:${escapeUser(trimmed)}@${hostPort}`;
  }
  try {
    return parseUri(text);
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
    throw new GatewayError('INVALID_TARGET', `to ${JSON.stringify(to)} is not a SIP address (${e.reason})`);
  }
}
