/**
 * One blind transfer we asked for (RFC 3515): the REFER's outcome and its implicit subscription, reported upwards
 * as `transfer` events (PENDING, ACCEPTED, TRYING, then one final COMPLETED or FAILED). What the NOTIFY bodies and
 * headers say is read by ./refer.ts; this is the state.
 *
 * States (one guard, `stateTransition`):
 *   Requested → Accepted | Notified | Ended   REFER sent; a 2xx accepts it, a NOTIFY reports on it, a failure ends it
 *   Accepted → Notified | Ended               2xx seen, no NOTIFY yet: the subscription runs to its expiry
 *   Notified → Reported | Ended               a NOTIFY came: the subscription is alive; nothing final yet
 *   Reported → Ended                          COMPLETED or FAILED reported; the subscription may still run
 *   Ended: final (the session may REFER again)
 * Ended is reached by a NOTIFY with `Subscription-State: terminated`, by the subscription's expiry, by a failure
 * before any NOTIFY (no subscription to wait for), and by the end of the call.
 */
import type { TimerGroup, TimerHandle } from '../../clock.ts';
import { SipError } from '../errors.ts';
import type { SipMessage, SipRequest, SipResponse } from '../message/message.ts';
import type { Uri } from '../message/types.ts';
import { formatUri } from '../message/uri.ts';
import { describeResponse } from './account.ts';
import { parseSipfrag, parseSubscriptionState, sipfragTransferStatus, TransferStatus } from './refer.ts';
import type { TransferEvent } from './invite-session-model.ts';

export enum TransferState {
  Requested = 'Requested',
  Accepted = 'Accepted',
  Notified = 'Notified',
  Reported = 'Reported',
  Ended = 'Ended',
}

const T = TransferState;

const TRANSITIONS: Readonly<Record<TransferState, readonly TransferState[]>> = {
  [T.Requested]: [T.Accepted, T.Notified, T.Ended],
  [T.Accepted]: [T.Notified, T.Ended],
  [T.Notified]: [T.Reported, T.Ended],
  [T.Reported]: [T.Ended],
  [T.Ended]: [],
};

/** RFC 3515 has the notifier choose the subscription's duration; this is assumed when a NOTIFY names none. */
export const DEFAULT_REFER_EXPIRES_S = 60;
/** Slack on top of the subscription's expiry before a transfer without a final NOTIFY is called failed. */
export const REFER_EXPIRY_SLACK_MS = 5_000;

/** What a transfer needs of its session. */
export interface TransferOwner {
  emit(event: TransferEvent): void;
  /** The REFER in the session's dialog, with these header fields and our Contact. */
  sendRefer(headers: { name: string; value: string }[]): Promise<SipResponse>;
  /** The session's timers: cleared when it ends. */
  readonly timers: TimerGroup;
  /** The transfer reached Ended: the session may start another. */
  ended(transfer: Transfer): void;
}

export class Transfer {
  private stateValue = T.Requested;
  private expiry: TimerHandle | undefined;

  constructor(private readonly owner: TransferOwner) {}

  get state(): TransferState {
    return this.stateValue;
  }

  /**
   * REFER with `Refer-To: <target>` and `Referred-By: <referredBy>` (RFC 3515 §2.1, RFC 3892): PENDING now, then
   * ACCEPTED or FAILED from its final response. Resolves once that response is in; NOTIFYs come later.
   */
  async refer(target: Uri, referredBy: Uri): Promise<void> {
    this.owner.emit({ type: 'transfer', status: TransferStatus.Pending, info: `REFER to ${formatUri(target)}` });
    // The application's handler of PENDING may have ended the call.
    if (this.stateValue === T.Ended) return;
    let response: SipResponse;
    try {
      response = await this.owner.sendRefer([
        { name: 'Refer-To', value: `<${formatUri(target)}>` },
        { name: 'Referred-By', value: `<${formatUri(referredBy)}>` },
      ]);
    } catch (e) {
      // Not sent, or no final response.
      if (!(e instanceof SipError)) throw e;
      return this.finish(TransferStatus.Failed, e.message);
    }
    this.referAnswered(response);
  }

  /** The REFER's final response: 2xx is ACCEPTED (RFC 3515 §2.4.2: normally 202), anything else FAILED. */
  private referAnswered(response: SipResponse): void {
    if (this.stateValue === T.Reported || this.stateValue === T.Ended) return;
    if (response.status >= 300) return this.finish(TransferStatus.Failed, describeResponse(response), response);
    // A NOTIFY may have overtaken the 2xx: then ACCEPTED is no news.
    if (this.stateValue !== T.Requested) return;
    this.stateTransition(T.Accepted);
    this.owner.emit({ type: 'transfer', status: TransferStatus.Accepted, info: describeResponse(response), message: response });
    // RFC 3515 §2.4.4: the REFER "creates an implicit subscription"; without news it ends at its expiry.
    this.armExpiry(DEFAULT_REFER_EXPIRES_S);
  }

  /**
   * A NOTIFY of the implicit subscription (RFC 3515 §2.4.5), already answered 200: its sipfrag's status line is
   * TRYING (1xx), COMPLETED (2xx) or FAILED, and its Subscription-State (RFC 6665 §8.2.3) ends the subscription or
   * sets its expiry.
   */
  notified(request: SipRequest): void {
    if (this.stateValue === T.Ended) return;
    if (this.stateValue === T.Requested || this.stateValue === T.Accepted) this.stateTransition(T.Notified);
    const fragment = parseSipfrag(request.body);
    if (fragment !== undefined && this.stateValue === T.Notified) {
      const status = sipfragTransferStatus(fragment.status);
      const info = describeResponse(fragment);
      if (status === TransferStatus.Trying) this.owner.emit({ type: 'transfer', status, info, message: request });
      else this.finish(status, info, request);
    }
    const subscription = parseSubscriptionState(request.headers.get('Subscription-State'));
    if (subscription?.state === 'terminated') {
      this.finish(TransferStatus.Failed, 'Transfer subscription ended without a final response', request);
      this.end();
    } else {
      this.armExpiry(subscription?.expires ?? DEFAULT_REFER_EXPIRES_S);
    }
  }

  /** The call ended first: a transfer not yet reported has FAILED. */
  callEnded(): void {
    this.finish(TransferStatus.Failed, 'Call ended before the transfer completed');
    this.end();
  }

  private armExpiry(expiresS: number): void {
    this.owner.timers.cancel(this.expiry);
    this.expiry = this.owner.timers.schedule(expiresS * 1000 + REFER_EXPIRY_SLACK_MS, () => {
      this.expiry = undefined;
      this.finish(TransferStatus.Failed, 'Transfer subscription expired without a final response');
      this.end();
    });
  }

  /** Reports COMPLETED or FAILED once. A failure before any NOTIFY ends the transfer: no subscription to wait for. */
  private finish(status: TransferStatus, info: string, message?: SipMessage): void {
    if (this.stateValue === T.Reported || this.stateValue === T.Ended) return;
    if (this.stateValue === T.Notified) this.stateTransition(T.Reported);
    else this.end();
    this.owner.emit({ type: 'transfer', status, info, ...(message && { message }) });
  }

  private end(): void {
    if (this.stateValue === T.Ended) return;
    this.stateTransition(T.Ended);
    this.owner.timers.cancel(this.expiry);
    this.expiry = undefined;
    this.owner.ended(this);
  }

  private stateTransition(next: TransferState): void {
    if (!TRANSITIONS[this.stateValue].includes(next)) {
      throw new Error(`transfer state ${this.stateValue} → ${next} is not allowed`);
    }
    this.stateValue = next;
  }
}
