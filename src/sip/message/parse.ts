/**
 * Parsing one whole SIP message (RFC 3261 §7) from bytes: a UDP datagram, or one message cut out of a stream by
 * ./framer.ts.
 *
 *   message = start-line *message-header CRLF [ message-body ]
 *
 * Header values stay raw strings (./headers.ts reads them on demand), but the headers every element depends on —
 * Via, From, To, Call-ID, CSeq, Max-Forwards, Contact, Content-Length — are checked here, so a message that passes
 * can be matched to a transaction and answered without further surprises.
 *
 * A message that cannot be accepted throws SipParseError with a short reason fit for a `400 <reason>` status line.
 * When the message is a request whose start line and Via, From, To, Call-ID and CSeq headers are present, the error
 * carries `partial` (the request as far as it could be read, headers raw) so the caller can answer it (RFC 3261
 * §8.2, §21.4.1; RFC 4475 §3.1.2 asks for a 400 in most cases). The raw values in a partial may themselves be the
 * malformed part: a 400 copies them as they are (§8.2.6.2). A request whose Request-URI could not be read gets an
 * AbsoluteUri with an empty scheme holding the raw text. Responses are never partial: a bad response is dropped.
 */
import { isUtf8 } from 'node:buffer';
import { SipParseError } from '../errors.ts';
import { inClass, isToken, isWsp, TOKEN } from './chars.ts';
import { canonicalHeaderName } from './header-names.ts';
import { parseCallId, parseContacts, parseCSeq, parseMaxForwards, parseVia } from './headers.ts';
import { Headers, SipRequest, SipResponse, splitList, type SipMessage } from './message.ts';
import { parseNameAddr } from './name-addr.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, MAX_HEADER_BYTES } from './limits.ts';
import type { Uri } from './types.ts';
import { parseUri } from './uri.ts';

// StreamFramer cuts stream transports' bytes into the messages this module parses.
export { StreamFramer, type StreamFramerOptions } from './framer.ts';

export interface ParseOptions {
  /** Messages longer than this (bytes) are refused without being parsed. Default DEFAULT_MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

/**
 * Parses one message. On a datagram a body longer than Content-Length is cut to it and the rest ignored; a missing
 * Content-Length means the rest of the datagram (RFC 3261 §18.3). Content-Length is consumed here and not kept
 * among the headers: the body's length is the one truth, written back by serializeMessage. The body shares memory
 * with `buf`.
 */
export function parseMessage(buf: Buffer, options: ParseOptions = {}): SipMessage {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (buf.length > maxMessageBytes) throw new SipParseError('Message too large');
  // RFC 3261 §7.5: CRLFs before the start line are ignored (keep-alives and stray line ends).
  let start = 0;
  while (start < buf.length && (buf[start] === 0x0d || buf[start] === 0x0a)) start++;
  if (start === buf.length) throw new SipParseError('Empty message');

  const blank = buf.indexOf(CRLF_CRLF, start);
  const headerEnd = blank < 0 ? buf.length : blank + 2; // just past the last header's CRLF
  if (headerEnd - start > MAX_HEADER_BYTES) throw new SipParseError('Header section too large');
  const head = buf.subarray(start, headerEnd);
  const p = new Reader(head.toString('utf8'));
  p.readLines();
  if (blank < 0) p.fail('Missing empty line after the headers');
  if (!isUtf8(head)) p.fail('Invalid UTF-8 in the header section');
  const msg = p.build(blank < 0 ? EMPTY : body(buf, blank + 4, p));
  if (p.error === undefined) validate(msg, p);
  if (p.error !== undefined) {
    const partial = msg.kind === 'request' && p.canAnswer() ? msg : undefined;
    // a request in a SIP version other than 2.0 is answered 505, not 400 (RFC 3261 §21.5.6, RFC 4475 §3.1.2.16)
    throw new SipParseError(p.error, partial, p.versionError ? 'SIP_VERSION_NOT_SUPPORTED' : 'SIP_PARSE');
  }
  return msg;
}

/** The body per Content-Length (RFC 3261 §18.3, §20.14). */
function body(buf: Buffer, bodyStart: number, p: Reader): Buffer {
  const available = buf.length - bodyStart;
  if (p.contentLength === undefined) return buf.subarray(bodyStart);
  if (p.contentLength > available) {
    p.fail('Content-Length larger than the body');
    return buf.subarray(bodyStart);
  }
  return buf.subarray(bodyStart, bodyStart + p.contentLength);
}

/** Per-message parse state: the header text, what was read from it, and the first error met. */
class Reader {
  error: string | undefined;
  versionError = false;
  method: string | undefined;
  uri: Uri | undefined;
  status = 0;
  reason = '';
  contentLength: number | undefined;
  readonly headers = new Headers();
  /** Raw lines of the headers validate() checks. */
  readonly vias: string[] = [];
  readonly contacts: string[] = [];
  readonly single: Partial<Record<'From' | 'To' | 'Call-ID' | 'CSeq' | 'Max-Forwards', string>> = {};
  /** The first of those single-valued headers that appeared more than once. */
  repeated: string | undefined;

