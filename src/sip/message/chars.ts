/**
 * Character classes of the RFC 3261 §25.1 grammar as lookup tables over ASCII, so every scanner in this folder
 * checks a character with one array read. Non-ASCII code points are in no class (callers decide: quoted strings and
 * reason phrases allow UTF-8, tokens and URIs do not).
 */

function table(chars: string, alnum = true): Uint8Array {
  const t = new Uint8Array(128);
  if (alnum) {
    for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
    for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
    for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  }
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

const MARK = "-_.!~*'()";

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~");
/** word: token characters plus ( ) < > : \ " / [ ] ? { } (Call-ID, RFC 3261 §25.1) */
export const WORD = table('-.!%*_+`\'~()<>:\\"/[]?{}');
/** user = 1*( unreserved / escaped / user-unreserved ); `%` is checked as an escape separately. */
export const USER = table(MARK + '&=+$,;?/%');
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
export const PASSWORD = table(MARK + '&=+$,%');
/** paramchar = param-unreserved / unreserved / escaped (URI parameters). */
export const URI_PARAM = table(MARK + '[]/:&+$%');
/** hname / hvalue = *( hnv-unreserved / unreserved / escaped ) (URI headers). */
export const URI_HEADER = table(MARK + '[]/?:+$%');
/**
 * Host names and IPv4 addresses: alphanum, "-", ".". `_` is outside the RFC 1035 grammar RFC 3261 uses, but real
 * deployments (container names, some SRV targets) carry it and nothing is ambiguous about it, so it is accepted.
 */
export const HOST = table('-._');
/** Header parameter values (gen-value = token / host / quoted-string): token characters plus IPv6 ":" "[" "]". */
export const GEN_VALUE = table("-.!%*_+`'~:[]");
/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (first character checked apart). */
export const SCHEME = table('+-.');

export function inClass(t: Uint8Array, c: number): boolean {
  return c < 128 && t[c] === 1;
}

export function isWsp(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

export function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** True when every character of `s` (non-empty) is in class `t`; `%` must start an `escaped` (% HEX HEX) when
 * `escapes` is set (URI components, RFC 3261 §19.1.2). */
export function allIn(t: Uint8Array, s: string, escapes: boolean): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || t[c] !== 1) return false;
    if (escapes && c === 0x25 /* % */) {
      if (!isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return false;
      i += 2;
    }
  }
  return true;
}

export function isToken(s: string): boolean {
  return allIn(TOKEN, s, false);
}

/** A character for an error reason: itself when printable ASCII, else its code point (`U+0000`), so a reason that
 * ends up in a status line never carries control characters. */
export function shown(c: string | undefined): string {
  if (c === undefined) return 'end of text';
  const code = c.charCodeAt(0);
  return code > 0x20 && code < 0x7f ? `'${c}'` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Index of the first character at or after `i` that is not SP / HTAB. */
export function skipWsp(s: string, i: number): number {
  while (i < s.length && isWsp(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Reads a quoted-string starting at the opening DQUOTE `s[i]` (RFC 3261 §25.1: quoted-pair = "\" followed by any
 * character but CR and LF). Returns the index just past the closing quote, or -1 when the quote is unbalanced.
 */
export function endOfQuoted(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 0x5c /* \ */) j++;
    else if (c === 0x22 /* " */) return j + 1;
  }
  return -1;
}

/** The content of a quoted-string (with or without its quotes) with quoted-pairs resolved: `"a\"b"` → `a"b`. */
export function unquote(value: string): string {
  let s = value;
  if (s.length >= 2 && s.charCodeAt(0) === 0x22 && s.charCodeAt(s.length - 1) === 0x22) s = s.slice(1, -1);
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) out += s[++i];
    else out += c;
  }
  return out;
}

/**
 * `text` as a quoted-string. `"` and `\` become quoted-pairs; CR and LF cannot travel even as quoted-pairs
 * (RFC 3261 §25.1), so each becomes a SP: text from a user can never split a header line.
 */
export function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, '\\$&').replace(/[\r\n]/g, ' ')}"`;
}
