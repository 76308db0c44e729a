/**
 * Where the UA core sends what belongs to a call rather than to a contact: requests within a dialog (RFC 3261
 * §12.2.2, found by Call-ID and tags), ACKs and 2xx retransmissions that no transaction matched (§13.2.2.4,
 * §13.3.1.4), and CANCELs (§9.2, found through the INVITE server transaction they target). Sessions register their
 * dialogs and pending INVITEs here and leave when they end; `dispose` ends every live session when the UA closes.
 */
import { SipParseError } from '../errors.ts';
import { dialogKey, incomingRequestDialogId, incomingResponseDialogId } from '../dialog/dialog.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import type { InviteServerTransaction, ServerTransaction } from '../transaction/index.ts';
import type { IncomingRequest } from './contact.ts';

/** The owner of a dialog: an INVITE session. */
export interface DialogUser {
  /** A new request whose dialog id names this dialog (its CSeq not yet checked: §12.2.2 is the user's). */
  receiveRequest(incoming: IncomingRequest, transaction: ServerTransaction): void;
  /** An ACK no INVITE server transaction matched: a retransmitted ACK, or one after Timer L. */
  receiveStrayAck(ack: SipRequest): void;
  /** A response no client transaction matched: a 2xx to our INVITE retransmitted after Timer M (§13.2.2.4). */
  receiveStrayResponse(response: SipResponse): void;
}

export interface LiveSession {
  dispose(): void;
}

export class DialogRouter {
  private readonly dialogs = new Map<string, DialogUser>();
  private readonly cancelTargets = new Map<InviteServerTransaction, (cancel: SipRequest) => void>();
  private readonly sessions = new Set<LiveSession>();

  /** Live dialogs (early and confirmed). */
  get dialogCount(): number {
    return this.dialogs.size;
  }

  /** Sessions not yet terminated. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  addDialog(key: string, user: DialogUser): void {
    this.dialogs.set(key, user);
  }

  removeDialog(key: string, user: DialogUser): void {
    if (this.dialogs.get(key) === user) this.dialogs.delete(key);
  }

  /** `onCancel` runs when a CANCEL for `invite` arrives (after the CANCEL itself got its 200). */
  addCancelTarget(invite: InviteServerTransaction, onCancel: (cancel: SipRequest) => void): void {
    this.cancelTargets.set(invite, onCancel);
  }

  removeCancelTarget(invite: InviteServerTransaction): void {
    this.cancelTargets.delete(invite);
  }

  track(session: LiveSession): void {
    this.sessions.add(session);
  }

  untrack(session: LiveSession): void {
    this.sessions.delete(session);
  }

  /** Hands a request with a To tag to its dialog's user; false when no dialog matches (the core answers 481). */
  routeRequest(incoming: IncomingRequest, transaction: ServerTransaction): boolean {
    const user = this.userOf(() => incomingRequestDialogId(incoming.message));
    if (user === undefined) return false;
    user.receiveRequest(incoming, transaction);
    return true;
  }

  routeStrayAck(ack: SipRequest): void {
    this.userOf(() => incomingRequestDialogId(ack))?.receiveStrayAck(ack);
  }

  routeStrayResponse(response: SipResponse): void {
    this.userOf(() => incomingResponseDialogId(response))?.receiveStrayResponse(response);
  }

  /** §9.2: runs the target of a CANCEL whose INVITE server transaction was found. */
  cancel(invite: InviteServerTransaction, cancel: SipRequest): void {
    this.cancelTargets.get(invite)?.(cancel);
  }

  /** Ends every live session (no signalling beyond what `dispose` of a session sends). */
  dispose(): void {
    for (const session of [...this.sessions]) session.dispose();
    this.dialogs.clear();
    this.cancelTargets.clear();
  }

  private userOf(id: () => ReturnType<typeof incomingRequestDialogId>): DialogUser | undefined {
    try {
      const dialogId = id();
      return dialogId === undefined ? undefined : this.dialogs.get(dialogKey(dialogId));
    } catch (e) {
      // A message whose From/To/Call-ID cannot be read matches no dialog.
      if (e instanceof SipParseError) return undefined;
      throw e;
    }
  }
}