  constructor(readonly text: string) {}

  fail(reason: string): void {
    this.error ??= reason;
  }

  /**
   * Splits the header text on CRLF, unfolding continuation lines (RFC 3261 §7.3.1: LWS CRLF is one SP). Header lines
   * end in CRLF only (§7): a lone CR or LF is how header-splitting attacks start, and is refused.
   */
  readLines(): void {
    const text = this.text;
    const n = text.length;
    const fields = this.headers.fields;
    let pos = 0;
    while (pos < n) {
      let eol = text.indexOf('\r\n', pos);
      if (eol < 0) eol = n; // only when the empty line is missing: the last line has no terminator
      const cr = text.indexOf('\r', pos);
      const lf = text.indexOf('\n', pos);
      if ((cr >= 0 && cr < eol) || (lf >= 0 && lf <= eol)) this.fail('Bare CR or LF in the header section');
      if (pos === 0) {
        this.startLine(text.slice(0, eol));
      } else if (isWsp(text.charCodeAt(pos))) {
        const last = fields[fields.length - 1];
        const more = trimWsp(text.slice(pos, eol));
        if (last === undefined) this.fail('Continuation line before the first header');
        else if (more !== '') last.value = last.value === '' ? more : `${last.value} ${more}`;
      } else {
        const colon = text.indexOf(':', pos);
        let nameEnd = colon;
        while (nameEnd > pos && isWsp(text.charCodeAt(nameEnd - 1))) nameEnd--; // HCOLON = *( SP / HTAB ) ":" SWS
        if (colon < 0 || colon > eol || !isTokenSlice(text, pos, nameEnd)) {
          this.fail('Malformed header line');
        } else {
          let vs = colon + 1;
          let ve = eol;
          while (vs < ve && isWsp(text.charCodeAt(vs))) vs++;
          while (ve > vs && isWsp(text.charCodeAt(ve - 1))) ve--;
          fields.push({ name: canonicalHeaderName(text.slice(pos, nameEnd)), value: text.slice(vs, ve) });
        }
      }
      pos = eol + 2;
    }
    this.collect();
  }

  /** Request-Line = Method SP Request-URI SP SIP-Version; Status-Line = SIP-Version SP Status-Code SP Reason-Phrase */
  private startLine(line: string): void {
    // RFC 3261 §7.1: the version string is case-insensitive.
    if (line.length > 4 && (line.charCodeAt(0) | 0x20) === 0x73 /* s */ && /^SIP\//i.test(line)) {
      // RFC 4475 §3.1.1.13: the SP before an empty reason phrase is required; a liberal receiver accepts it missing.
      const m = /^SIP\/2\.0 ([1-6]\d\d)(?: (.*))?$/i.exec(line);
      if (m === null) {
        this.fail(/^SIP\/(?!2\.0 )\d+\.\d+ /i.test(line) ? 'Version not supported' : 'Bad status line');
        return;
      }
      this.status = Number(m[1]);
      this.reason = m[2] ?? '';
      return;
    }
    const sp1 = line.indexOf(' ');
    const sp2 = line.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 <= sp1 + 1 || sp2 === line.length - 1 || line.indexOf(' ', sp2 + 1) >= 0) {
      return this.badRequestLine(line);
    }
    const method = line.slice(0, sp1);
    if (!isToken(method)) return this.fail('Bad request line: bad method');
    this.method = method;
    const uriText = line.slice(sp1 + 1, sp2);
    try {
      this.uri = parseUri(uriText);
    } catch (e) {
      this.uri = { scheme: '', opaque: uriText };
      if (!(e instanceof SipParseError)) throw e;
      // RFC 4475 §3.1.2.7: a Request-URI in <> is not a URI.
      this.fail(`Bad Request-URI: ${e.reason}`);
    }
    // RFC 3261 §19.1.1 Table 1: URI headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
    if ('headers' in this.uri && this.uri.headers.size > 0) this.fail('Bad Request-URI: headers not allowed');
    const version = line.slice(sp2 + 1);
    if (version !== 'SIP/2.0' && version.toUpperCase() !== 'SIP/2.0') {
      this.versionError = /^SIP\/\d+\.\d+$/i.test(version);
      this.fail(this.versionError ? 'Version not supported' : 'Bad request line');
    }
  }

