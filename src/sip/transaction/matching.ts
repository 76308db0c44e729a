/**
 * Transaction ids: the keys under which the transaction layer finds the transaction a message belongs to.
 *
 * - Responses to client transactions: RFC 3261 §17.1.3 (branch of the top Via + CSeq method).
 * - Requests to server transactions: RFC 3261 §17.2.3 (branch + sent-by of the top Via + method, an ACK matching
 *   the INVITE), and §9.2 for finding the INVITE a CANCEL is meant for.
 * - The ACK for a 2xx is a transaction of its own (§17) with a new branch; it is found through the dialog fields
 *   the 2xx and its ACK share (§13.3.1.4, RFC 6026 §7.1).
 *
 * Branch values compare case-insensitively (§7.3.1: parameter values do unless a header says otherwise; §20.42
 * does not). Requests whose branch lacks the magic cookie come from RFC 2543 peers: the full fallback procedure of
 * §17.2.3 (Request-URI, tags, whole top Via) is not implemented; Call-ID and CSeq number stand in for it, which is
 * enough to absorb retransmissions and tell different requests apart.
 */
import { BRANCH_MAGIC_COOKIE } from '../message/builders.ts';
import { getCallId, getCSeq, getFrom, getTo, topVia } from '../message/headers.ts';
import type { SipMessage, SipRequest, SipResponse } from '../message/message.ts';

function isRfc3261Branch(branch: string | null | undefined): branch is string {
  return typeof branch === 'string' && branch.length > BRANCH_MAGIC_COOKIE.length && branch.startsWith(BRANCH_MAGIC_COOKIE);
}

/** The branch parameter of the top Via, or undefined when there is none. */
function topBranch(message: SipMessage): string | undefined {
  return topVia(message).params.get('branch') ?? undefined;
}

/** RFC 3261 §17.1.3: the id of the client transaction that sent `method` with this branch. */
function clientTransactionId(branch: string, method: string): string {
  return `${branch.toLowerCase()} ${method}`;
}

/** RFC 3261 §17.1.3: the client transaction a response belongs to (undefined when its top Via has no branch). */
export function responseTransactionId(response: SipResponse): string | undefined {
  const branch = topBranch(response);
  return branch === undefined ? undefined : clientTransactionId(branch, getCSeq(response).method);
}

/**
 * RFC 3261 §17.2.3: the id of the server transaction a request belongs to. `method` is the request's own, except
 * that an ACK belongs to the INVITE transaction; §9.2 passes 'INVITE' for a CANCEL to find the INVITE it cancels.
 */
export function serverTransactionId(request: SipRequest, method: string = matchedMethod(request)): string {
  const via = topVia(request);
  const branch = via.params.get('branch') ?? '';
  const sentBy = `${via.host.toLowerCase()}:${via.port ?? ''}`;
  if (isRfc3261Branch(branch)) return `${branch.toLowerCase()} ${sentBy} ${method}`;
  return `rfc2543 ${getCallId(request)} ${getCSeq(request).seq} ${branch} ${sentBy} ${method}`;
}

function matchedMethod(request: SipRequest): string {
  return request.method === 'ACK' ? 'INVITE' : request.method;
}

/**
 * The fields a 2xx to INVITE and the ACK for it share (RFC 3261 §13.2.2.4, §12.1.1): Call-ID, CSeq number, From tag
 * and To tag. Used to find the accepted INVITE server transaction an ACK for a 2xx acknowledges.
 */
export function ackKey(message: SipMessage): string {
  const fromTag = getFrom(message).params.get('tag') ?? '';
  const toTag = getTo(message).params.get('tag') ?? '';
  return `${getCallId(message)} ${getCSeq(message).seq} ${fromTag} ${toTag}`;
}

/**
 * The id of the client transaction for a request about to be sent, after checking what RFC 3261 requires of it:
 * a top Via whose branch starts with the magic cookie (§8.1.1.7) and a CSeq method equal to the request method
 * (§8.1.1.5). An ACK never has a client transaction (§17.1.1.3: the ACK for a non-2xx is the INVITE transaction's
 * own; the ACK for a 2xx is sent by the TU directly). Violations are bugs of the caller: plain Errors.
 */
export function outgoingTransactionId(request: SipRequest): string {
  if (request.method === 'ACK') throw new Error('an ACK is not sent through a client transaction (RFC 3261 §17.1.1.3)');
  const branch = topBranch(request);
  if (!isRfc3261Branch(branch)) {
    throw new Error(`the top Via of a ${request.method} needs a branch starting with ${BRANCH_MAGIC_COOKIE} (RFC 3261 §8.1.1.7), got ${branch ?? 'none'}`);
  }
  const cseqMethod = getCSeq(request).method;
  if (cseqMethod !== request.method) {
    throw new Error(`CSeq method ${cseqMethod} differs from the request method ${request.method} (RFC 3261 §8.1.1.5)`);
  }
  return clientTransactionId(branch, request.method);
}
