/**
 * SIP and SIPS URIs (RFC 3261 §19.1) and, for every other scheme, an opaque absoluteURI (§25.1):
 *
 *   SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ]
 *   userinfo = ( user / telephone-subscriber ) [ ":" password ] "@"
 *
 * Components keep their escapes as on the wire (`%40` stays `%40`); only the scheme and parameter names are
 * lower-cased, so `formatUri(parseUri(x))` is `x` up to that case. Comparison rules (§19.1.4) belong to the code
 * that compares.
 */
import { SipParseError } from '../errors.ts';
import { allIn, inClass, PASSWORD, SCHEME, URI_HEADER, USER } from './chars.ts';
import { readHostPort } from './host.ts';
import { formatParams, readParams } from './params.ts';
import type { AbsoluteUri, SipUri, Uri } from './types.ts';

/** Parses a URI; throws SipParseError whose reason names what is wrong (`bad URI: port out of range`). */
export function parseUri(text: string): Uri {
  try {
    return parseUriOrThrow(text);
  } catch (e) {
    if (e instanceof SipParseError) throw new SipParseError(`bad URI: ${e.reason}`);
    throw e;
  }
}

function parseUriOrThrow(text: string): Uri {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new SipParseError('missing scheme');
  const scheme = text.slice(0, colon).toLowerCase();
  if (!isScheme(scheme)) throw new SipParseError('bad scheme');
  if (scheme !== 'sip' && scheme !== 'sips') return parseAbsolute(scheme, text.slice(colon + 1));

  let i = colon + 1;
  const uri: SipUri = { scheme, host: '', params: new Map(), headers: new Map() };
  // The userinfo ends at the only "@": neither host, parameters nor headers may carry an unescaped one.
  const at = text.indexOf('@', i);
  if (at >= 0) {
    const userinfo = text.slice(i, at);
    const pw = userinfo.indexOf(':');
    const user = pw < 0 ? userinfo : userinfo.slice(0, pw);
    if (!allIn(USER, user, true)) throw new SipParseError('bad user part');
    uri.user = user;
    if (pw >= 0) {
      const password = userinfo.slice(pw + 1);
      if (password !== '' && !allIn(PASSWORD, password, true)) throw new SipParseError('bad password');
      uri.password = password;
    }
    i = at + 1;
  }
  const hp = readHostPort(text, i, false);
  uri.host = hp.host;
  if (hp.port !== undefined) uri.port = hp.port;
  i = readParams(text, hp.end, 'uri', uri.params);
  if (i < text.length) readHeaders(text, i + 1, uri.headers);
  return uri;
}

function isScheme(s: string): boolean {
  const c = s.charCodeAt(0);
  if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a))) return false;
  for (let i = 1; i < s.length; i++) if (!inClass(SCHEME, s.charCodeAt(i))) return false;
  return true;
}

/**
 * An absoluteURI of another scheme (tel:, urn:, http: …) is kept opaque. It must be non-empty and free of
 * whitespace, controls and the characters that delimit URIs in headers (`<`, `>`, `"`).
 */
function parseAbsolute(scheme: string, opaque: string): AbsoluteUri {
  if (opaque === '') throw new SipParseError('empty URI');
  for (let i = 0; i < opaque.length; i++) {
    const c = opaque.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x3c || c === 0x3e || c === 0x22) {
      throw new SipParseError('invalid character in URI');
    }
  }
  return { scheme, opaque };
}

/** headers = "?" header *( "&" header ); header = hname "=" hvalue (RFC 3261 §19.1.1). */
function readHeaders(text: string, start: number, out: Map<string, string>): void {
  for (const part of text.slice(start).split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new SipParseError('bad URI header');
    const name = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (!allIn(URI_HEADER, name, true) || (value !== '' && !allIn(URI_HEADER, value, true))) {
      throw new SipParseError('bad URI header');
    }
    if (out.has(name)) throw new SipParseError(`URI header '${name}' given twice`);
    out.set(name, value);
  }
}

export function formatUri(u: Uri): string {
  if (u.scheme !== 'sip' && u.scheme !== 'sips') return `${u.scheme}:${(u as AbsoluteUri).opaque}`;
  const s = u as SipUri;
  let out = `${s.scheme}:`;
  if (s.user !== undefined) out += s.password !== undefined ? `${s.user}:${s.password}@` : `${s.user}@`;
  out += s.host;
  if (s.port !== undefined) out += `:${s.port}`;
  if (s.params.size > 0) out += formatParams(s.params);
  if (s.headers.size > 0) {
    let sep = '?';
    for (const [name, value] of s.headers) {
      out += `${sep}${name}=${value}`;
      sep = '&';
    }
  }
  return out;
}
