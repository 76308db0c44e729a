/**
 * name-addr and addr-spec with header parameters (RFC 3261 §20.10, §25.1), the value shape of From, To, Contact,
 * Route, Record-Route, Refer-To, P-Asserted-Identity …:
 *
 *   ( name-addr / addr-spec ) *( SEMI param )
 *   name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 *   display-name = *(token LWS) / quoted-string
 */
import { SipParseError } from '../errors.ts';
import { endOfQuoted, isWsp, quote, shown, TOKEN, unquote } from './chars.ts';
import { formatParams, parseParams } from './params.ts';
import type { NameAddr } from './types.ts';
import { formatUri, parseUri } from './uri.ts';

/** Parses one name-addr or addr-spec with its header parameters. Throws SipParseError. */
export function parseNameAddr(text: string): NameAddr {
  let i = 0;
  let end = text.length;
  while (i < end && isWsp(text.charCodeAt(i))) i++;
  while (end > i && isWsp(text.charCodeAt(end - 1))) end--;
  if (i === end) throw new SipParseError('empty address');

  let displayName: string | undefined;
  if (text.charCodeAt(i) === 0x22 /* " */) {
    const q = endOfQuoted(text, i);
    if (q < 0 || q > end) throw new SipParseError('unterminated quoted display name');
    displayName = unquote(text.slice(i, q));
    i = q;
    while (i < end && isWsp(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== 0x3c /* < */) throw new SipParseError("expected '<' after the display name");
  } else {
    const lt = text.indexOf('<', i);
    if (lt < 0 || lt >= end) return addrSpec(text.slice(i, end));
    if (lt > i) displayName = tokenDisplayName(text.slice(i, lt));
    i = lt;
  }
  // LAQUOT addr-spec RAQUOT: nothing, not even LWS, between the brackets and the URI (RFC 4475 §3.1.2.14).
  const gt = text.indexOf('>', i);
  if (gt < 0 || gt >= end) throw new SipParseError("missing '>'");
  if (isWsp(text.charCodeAt(i + 1)) || isWsp(text.charCodeAt(gt - 1))) throw new SipParseError("whitespace inside '<>'");
  const na: NameAddr = { uri: parseUri(text.slice(i + 1, gt)), params: parseParams(text.slice(gt + 1, end), 'header') };
  if (displayName !== undefined) na.displayName = displayName;
  return na;
}

/**
 * `*(token LWS)` before `<`. RFC 4475 §3.1.1.6: the LWS before `<` may be missing. Beyond the grammar, UTF-8 letters
 * are accepted in an unquoted display name: UAs send them and nothing is ambiguous about them. Separators (`,` `"`
 * `@` …) are refused (RFC 4475 §3.1.2.15).
 */
function tokenDisplayName(raw: string): string | undefined {
  const name = raw.trim();
  for (let k = 0; k < name.length; k++) {
    const c = name.charCodeAt(k);
    if (!(c >= 128 || TOKEN[c] === 1 || isWsp(c))) {
      throw new SipParseError(`invalid character ${shown(name[k])} in an unquoted display name`);
    }
  }
  return name === '' ? undefined : name;
}

/**
 * A bare addr-spec. RFC 3261 §20.10: without angle brackets, everything after the first `;` is a header parameter,
 * and a URI containing a comma, question mark or semicolon must be enclosed in `<>` (RFC 4475 §3.1.2.13).
 */
function addrSpec(text: string): NameAddr {
  const semi = text.indexOf(';');
  const uriText = (semi < 0 ? text : text.slice(0, semi)).trimEnd();
  if (uriText.includes('?') || uriText.includes(',')) {
    throw new SipParseError("a URI with '?' or ',' must be enclosed in '<>'");
  }
  return { uri: parseUri(uriText), params: semi < 0 ? new Map() : parseParams(text.slice(semi), 'header') };
}

/** Always the name-addr form `"Display" <uri>;params` (safe whatever the URI contains). */
export function formatNameAddr(na: NameAddr): string {
  const uri = `<${formatUri(na.uri)}>${formatParams(na.params)}`;
  return na.displayName !== undefined ? `${quote(na.displayName)} ${uri}` : uri;
}
