/**
 * Typed views over the raw header values of a SipMessage (RFC 3261 §20). Each is parsed on demand from the raw
 * text, so a message costs nothing for the headers nobody reads. Every function throws SipParseError naming the
 * header when the value is missing (where it is mandatory) or malformed.
 */
import { SipParseError } from '../errors.ts';
import { allIn, endOfQuoted, inClass, isToken, quote, skipWsp, TOKEN, unquote, WORD } from './chars.ts';
import { readHostPort } from './host.ts';
import { splitList, type SipMessage } from './message.ts';
import { parseNameAddr } from './name-addr.ts';
import { formatParams, readParams } from './params.ts';
import type { AuthHeader, CSeq, NameAddr, Via } from './types.ts';

/** Runs `parse` and prefixes a SipParseError's reason with the header it came from. */
function inHeader<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof SipParseError) throw new SipParseError(`Bad ${name} header: ${e.reason}`);
    throw e;
  }
}

function required(msg: SipMessage, name: string): string {
  const v = msg.headers.get(name);
  if (v === undefined) throw new SipParseError(`Missing ${name} header`);
  return v;
}

// --- Via (RFC 3261 §20.42) -------------------------------------------------------------------------------------

/**
 * via-parm = sent-protocol LWS sent-by *( SEMI via-params ); sent-protocol = protocol-name SLASH protocol-version
 * SLASH transport, where SLASH = SWS "/" SWS (RFC 4475 §3.1.1.1 spreads it over folded lines).
 */
export function parseVia(value: string): Via {
  let i = skipWsp(value, 0);
  const name = readToken(value, i, 'protocol name');
  i = expectSlash(value, i + name.length);
  const version = readToken(value, i, 'protocol version');
  i = expectSlash(value, i + version.length);
  const transport = readToken(value, i, 'transport');
  i += transport.length;
  const afterTransport = i;
  i = skipWsp(value, i);
  if (i === afterTransport) throw new SipParseError('missing whitespace before sent-by');
  const hp = readHostPort(value, i, true);
  const via: Via = { protocol: `${name}/${version}`, transport: transport.toUpperCase(), host: hp.host, params: new Map() };
  if (hp.port !== undefined) via.port = hp.port;
  readParams(value, hp.end, 'header', via.params);
  const rport = via.params.get('rport');
  // RFC 3581 §3: rport is empty in a request and carries the source port in a response.
  if (rport !== undefined && rport !== null && !/^\d{1,5}$/.test(rport)) throw new SipParseError('bad rport');
  return via;
}

function readToken(s: string, i: number, what: string): string {
  let j = i;
  while (j < s.length && inClass(TOKEN, s.charCodeAt(j))) j++;
  if (j === i) throw new SipParseError(`missing ${what}`);
  return s.slice(i, j);
}

function expectSlash(s: string, i: number): number {
  i = skipWsp(s, i);
  if (s.charCodeAt(i) !== 0x2f /* / */) throw new SipParseError("expected '/' in sent-protocol");
  return skipWsp(s, i + 1);
}

export function formatVia(v: Via): string {
  const port = v.port !== undefined ? `:${v.port}` : '';
  return `${v.protocol}/${v.transport} ${v.host}${port}${formatParams(v.params)}`;
}

/** Every Via entry, top first (comma lists and repeated lines alike, RFC 3261 §7.3.1). */
export function getVias(msg: SipMessage): Via[] {
  return inHeader('Via', () => msg.headers.getAll('Via').map(parseVia));
}

/** The top Via: where a response goes (RFC 3261 §18.2.2) and what a transaction is matched by (§17.2.3). */
export function topVia(msg: SipMessage): Via {
  const first = splitList(required(msg, 'Via'))[0];
  if (first === undefined) throw new SipParseError('Bad Via header: empty value');
  return inHeader('Via', () => parseVia(first));
}

// --- CSeq, Call-ID, Max-Forwards, Expires ---------------------------------------------------------------------

/**
 * CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16). The number must fit 32 bits unsigned (§8.1.1.5; RFC 4475 §3.1.2.4
 * answers an overlarge one with 400).
 */
export function parseCSeq(value: string): CSeq {
  const m = /^[ \t]*(\d{1,10})[ \t]+(\S+)[ \t]*$/.exec(value);
  if (m === null || !isToken(m[2]!)) throw new SipParseError('expected "<number> <method>"');
  const seq = Number(m[1]);
  if (seq > 0xffffffff) throw new SipParseError('sequence number out of range');
  return { seq, method: m[2]! };
}

export function getCSeq(msg: SipMessage): CSeq {
  const v = required(msg, 'CSeq');
  return inHeader('CSeq', () => parseCSeq(v));
}

/** callid = word [ "@" word ] (RFC 3261 §25.1). Returns the value without surrounding whitespace. */
export function parseCallId(value: string): string {
  const v = value.trim();
  const at = v.indexOf('@');
  const ok = at < 0 ? allIn(WORD, v, false) : allIn(WORD, v.slice(0, at), false) && allIn(WORD, v.slice(at + 1), false);
  if (!ok) throw new SipParseError('expected word [ "@" word ]');
  return v;
}

export function getCallId(msg: SipMessage): string {
  const v = required(msg, 'Call-ID');
  return inHeader('Call-ID', () => parseCallId(v));
}