  /**
   * A request line that is not three elements separated by single SPs: RFC 4475 §3.1.2.8 (LWS inside the
   * Request-URI), §3.1.2.9 and §3.1.2.10 (extra SP between or after the elements; acceptable to reject). The method
   * and URI are still kept when they can be told apart, so the request can be answered 400.
   */
  private badRequestLine(line: string): void {
    const parts = line.split(' ').filter((s) => s !== '');
    const method = parts[0];
    if (method !== undefined && isToken(method) && parts.length > 1) {
      this.method = method;
      const uriText = parts.slice(1, -1).join(' ');
      try {
        this.uri = parseUri(uriText);
      } catch (e) {
        if (!(e instanceof SipParseError)) throw e;
        this.uri = { scheme: '', opaque: uriText };
      }
    }
    this.fail(parts.length === 3 ? 'Bad request line: extra whitespace' : 'Bad request line');
  }

  /** Picks out the headers checked by validate(), and consumes Content-Length. */
  private collect(): void {
    const fields = this.headers.fields;
    let contentLengths = 0;
    for (let k = 0; k < fields.length; k++) {
      const f = fields[k]!;
      switch (f.name) {
        case 'Via': this.vias.push(f.value); break;
        case 'Contact': this.contacts.push(f.value); break;
        case 'From': case 'To': case 'Call-ID': case 'CSeq': case 'Max-Forwards':
          if (this.single[f.name] !== undefined) this.repeated ??= f.name;
          this.single[f.name] = f.value;
          break;
        case 'Content-Length':
          // RFC 3261 §20.14: 1*DIGIT. RFC 4475 §3.1.2.3: a negative one is an error.
          if (!/^\d{1,10}$/.test(f.value)) this.fail('Bad Content-Length header');
          else this.contentLength = Number(f.value);
          // RFC 4475 §3.3.9: two Content-Length values leave the framing unknown.
          if (++contentLengths > 1) this.fail('Multiple Content-Length headers');
          fields.splice(k--, 1);
          break;
      }
    }
  }

  /** A 400 needs the request's Via, From, To, Call-ID and CSeq to copy (RFC 3261 §8.2.6.2). */
  canAnswer(): boolean {
    const h = this.single;
    return this.method !== undefined && this.vias.length > 0 && h.From !== undefined && h.To !== undefined &&
      h['Call-ID'] !== undefined && h.CSeq !== undefined;
  }

  build(body: Buffer): SipMessage {
    if (this.method !== undefined) return new SipRequest(this.method, this.uri!, this.headers, body);
    return new SipResponse(this.status, this.reason, this.headers, body);
  }
}

/**
 * The headers every element relies on (RFC 3261 §8.1.1, §8.2): present, single where single, and well formed.
 * Max-Forwards may be absent (RFC 2543 peers, RFC 4475 §3.4.1).
 */
function validate(msg: SipMessage, p: Reader): void {
  const h = p.single;
  if (p.vias.length === 0) return p.fail('Missing Via header');
  for (const name of ['From', 'To', 'Call-ID', 'CSeq'] as const) {
    if (h[name] === undefined) return p.fail(`Missing ${name} header`);
  }
  // RFC 4475 §3.3.8: several values in a header that takes one.
  if (p.repeated !== undefined) return p.fail(`Multiple ${p.repeated} headers`);
  let name = 'Via';
  try {
    for (const line of p.vias) {
      if (line.indexOf(',') < 0) parseVia(line);
      else for (const v of splitList(line)) parseVia(v);
    }
    name = 'From';
    parseNameAddr(h.From!);
    name = 'To';
    parseNameAddr(h.To!);
    name = 'Call-ID';
    parseCallId(h['Call-ID']!);
    name = 'CSeq';
    const cseq = parseCSeq(h.CSeq!);
    // RFC 4475 §3.1.2.17 / §3.1.2.18 (the latter would prefer 501 for an unknown method; 400 is allowed).
    if (msg.kind === 'request' && cseq.method !== msg.method) return p.fail('CSeq method does not match the request method');
    name = 'Max-Forwards';
    if (h['Max-Forwards'] !== undefined) parseMaxForwards(h['Max-Forwards']);
    name = 'Contact';
    if (p.contacts.length > 0) parseContacts(p.contacts.flatMap((line) => (line.indexOf(',') < 0 ? line : splitList(line))));
  } catch (e) {
    if (!(e instanceof SipParseError)) throw e;
    p.fail(`Bad ${name} header: ${e.reason}`);
  }
}

function isTokenSlice(s: string, from: number, to: number): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) if (!inClass(TOKEN, s.charCodeAt(i))) return false;
  return true;
}

/** Trims SP and HTAB only: String.prototype.trim would also eat U+FEFF and other Unicode spaces of a value. */
function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWsp(s.charCodeAt(a))) a++;
  while (b > a && isWsp(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
