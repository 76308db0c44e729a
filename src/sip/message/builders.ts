/**
 * Messages a UA derives from other messages: a response from its request (RFC 3261 §8.2.6), the ACK for a non-2xx
 * final response (§17.1.1.3), a CANCEL (§9.1); and the random identifiers new requests need: branch (§8.1.1.7),
 * tag (§19.3), Call-ID (§8.1.1.4).
 *
 * Header values are copied as raw text wherever the RFC asks for "the same value", so nothing is lost or reworded
 * between a request and what is derived from it.
 */
import { getCSeq } from './headers.ts';
import { Headers, SipRequest, SipResponse } from './message.ts';
import { formatNameAddr, parseNameAddr } from './name-addr.ts';
import type { HeaderField } from './types.ts';
import { SipParseError } from '../errors.ts';
import { randomHex } from '../../random-hex.ts';

/** RFC 3261 §8.1.1.7: every RFC 3261 branch starts with this magic cookie (RFC 2543 peers' branches do not). */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

/** RFC 3261 §8.1.1.6: the Max-Forwards a UAC puts on requests it originates. */
const DEFAULT_MAX_FORWARDS = '70';

/** RFC 3261 §21 reason phrases, plus the few extension codes this stack meets (noted per line). */
const REASON_PHRASES: ReadonlyMap<number, string> = new Map([
  [100, 'Trying'], [180, 'Ringing'], [181, 'Call Is Being Forwarded'], [182, 'Queued'], [183, 'Session Progress'],
  [200, 'OK'],
  [202, 'Accepted'], // RFC 3265 §3.1.3 (SUBSCRIBE, REFER)
  [300, 'Multiple Choices'], [301, 'Moved Permanently'], [302, 'Moved Temporarily'], [305, 'Use Proxy'],
  [380, 'Alternative Service'],
  [400, 'Bad Request'], [401, 'Unauthorized'], [402, 'Payment Required'], [403, 'Forbidden'], [404, 'Not Found'],
  [405, 'Method Not Allowed'], [406, 'Not Acceptable'], [407, 'Proxy Authentication Required'],
  [408, 'Request Timeout'], [410, 'Gone'], [413, 'Request Entity Too Large'], [414, 'Request-URI Too Long'],
  [415, 'Unsupported Media Type'], [416, 'Unsupported URI Scheme'], [420, 'Bad Extension'],
  [421, 'Extension Required'],
  [422, 'Session Interval Too Small'], // RFC 4028 §6
  [423, 'Interval Too Brief'], [480, 'Temporarily Unavailable'], [481, 'Call/Transaction Does Not Exist'],
  [482, 'Loop Detected'], [483, 'Too Many Hops'], [484, 'Address Incomplete'], [485, 'Ambiguous'],
  [486, 'Busy Here'], [487, 'Request Terminated'], [488, 'Not Acceptable Here'],
  [489, 'Bad Event'], // RFC 6665 §8.3.1
  [491, 'Request Pending'], [493, 'Undecipherable'],
  [500, 'Server Internal Error'], [501, 'Not Implemented'], [502, 'Bad Gateway'], [503, 'Service Unavailable'],
  [504, 'Server Time-out'], [505, 'Version Not Supported'], [513, 'Message Too Large'],
  [600, 'Busy Everywhere'], [603, 'Decline'], [604, 'Does Not Exist Anywhere'], [606, 'Not Acceptable'],
]);

/**
 * The default reason phrase of a status code (RFC 3261 §21). A code without one gets the empty phrase, which the
 * Status-Line grammar allows (§25.1 `Reason-Phrase = *(...)`), rather than a phrase that would misname it.
 */
export function reasonPhrase(status: number): string {
  return REASON_PHRASES.get(status) ?? '';
}

export interface ResponseOptions {
  /** The To tag for a response that creates it (status > 100, request without a To tag). Random when omitted. */
  toTag?: string;
  /** Extra header fields, appended after the copied ones. */
  headers?: Iterable<HeaderField>;
  body?: Buffer | string;
}

/**
 * RFC 3261 §8.2.6: a response to `request`. §8.2.6.2: "The From field of the response MUST equal the From header
 * field of the request. The Call-ID header field of the response MUST equal the Call-ID header field of the
 * request. The CSeq header field of the response MUST equal the CSeq field of the request. The Via header field
 * values in the response MUST equal the Via header field values in the request and MUST maintain the same
 * ordering." To is copied, with a tag added when the request had none and the status is above 100. §8.2.6.1: a
 * 100 (Trying) carries a copy of the request's Timestamp.
 *
 * Headers missing from the request are left out rather than invented, so a 400 for a broken request can still be
 * built; a To the parser cannot read is copied without a tag for the same reason.
 */
