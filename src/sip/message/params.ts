/**
 * `;name=value` parameter lists: URI parameters (RFC 3261 §19.1.1, uri-parameters) and header parameters
 * (§25.1 generic-param, as on Via, Contact, From, To).
 *
 * Names are lower-cased (§19.1.4: parameter names compare case-insensitively); values are kept exactly as on the
 * wire, escapes and — for a quoted-string header parameter value — the surrounding quotes included, so a parsed list
 * formats back to the same text. `unquote()` from ./chars.ts reads a quoted value.
 */
import { SipParseError } from '../errors.ts';
import { endOfQuoted, GEN_VALUE, inClass, isHex, isWsp, shown, TOKEN, URI_PARAM } from './chars.ts';
import type { Params } from './types.ts';

/**
 * `uri`: paramchar only (escapes allowed, no whitespace, no quotes), the list ends at `?` (URI headers) or the end.
 * `header`: SWS around `;` and `=` (SEMI, EQUAL), token / host / quoted-string values, the list runs to the end.
 */
export type ParamSyntax = 'uri' | 'header';

/** Parses a whole parameter list (`;lr;transport=tcp`, or '' for none). Throws SipParseError. */
export function parseParams(text: string, syntax: ParamSyntax = 'header'): Params {
  const params: Params = new Map();
  const end = readParams(text, 0, syntax, params);
  if (end !== text.length) throw new SipParseError(`unexpected ${shown(text[end])} in parameters`);
  return params;
}

/**
 * Reads parameters from `text` at `start` into `out`; returns the index where the list ended (for `uri` syntax the
 * index of a `?` or the end; for `header` syntax the end). Throws SipParseError on an empty or malformed parameter
 * and on a parameter given twice (which value would count is undefined, so the list is refused).
 */
export function readParams(text: string, start: number, syntax: ParamSyntax, out: Params): number {
  return syntax === 'uri' ? readUriParams(text, start, out) : readHeaderParams(text, start, out);
}

function readUriParams(text: string, start: number, out: Params): number {
  let i = start;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x3f /* ? */) return i;
    if (c !== 0x3b /* ; */) throw new SipParseError(`unexpected ${shown(text[i])} in URI parameters`);
    const nameStart = ++i;
    i = scanUriChars(text, i);
    const name = text.slice(nameStart, i);
    if (name === '') throw new SipParseError('empty URI parameter');
    let value: string | null = null;
    if (text.charCodeAt(i) === 0x3d /* = */) {
      const valueStart = ++i;
      i = scanUriChars(text, i);
      value = text.slice(valueStart, i);
      if (value === '') throw new SipParseError(`URI parameter '${name}' has an empty value`);
    }
    add(out, name.toLowerCase(), value);
  }
  return i;
}

/** Index of the first character at or after `i` that is not a paramchar; validates escapes on the way. */
function scanUriChars(text: string, i: number): number {
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 128 || URI_PARAM[c] !== 1) break;
    if (c === 0x25 /* % */) {
      if (!isHex(text.charCodeAt(i + 1)) || !isHex(text.charCodeAt(i + 2))) {
        throw new SipParseError('bad escape in URI parameter');
      }
      i += 2;
    }
    i++;
  }
  return i;
}

function readHeaderParams(text: string, start: number, out: Params): number {
  let i = start;
  const n = text.length;
  for (;;) {
    while (i < n && isWsp(text.charCodeAt(i))) i++;
    if (i >= n) return i;
    if (text.charCodeAt(i) !== 0x3b /* ; */) throw new SipParseError(`unexpected ${shown(text[i])} in parameters`);
    i++;
    while (i < n && isWsp(text.charCodeAt(i))) i++;
    const nameStart = i;
    let upper = false;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (!inClass(TOKEN, c)) break;
      if (c >= 0x41 && c <= 0x5a) upper = true;
    }
    if (i === nameStart) throw new SipParseError('empty parameter');
    const raw = text.slice(nameStart, i);
    const name = upper ? raw.toLowerCase() : raw;
    let j = i;
    while (j < n && isWsp(text.charCodeAt(j))) j++;
    let value: string | null = null;
    if (text.charCodeAt(j) === 0x3d /* = */) {
      j++;
      while (j < n && isWsp(text.charCodeAt(j))) j++;
      const valueStart = j;
      if (text.charCodeAt(j) === 0x22 /* " */) {
        j = endOfQuoted(text, j);
        if (j < 0) throw new SipParseError(`unterminated quoted value of parameter '${name}'`);
      } else {
        while (j < n && inClass(GEN_VALUE, text.charCodeAt(j))) j++;
        if (j === valueStart) throw new SipParseError(`parameter '${name}' has an empty value`);
      }
      value = text.slice(valueStart, j);
      i = j;
    }
    add(out, name, value);
  }
}

function add(out: Params, name: string, value: string | null): void {
  const size = out.size;
  if (out.set(name, value).size === size) throw new SipParseError(`parameter '${name}' given twice`);
}

/** `;name=value;flag` in insertion order ('' for no parameters). */
export function formatParams(params: Params): string {
  let s = '';
  for (const [name, value] of params) s += value === null ? `;${name}` : `;${name}=${value}`;
  return s;
}
