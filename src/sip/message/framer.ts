/**
 * Message framing on stream transports (TCP, TLS). RFC 3261 §18.3: on a stream, Content-Length is mandatory and is
 * the only way to know where a message ends, so one message may arrive in several chunks and one chunk may hold
 * several messages. CRLFs between messages are keep-alives (RFC 5626 §3.5.1: "\r\n\r\n" ping, "\r\n" pong; RFC 3261
 * §7.5) and are skipped; each ping is reported (`onPing`), so the transport can answer it with a pong.
 *
 * A framing error cannot be recovered from — nothing tells where the next message starts (RFC 4475 §3.3.9) — so
 * `push` throws SipParseError and the caller closes the connection; the framer must not be used after that.
 */
import { SipParseError } from '../errors.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, MAX_HEADER_BYTES } from './limits.ts';

export interface StreamFramerOptions {
  /** A message (headers and body) longer than this is a framing error. Default DEFAULT_MAX_MESSAGE_BYTES. */
  maxMessageBytes?: number;
  /** Called for each "\r\n\r\n" keep-alive ping between messages. */
  onPing?: () => void;
}

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const CR = 0x0d;
const LF = 0x0a;
const IDLE_BUFFER_BYTES = 16_384;
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(.*)$/i;

export class StreamFramer {
  private readonly maxMessageBytes: number;
  /** Received bytes not yet handed out live in buf[start, end). */
  private buf = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  /** Where the search for the blank line resumes, so a header section trickling in is scanned once. */
  private scanned = 0;
  /** Length of the message at `start` once its header section is known; -1 before. */
  private total = -1;
  /** How much of a "\r\n\r\n" ping the line ends since the last message have matched (0–3). */
  private pingMatched = 0;
  private readonly onPing: (() => void) | undefined;

  constructor(options: StreamFramerOptions = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.onPing = options.onPing;
  }

  /** Bytes of a message begun and not yet complete (line ends between messages do not count). */
  get partialBytes(): number {
    return this.end - this.start;
  }

  /** Adds received bytes; returns every message completed by them, each in its own buffer, in order. */
  push(chunk: Buffer): Buffer[] {
    this.append(chunk);
    const out: Buffer[] = [];
    for (;;) {
      if (this.total < 0 && !this.readHeader()) break;
      if (this.end - this.start < this.total) break;
      out.push(Buffer.from(this.buf.subarray(this.start, this.start + this.total)));
      this.start += this.total;
      this.scanned = this.start;
      this.total = -1;
    }
    if (this.start === this.end) {
      this.start = this.end = this.scanned = 0;
      // An idle connection should not hold on to the room one large message needed.
      if (this.buf.length > IDLE_BUFFER_BYTES) this.buf = Buffer.alloc(0);
    }
    return out;
  }

  /** True once the message at `start` has a known length (`total`); false while its header section is incomplete. */
  private readHeader(): boolean {
    const buf = this.buf;
    while (this.start < this.end && (buf[this.start] === CR || buf[this.start] === LF)) this.lineEnd(buf[this.start++]!);
    if (this.start === this.end) return false;
    this.pingMatched = 0;
    const from = Math.max(this.start, this.scanned - 3);
    const hit = buf.subarray(from, this.end).indexOf(CRLF_CRLF);
    if (hit < 0) {
      if (this.end - this.start > MAX_HEADER_BYTES) throw new SipParseError('Header section too large');
      this.scanned = this.end;
      return false;
    }
    const headerBytes = from + hit + 4 - this.start;
    if (headerBytes > MAX_HEADER_BYTES) throw new SipParseError('Header section too large');
    const total = headerBytes + contentLength(buf.toString('latin1', this.start, from + hit + 2));
    if (total > this.maxMessageBytes) throw new SipParseError('Message too large');
    this.total = total;
    return true;
  }

  /** Follows the line ends between messages, which may arrive in several chunks, to spot each ping. */
  private lineEnd(byte: number): void {
    if (byte === CRLF_CRLF[this.pingMatched]) this.pingMatched++;
    else this.pingMatched = byte === CR ? 1 : 0;
    if (this.pingMatched === CRLF_CRLF.length) {
      this.pingMatched = 0;
      this.onPing?.();
    }
  }

  private append(chunk: Buffer): void {
    if (this.end + chunk.length > this.buf.length) {
      const live = this.end - this.start;
      const need = live + chunk.length;
      const next = need <= this.buf.length ? this.buf : Buffer.allocUnsafe(Math.max(need, this.buf.length * 2, 4096));
      this.buf.copy(next, 0, this.start, this.end);
      this.buf = next;
      this.scanned -= this.start;
      this.start = 0;
      this.end = live;
    }
    chunk.copy(this.buf, this.end);
    this.end += chunk.length;
  }
}

/** The Content-Length of a header section (long or compact form `l`, possibly folded); exactly one is required. */
function contentLength(head: string): number {
  const lines = head.split('\r\n');
  let value: string | undefined;
  for (let k = 1; k < lines.length; k++) {
    const m = CONTENT_LENGTH.exec(lines[k]!);
    if (m === null) continue;
    if (value !== undefined) throw new SipParseError('Multiple Content-Length headers');
    value = m[1]!;
    while (k + 1 < lines.length && /^[ \t]/.test(lines[k + 1]!)) value += ` ${lines[++k]}`;
  }
  if (value === undefined) throw new SipParseError('Missing Content-Length header (mandatory on a stream)');
  const digits = value.trim();
  if (!/^\d{1,10}$/.test(digits)) throw new SipParseError('Bad Content-Length header');
  return Number(digits);
}