export function createResponse(
  request: SipRequest,
  status: number,
  reason: string = reasonPhrase(status),
  options: ResponseOptions = {},
): SipResponse {
  const headers = new Headers();
  for (const f of request.headers.fields) if (f.name === 'Via') headers.append('Via', f.value);
  copy(request.headers, headers, 'From');
  const to = request.headers.get('To');
  if (to !== undefined) headers.append('To', status > 100 ? withToTag(to, options.toTag) : to);
  copy(request.headers, headers, 'Call-ID');
  copy(request.headers, headers, 'CSeq');
  if (status === 100) copy(request.headers, headers, 'Timestamp');
  for (const f of options.headers ?? []) headers.append(f.name, f.value);
  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
  return new SipResponse(status, reason, headers, body);
}

function copy(from: Headers, to: Headers, name: string): void {
  const value = from.get(name);
  if (value !== undefined) to.append(name, value);
}

/** §8.2.6.2: "If the request contained a To tag in the request, the To header field in the response MUST equal
 * that of the request. However, if the To header field in the request did not contain a tag, [...] the UAS MUST add
 * a tag to the To header field in the response". */
function withToTag(to: string, tag: string | undefined): string {
  let addr;
  try {
    addr = parseNameAddr(to);
  } catch (e) {
    if (e instanceof SipParseError) return to;
    throw e;
  }
  if (addr.params.has('tag')) return to;
  addr.params.set('tag', tag ?? newTag());
  return formatNameAddr(addr);
}

/**
 * RFC 3261 §17.1.1.3: the ACK an INVITE client transaction sends for a 300-699 response. "The ACK request
 * constructed by the client transaction MUST contain values for the Call-ID, From, and Request-URI that are equal
 * to the values of those header fields in the request passed to the transport by the client transaction (call this
 * the 'original request'). The To header field in the ACK MUST equal the To header field in the response being
 * acknowledged [...]. The ACK MUST contain a single Via header field, and this MUST be equal to the top Via header
 * field of the original request. The CSeq header field in the ACK MUST contain the same value for the sequence
 * number as was present in the original request, but the method parameter MUST be equal to 'ACK'. If the INVITE
 * request whose response is being acknowledged had Route header fields, those header fields MUST appear in the ACK."
 */
export function createAckForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  const headers = derivedHeaders(invite, 'ACK');
  headers.set('To', required(response.headers, 'To', 'response'));
  return new SipRequest('ACK', invite.uri, headers);
}

/**
 * RFC 3261 §9.1: "The Request-URI, Call-ID, To, the numeric part of CSeq, and From header fields in the CANCEL
 * request MUST be identical to those in the request being cancelled, including tags. A CANCEL constructed by a
 * client MUST have only a single Via header field value matching the top Via value in the request being cancelled.
 * [...] the method part of the CSeq MUST have a value of CANCEL. [...] If the request being cancelled contains a
 * Route header field, the CANCEL request MUST include that Route header field's values."
 */
export function createCancel(invite: SipRequest): SipRequest {
  return new SipRequest('CANCEL', invite.uri, derivedHeaders(invite, 'CANCEL'));
}

/** The header fields ACK-for-non-2xx and CANCEL take from the INVITE: top Via, Route, From, To, Call-ID, CSeq. */
function derivedHeaders(invite: SipRequest, method: 'ACK' | 'CANCEL'): Headers {
  const topVia = invite.headers.getAll('Via')[0];
  if (topVia === undefined) throw new SipParseError(`Missing Via header in the ${invite.method} to derive ${method} from`);
  const headers = new Headers();
  headers.append('Via', topVia);
  for (const f of invite.headers.fields) if (f.name === 'Route') headers.append('Route', f.value);
  headers.append('Max-Forwards', invite.headers.get('Max-Forwards') ?? DEFAULT_MAX_FORWARDS);
  headers.append('From', required(invite.headers, 'From', invite.method));
  headers.append('To', required(invite.headers, 'To', invite.method));
  headers.append('Call-ID', required(invite.headers, 'Call-ID', invite.method));
  headers.append('CSeq', `${getCSeq(invite).seq} ${method}`);
  return headers;
}

function required(headers: Headers, name: string, where: string): string {
  const value = headers.get(name);
  if (value === undefined) throw new SipParseError(`Missing ${name} header in the ${where}`);
  return value;
}

/** RFC 3261 §8.1.1.7: a branch "unique across space and time", with the magic cookie. */
export function newBranch(): string {
  return BRANCH_MAGIC_COOKIE + randomHex(12);
}

/** RFC 3261 §19.3: a tag with "at least 32 bits of randomness". */
export function newTag(): string {
  return randomHex(8);
}

/** RFC 3261 §8.1.1.4: a globally unique Call-ID, `random@host` (callid = word [ "@" word ]). */
export function newCallId(host: string): string {
  return `${randomHex(16)}@${host}`;
}