/** Max-Forwards = 1*DIGIT, 0–255 (RFC 3261 §20.22). */
export function parseMaxForwards(value: string): number {
  const t = value.trim();
  // 1*DIGIT: leading zeros are fine (RFC 4475 §3.1.1.1 sends "0068").
  if (!/^\d{1,10}$/.test(t) || Number(t) > 255) throw new SipParseError('expected 0-255');
  return Number(t);
}

/** undefined when absent (RFC 2543 peers omit it, RFC 4475 §3.4.1). */
export function getMaxForwards(msg: SipMessage): number | undefined {
  const v = msg.headers.get('Max-Forwards');
  return v === undefined ? undefined : inHeader('Max-Forwards', () => parseMaxForwards(v));
}

/**
 * Expires = delta-seconds (RFC 3261 §20.19). A value that is not a number in 0 … 2^32-1 reads as absent: RFC 4475
 * §3.1.2.4 lets an element treat an aberrant expiry as the default, and an RFC 2543 date form means the same.
 */
export function getExpires(msg: SipMessage): number | undefined {
  const v = msg.headers.get('Expires')?.trim();
  if (v === undefined || !/^\d{1,10}$/.test(v)) return undefined;
  const n = Number(v);
  return n <= 0xffffffff ? n : undefined;
}

// --- From, To, Contact ------------------------------------------------------------------------------------------

export function getFrom(msg: SipMessage): NameAddr {
  const v = required(msg, 'From');
  return inHeader('From', () => parseNameAddr(v));
}

export function getTo(msg: SipMessage): NameAddr {
  const v = required(msg, 'To');
  return inHeader('To', () => parseNameAddr(v));
}

/**
 * Contact values (one per entry, comma lists already split), or '*' for the wildcard of a REGISTER that removes
 * all bindings (RFC 3261 §10.2.2, which allows it only alone).
 */
export function parseContacts(values: readonly string[]): NameAddr[] | '*' {
  if (values.length === 1 && values[0] === '*') return '*';
  return values.map((v) => {
    if (v === '*') throw new SipParseError("'*' must be the only Contact");
    return parseNameAddr(v);
  });
}

/** Every Contact entry, or '*'; no Contact header gives []. */
export function getContacts(msg: SipMessage): NameAddr[] | '*' {
  return inHeader('Contact', () => parseContacts(msg.headers.getAll('Contact')));
}

// --- Digest challenges and credentials (RFC 3261 §22.4, §25.1; RFC 7616 §3.3, §3.4) -------------------------

/**
 * challenge / credentials = auth-scheme LWS auth-param *( COMMA auth-param ); auth-param = token EQUAL ( token /
 * quoted-string ). Values are returned unquoted. `WWW-Authenticate: Digest realm="a", qop="auth"`.
 */
export function parseAuthHeader(value: string): AuthHeader {
  let i = skipWsp(value, 0);
  const scheme = readToken(value, i, 'auth scheme');
  i += scheme.length;
  const params = new Map<string, string>();
  const n = value.length;
  i = skipWsp(value, i);
  while (i < n) {
    const name = readToken(value, i, 'auth-param name').toLowerCase();
    i = skipWsp(value, i + name.length);
    if (value.charCodeAt(i) !== 0x3d /* = */) throw new SipParseError(`auth-param '${name}' has no value`);
    i = skipWsp(value, i + 1);
    let raw: string;
    if (value.charCodeAt(i) === 0x22 /* " */) {
      const q = endOfQuoted(value, i);
      if (q < 0) throw new SipParseError(`unterminated quoted value of '${name}'`);
      raw = unquote(value.slice(i, q));
      i = q;
    } else {
      raw = readToken(value, i, `value of '${name}'`);
      i += raw.length;
    }
    if (params.has(name)) throw new SipParseError(`auth-param '${name}' given twice`);
    params.set(name, raw);
    i = skipWsp(value, i);
    if (i < n) {
      if (value.charCodeAt(i) !== 0x2c /* , */) throw new SipParseError(`expected ',' after '${name}'`);
      i = skipWsp(value, i + 1);
    }
  }
  if (params.size === 0) throw new SipParseError('no auth-params');
  return { scheme, params };
}

/**
 * RFC 7616 §3.3/§3.4 (and RFC 3261 §25.1): these parameter values are always quoted-strings. `qop` is quoted in a
 * challenge (a list, `qop="auth,auth-int"`) and a bare token in credentials (`qop=auth`); `algorithm`, `stale`,
 * `nc`, `charset` and `userhash` are always tokens. Other parameters are quoted unless they are a token.
 */
const ALWAYS_QUOTED = new Set(['realm', 'domain', 'nonce', 'opaque', 'username', 'uri', 'response', 'cnonce']);
const NEVER_QUOTED = new Set(['algorithm', 'stale', 'nc', 'charset', 'userhash']);

/**
 * Formats a challenge or credentials. Credentials are told from a challenge by their `response` parameter, which
 * every Authorization / Proxy-Authorization carries and no challenge does.
 */
export function formatAuthHeader(h: AuthHeader): string {
  const credentials = h.params.has('response');
  const parts: string[] = [];
  for (const [name, value] of h.params) {
    const quoted =
      name === 'qop' ? !credentials : ALWAYS_QUOTED.has(name) || (!NEVER_QUOTED.has(name) && !isToken(value));
    parts.push(`${name}=${quoted ? quote(value) : value}`);
  }
  return `${h.scheme} ${parts.join(', ')}`;
}
