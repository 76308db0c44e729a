/**
 * Serializing a SipMessage to bytes (RFC 3261 §7): start line, headers in order under their canonical names (no
 * compact forms, no folding), Content-Length, CRLF, body. Content-Length is always written, last, from the body's
 * length — a header of that name in the model is ignored — because on streams it is the framing (§18.3, §20.14)
 * and a stale one would corrupt the connection.
 */
import type { SipMessage } from './message.ts';
import { formatUri } from './uri.ts';

export function serializeMessage(msg: SipMessage): Buffer {
  let head =
    msg.kind === 'request'
      ? `${msg.method} ${formatUri(msg.uri)} SIP/2.0\r\n`
      : `SIP/2.0 ${msg.status} ${oneLine(msg.reason)}\r\n`;
  for (const f of msg.headers.fields) {
    if (f.name === 'Content-Length') continue;
    head += `${f.name}: ${oneLine(f.value)}\r\n`;
  }
  head += `Content-Length: ${msg.body.length}\r\n\r\n`;
  const headBytes = Buffer.byteLength(head);
  const out = Buffer.allocUnsafe(headBytes + msg.body.length);
  out.write(head, 0, 'utf8');
  msg.body.copy(out, headBytes);
  return out;
}

/** A message as text, as it goes on the wire (what `sipMessageRaw` and logs show). */
export function messageText(msg: SipMessage): string {
  return serializeMessage(msg).toString('utf8');
}

/**
 * A value that would end its line early is a header injection waiting to happen (values often come from users);
 * each CR or LF becomes a SP, which is how a folded line reads anyway (RFC 3261 §7.3.1).
 */
function oneLine(value: string): string {
  return value.indexOf('\r') < 0 && value.indexOf('\n') < 0 ? value : value.replace(/[\r\n]/g, ' ');
}
