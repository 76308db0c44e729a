/**
 * Out-of-dialog requests (RFC 3261 §8.1.1): the header fields every request a UAC creates carries. Via is left to
 * the sender (`UserAgent.send` adds it per transaction).
 */
import { newTag } from '../message/builders.ts';
import { formatNameAddr } from '../message/name-addr.ts';
import { Headers, SipRequest } from '../message/message.ts';
import type { NameAddr, SipUri, Uri } from '../message/types.ts';
import { formatUri } from '../message/uri.ts';

export interface RequestSpec {
  method: string;
  requestUri: Uri;
  /** From without a tag: a fresh one is added (§8.1.1.3). */
  from: { uri: Uri; displayName?: string };
  to: { uri: Uri; displayName?: string };
  callId: string;
  cseq: number;
  contact?: SipUri;
  body?: { contentType: string; content: Buffer };
  headers?: readonly { name: string; value: string }[];
}

/** §8.1.1.6: "A UAC MUST insert a Max-Forwards header field into each request it originates with a value that
 * SHOULD be 70." */
const MAX_FORWARDS = '70';

export function createRequest(spec: RequestSpec): SipRequest {
  const headers = new Headers();
  headers.append('Max-Forwards', MAX_FORWARDS);
  headers.append('To', formatNameAddr(nameAddr(spec.to)));
  headers.append('From', formatNameAddr({ ...nameAddr(spec.from), params: new Map([['tag', newTag()]]) }));
  headers.append('Call-ID', spec.callId);
  headers.append('CSeq', `${spec.cseq} ${spec.method}`);
  if (spec.contact) headers.append('Contact', `<${formatUri(spec.contact)}>`);
  for (const h of spec.headers ?? []) headers.append(h.name, h.value);
  if (spec.body) headers.append('Content-Type', spec.body.contentType);
  return new SipRequest(spec.method, spec.requestUri, headers, spec.body?.content);
}

function nameAddr(a: { uri: Uri; displayName?: string }): NameAddr {
  return { uri: a.uri, params: new Map(), ...(a.displayName !== undefined && { displayName: a.displayName }) };
}
