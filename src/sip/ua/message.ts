/**
 * SIP MESSAGE outside of a dialog (RFC 3428): sending, with digest challenges answered, and reading a received one.
 */
import { DigestClient } from '../auth/digest-client.ts';
import { newCallId } from '../message/builders.ts';
import { getFrom, getTo } from '../message/headers.ts';
import type { SipResponse } from '../message/message.ts';
import type { NameAddr, Uri } from '../message/types.ts';
import type { SipAccount } from './account.ts';
import { createRequest } from './request.ts';
import type { IncomingRequest } from './contact.ts';
import { hopTowards } from './next-hop.ts';
import type { UserAgent } from './user-agent.ts';

export interface OutgoingMessage {
  to: Uri;
  contentType: string;
  body: Buffer;
}

/**
 * Sends one MESSAGE from `account` and resolves with its final response (2xx = accepted by the recipient or its
 * proxy, RFC 3428 §7). Rejects with SipError SIP_TIMEOUT or SipError SIP_TRANSPORT.
 * RFC 3428 §4: the Request-URI is the recipient's address, no Contact is inserted (a MESSAGE creates no dialog),
 * and each MESSAGE is its own transaction with a new Call-ID.
 */
export async function sendMessage(ua: UserAgent, account: SipAccount, message: OutgoingMessage): Promise<SipResponse> {
  const destination = await ua.destination(hopTowards(account.nextHop, message.to));
  const request = createRequest({
    method: 'MESSAGE',
    requestUri: message.to,
    from: { uri: account.aor, ...(account.displayName !== undefined && { displayName: account.displayName }) },
    to: { uri: message.to },
    callId: newCallId(account.aor.host),
    cseq: 1,
    body: { contentType: message.contentType, content: message.body },
  });
  const digest = account.credentials ? new DigestClient(account.credentials) : undefined;
  return ua.send(request, destination, digest);
}

export interface ReceivedMessage {
  from: NameAddr;
  to: NameAddr;
  /** RFC 3428 §7: a MESSAGE without Content-Type is text/plain by convention of the method. */
  contentType: string;
  body: Buffer;
}

/** The parts of a received MESSAGE an application needs. Throws SipParseError for a broken From/To. */
export function readMessage(incoming: IncomingRequest): ReceivedMessage {
  const m = incoming.message;
  return {
    from: getFrom(m),
    to: getTo(m),
    contentType: m.headers.get('Content-Type') ?? 'text/plain',
    body: m.body,
  };
}
