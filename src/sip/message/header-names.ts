import { SipError } from '../errors.ts';
import { inClass, shown, TOKEN } from './chars.ts';

/**
 * Header names: canonical spelling and the compact forms of RFC 3261 §7.3.3 (plus RFC 3515 `r`, RFC 3891/4538 `b`,
 * RFC 3265 `o`/`u`, RFC 3841 `j`/`d`/`a`, RFC 4028 `x`, RFC 3329 — only the ones a UA meets in practice).
 */
const COMPACT: Record<string, string> = {
  i: 'Call-ID', m: 'Contact', e: 'Content-Encoding', l: 'Content-Length', c: 'Content-Type', f: 'From',
  s: 'Subject', k: 'Supported', t: 'To', v: 'Via', r: 'Refer-To', b: 'Referred-By', o: 'Event', u: 'Allow-Events',
  x: 'Session-Expires', a: 'Accept-Contact', j: 'Reject-Contact', d: 'Request-Disposition', y: 'Identity',
};

const CANONICAL = new Map<string, string>(
  [
    'Accept', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Authentication-Info', 'Authorization',
    'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition', 'Content-Encoding', 'Content-Language',
    'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info', 'Event', 'Expires', 'From', 'In-Reply-To',
    'Max-Forwards', 'Min-Expires', 'MIME-Version', 'Organization', 'Priority', 'Proxy-Authenticate',
    'Proxy-Authorization', 'Proxy-Require', 'Record-Route', 'Refer-To', 'Referred-By', 'Reply-To', 'Require',
    'Retry-After', 'Route', 'RSeq', 'RAck', 'Server', 'Session-Expires', 'Min-SE', 'Subject', 'Subscription-State',
    'Supported', 'Timestamp', 'To', 'Unsupported', 'User-Agent', 'Via', 'Warning', 'WWW-Authenticate', 'Path',
    'Allow-Events', 'P-Asserted-Identity', 'Replaces', 'Identity',
  ].map((n) => [n.toLowerCase(), n]),
);

/** Names already in canonical spelling, the common case on the wire: found without lower-casing. */
const EXACT = new Map<string, string>([...CANONICAL.values()].map((n) => [n, n]));

/** Canonical name for any spelling or compact form: `v` → `Via`, `call-id` → `Call-ID`; unknown names are kept. */
export function canonicalHeaderName(name: string): string {
  const exact = EXACT.get(name);
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  if (lower.length === 1) {
    const long = COMPACT[lower];
    if (long !== undefined) return long;
  }
  return CANONICAL.get(lower) ?? name;
}

/**
 * Headers whose value is a comma-separated list that may equally be split over several lines (RFC 3261 §7.3.1).
 * Only these are split on commas by `getAll`; others (WWW-Authenticate, Date, …) keep commas inside one value.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'Via', 'Contact', 'Route', 'Record-Route', 'Allow', 'Supported', 'Require', 'Proxy-Require', 'Unsupported',
  'Accept', 'Accept-Encoding', 'Accept-Language', 'Content-Encoding', 'Content-Language', 'Allow-Events', 'Path',
  'Alert-Info', 'Call-Info', 'Error-Info', 'In-Reply-To', 'Warning', 'P-Asserted-Identity',
]);

/**
 * Header fields the stack writes itself into the requests it creates, so an application may not add them: what
 * identifies the transaction and the dialog (RFC 3261 §8.1.1: Via, From, To, Call-ID, CSeq, Max-Forwards, Contact),
 * the route (§20.30, §20.34), what frames and describes the body (§20.12, §20.14, §20.15) and the credentials of the
 * digest client (§22). A second one of any of these gives the next hop two readings of one message.
 */
const STACK_HEADERS: ReadonlySet<string> = new Set([
  'Via', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'Max-Forwards', 'Route', 'Record-Route', 'Content-Type',
  'Content-Length', 'Content-Encoding', 'Authorization', 'Proxy-Authorization',
]);

/** Control characters but HTAB: header values are TEXT-UTF8 and LWS (RFC 3261 §25.1), never CTLs. */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * Checks a header field an application adds to a request (a call's `inviteParameters`, say); throws
 * SipError SIP_HEADER naming the header and what is wrong with it:
 * - the name is a token (§25.1 `header-name = token`), so it cannot carry a colon, a space or a line break;
 * - it has more than one letter: one-letter names are the compact forms of §7.3.3 (`m` is Contact, `i` Call-ID)
 *   and of later RFCs, and a letter not assigned today may be tomorrow;
 * - it names none of the headers the stack writes itself, in any case;
 * - the value holds no control character but HTAB: CR and LF would end the line (§7.3.1), and parsers disagree on
 *   the others (NUL, VT, BEL), which is what smuggling needs.
 */
export function checkExtensionHeader(name: string, value: string): void {
  const shownName = JSON.stringify(name);
  for (let i = 0; i < name.length; i++) {
    if (!inClass(TOKEN, name.charCodeAt(i))) {
      throw new SipError('SIP_HEADER', `header name ${shownName} is not an RFC 3261 token (${shown(name[i])} at ${i})`);
    }
  }
  if (name.length === 0) throw new SipError('SIP_HEADER', 'a header name is empty');
  const canonical = canonicalHeaderName(name);
  if (name.length === 1) {
    const long = canonical === name ? 'a letter kept for compact forms' : `the compact form of ${canonical}`;
    throw new SipError('SIP_HEADER', `header name ${shownName} is ${long} (RFC 3261 §7.3.3)`);
  }
  if (STACK_HEADERS.has(canonical)) throw new SipError('SIP_HEADER', `header ${shownName} is written by the SIP stack itself`);
  const bad = CONTROL.exec(value);
  if (bad !== null) {
    throw new SipError('SIP_HEADER', `the value of header ${shownName} has a control character (${shown(bad[0])} at ${bad.index})`);
  }
}
