/**
 * One INVITE we send (initial or re-INVITE) through an INVITE client transaction: every response passed up (all 1xx,
 * every 2xx — retransmissions and forks, RFC 6026 §8.4 — and the final non-2xx), digest challenges answered on the
 * way, and CANCEL with the timing rules of RFC 3261 §9.1.
 *
 * Digest (§22.2, §22.3): a 401/407 is answered by a new INVITE with CSeq+1 and a fresh branch (§8.1.3.5), a new
 * transaction each time; the To tag of the challenge is not kept (it ends no dialog). Authentication that cannot
 * succeed is reported as the failure response that ended it.
 *
 * RFC 4028 §7.3: a 422 (Session Interval Too Small) is answered the same way, by the INVITE again with the header
 * fields the session timer gives for it (a larger Session-Expires and Min-SE), once per larger Min-SE.
 */
import type { TimerHandle } from '../../clock.ts';
import { DigestAuthError, type DigestClient } from '../auth/digest-client.ts';
import { SipError } from '../errors.ts';
import { createCancel, newBranch } from '../message/builders.ts';
import { getCSeq } from '../message/headers.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import type { ClientTransaction, Destination } from '../transaction/index.ts';
import type { InviteSessionHost } from './invite-session-host.ts';

export interface OutgoingInviteUser {
  onProvisional(response: SipResponse): void;
  /** Every 2xx: the first, its retransmissions, and those of other forks (each needs its own ACK, §13.2.2.4). */
  onSuccess(response: SipResponse): void;
  /** The final 3xx-6xx (after digest handling). */
  onFailure(response: SipResponse): void;
  /** Timer B, a transport failure, or no final response 64*T1 after our CANCEL (§9.1). */
  onError(error: SipError): void;
  /** A 422: the header fields to send the INVITE again with, or undefined to take the 422 as final. */
  onIntervalTooSmall?(response: SipResponse): readonly { name: string; value: string }[] | undefined;
}

/**
 * Bound on the rounds of one INVITE, as for UserAgent.send: a stale nonce, a proxy and a UAS challenge (or a 422),
 * then give up.
 */
const MAX_ROUNDS = 4;

export class OutgoingInvite {
  private transaction: ClientTransaction | undefined;
  private round = 0;
  private provisionalSeen = false;
  private finalSeen = false;
  private cancelWanted = false;
  private cancelSent = false;
  private giveUpTimer: TimerHandle | undefined;
  private disposed = false;

  constructor(
    private readonly host: InviteSessionHost,
    /** The INVITE as it goes out now (Via and credentials are replaced on each round). */
    readonly request: SipRequest,
    private readonly destination: Destination,
    private readonly digest: DigestClient | undefined,
    private readonly user: OutgoingInviteUser,
  ) {}

  /** A final response (or an error) has been seen. */
  get completed(): boolean {
    return this.finalSeen;
  }

  start(): void {
    this.request.headers.set('User-Agent', this.host.userAgent);
    this.send();
  }

  /**
   * §9.1: "the CANCEL request SHOULD NOT be sent [before a provisional response]. If the original request later
   * generates a final response, the CANCEL SHOULD NOT be sent" — so before any 1xx the CANCEL waits for one. Once
   * sent: "If there is no final response for the original request in 64*T1 seconds [...], the client SHOULD then
   * consider the original transaction cancelled and SHOULD destroy the client transaction".
   */
  cancel(): void {
    if (this.finalSeen || this.cancelWanted || this.disposed) return;
    this.cancelWanted = true;
    if (this.provisionalSeen) this.sendCancel();
  }

  dispose(): void {
    this.disposed = true;
    this.clearGiveUp();
    this.transaction?.dispose();
  }

  private send(): void {
    this.digest?.authorize(this.request);
    this.request.headers.delete('Via');
    this.host.transports.addVia(this.request, this.destination.transport, newBranch());
    this.provisionalSeen = false;
    const sent = this.request;
    const tx = this.host.transactions.sendRequest(sent, this.destination, {
      receiveResponse: (response) => {
        if (this.transaction === tx) this.receive(response);
      },
      onTimeout: (error) => {
        if (this.transaction === tx) this.error(error);
      },
      onTransportError: (error) => {
        if (this.transaction === tx) this.error(error);
      },
    });
    this.transaction = tx;
  }

  private receive(response: SipResponse): void {
    if (this.disposed) return;
    const status = response.status;
    if (status < 200) {
      if (this.finalSeen) return;
      const first = !this.provisionalSeen;
      this.provisionalSeen = true;
      if (first && this.cancelWanted && !this.cancelSent) this.sendCancel();
      this.user.onProvisional(response);
      return;
    }
    if (status < 300) {
      this.finalSeen = true;
      this.clearGiveUp();
      this.digest?.accepted();
      this.user.onSuccess(response);
      return;
    }
    if (this.finalSeen) return;
    if ((status === 401 || status === 407) && this.retryWithCredentials(response)) return;
    if (status === 422 && this.retryWithLongerInterval(response)) return;
    this.finalSeen = true;
    this.clearGiveUp();
    this.user.onFailure(response);
  }

  /** True when a new INVITE went out with credentials for the challenge. */
  private retryWithCredentials(response: SipResponse): boolean {
    if (this.digest === undefined || this.cancelWanted || ++this.round >= MAX_ROUNDS) return false;
    try {
      if (!this.digest.handleResponse(response)) return false;
    } catch (e) {
      if (e instanceof DigestAuthError) return false;
      throw e;
    }
    this.sendAgain();
    return true;
  }

  /** True when a new INVITE went out with the longer session interval a 422 asked for (RFC 4028 §7.3). */
  private retryWithLongerInterval(response: SipResponse): boolean {
    if (this.cancelWanted || ++this.round >= MAX_ROUNDS) return false;
    const headers = this.user.onIntervalTooSmall?.(response);
    if (headers === undefined) return false;
    for (const h of headers) this.request.headers.set(h.name, h.value);
    this.sendAgain();
    return true;
  }

  /** §8.1.3.5: the request again in a new transaction, CSeq + 1. */
  private sendAgain(): void {
    const cseq = getCSeq(this.request);
    this.request.headers.set('CSeq', `${cseq.seq + 1} INVITE`);
    this.send();
  }

  private sendCancel(): void {
    this.cancelSent = true;
    const cancel = createCancel(this.request);
    cancel.headers.set('User-Agent', this.host.userAgent);
    // The CANCEL's own response (200, or 481 when the INVITE is already over) changes nothing: the INVITE's final
    // response (487 normally) ends the call.
    this.host.transactions.request(cancel, this.destination).catch(() => undefined);
    const t1 = this.host.transactions.timers.t1;
    this.giveUpTimer = this.host.clock.setTimeout(() => {
      this.giveUpTimer = undefined;
      if (this.finalSeen || this.disposed) return;
      this.transaction?.dispose();
      this.error(new SipError('SIP_TIMEOUT', `no final response to the INVITE within ${64 * t1} ms of CANCEL (RFC 3261 §9.1)`));
    }, 64 * t1, { unref: true });
  }

  private error(error: SipError): void {
    if (this.finalSeen || this.disposed) return;
    this.finalSeen = true;
    this.clearGiveUp();
    this.user.onError(error);
  }

  private clearGiveUp(): void {
    if (this.giveUpTimer !== undefined) this.host.clock.clearTimeout(this.giveUpTimer);
    this.giveUpTimer = undefined;
  }
}
