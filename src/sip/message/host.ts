/**
 * hostport (RFC 3261 §25.1): host [ ":" port ], where host is a host name, an IPv4 address or an IPv6 reference in
 * brackets (RFC 3261 §19.1.1, RFC 5118). Shared by SIP URIs and the Via sent-by.
 */
import { isIPv6 } from 'node:net';
import { SipParseError } from '../errors.ts';
import { HOST, inClass, isDigit, isWsp } from './chars.ts';

export interface HostPort {
  /** As written; IPv6 references keep their brackets. */
  host: string;
  port: number | undefined;
  /** Index just past the hostport. */
  end: number;
}

/**
 * Reads a hostport at `text[start]`. With `sws`, whitespace may surround the colon (the Via COLON = SWS ":" SWS);
 * URIs allow none. Throws SipParseError on an empty or malformed host or a port outside 0–65535.
 */
export function readHostPort(text: string, start: number, sws: boolean): HostPort {
  let i = start;
  const n = text.length;
  let host: string;
  if (text.charCodeAt(i) === 0x5b /* [ */) {
    const close = text.indexOf(']', i);
    if (close < 0) throw new SipParseError('unterminated IPv6 reference');
    host = text.slice(i, close + 1);
    if (!isIPv6(host.slice(1, -1))) throw new SipParseError('bad IPv6 reference');
    i = close + 1;
  } else {
    while (i < n && inClass(HOST, text.charCodeAt(i))) i++;
    if (i === start) throw new SipParseError('missing host');
    host = text.slice(start, i);
  }
  let j = i;
  if (sws) while (j < n && isWsp(text.charCodeAt(j))) j++;
  if (text.charCodeAt(j) !== 0x3a /* : */) return { host, port: undefined, end: i };
  j++;
  if (sws) while (j < n && isWsp(text.charCodeAt(j))) j++;
  const portStart = j;
  let port = 0;
  while (j < n && isDigit(text.charCodeAt(j)) && j - portStart < 6) port = port * 10 + text.charCodeAt(j++) - 0x30;
  if (j === portStart) throw new SipParseError('missing port');
  if (port > 65535 || isDigit(text.charCodeAt(j))) throw new SipParseError('port out of range');
  return { host, port, end: j };
}
