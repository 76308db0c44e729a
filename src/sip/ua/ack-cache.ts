/**
 * The ACKs this UA sends for 2xx responses to its INVITEs (RFC 3261 §13.2.2.4): built in the dialog, sent straight
 * to the transport with a branch of their own (§17.1.1.3: the ACK for a 2xx is no part of the INVITE's transaction),
 * and kept by dialog and CSeq, so each retransmission of that 2xx — "The UAC core MUST generate an ACK request for
 * each 2xx received from the transaction layer" — gets the same ACK again, after the session's end too.
 */
import { dialogKey, incomingResponseDialogId, type Dialog } from '../dialog/dialog.ts';
import { SipError } from '../errors.ts';
import { newBranch } from '../message/builders.ts';
import { getCSeq } from '../message/headers.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import type { Destination } from '../transaction/index.ts';
import type { InviteSessionHost } from './invite-session-host.ts';

interface SentAck {
  ack: SipRequest;
  destination: Destination;
}

export class AckCache {
  private readonly acks = new Map<string, Promise<SentAck | undefined>>();

  constructor(
    private readonly host: Pick<InviteSessionHost, 'transports'>,
    /** Where requests of a dialog go (its first route or remote target, resolved). */
    private readonly destination: (dialog: Dialog) => Promise<Destination>,
    /** A programming error on the way (not a SIP failure): the session's to log and end on. */
    private readonly failed: (error: unknown) => void,
  ) {}

  /** Sends the ACK for the 2xx to `invite` in `dialog`, or the one already sent for it again. */
  acknowledge(dialog: Dialog, invite: SipRequest): void {
    const seq = getCSeq(invite).seq;
    const key = ackKey(dialog.key, seq);
    if (this.acks.has(key)) return this.resend(dialog.key, seq);
    this.acks.set(key, this.send(dialog, invite));
  }

  has(dialogKey: string, seq: number): boolean {
    return this.acks.has(ackKey(dialogKey, seq));
  }

  /** A response no transaction took: a 2xx to an INVITE retransmitted after its transaction ended gets its ACK again. */
  receiveStray(response: SipResponse): void {
    if (response.status < 200 || response.status >= 300) return;
    const cseq = getCSeq(response);
    if (cseq.method !== 'INVITE') return;
    const id = incomingResponseDialogId(response);
    if (id !== undefined) this.resend(dialogKey(id), cseq.seq);
  }

  resend(dialogKey: string, seq: number): void {
    void this.acks.get(ackKey(dialogKey, seq))?.then((sent) => {
      sent?.destination.transport.send(sent.ack, sent.destination.remote).catch((e: unknown) => this.unsent(e));
    });
  }

  private async send(dialog: Dialog, invite: SipRequest): Promise<SentAck | undefined> {
    try {
      const destination = await this.destination(dialog);
      const ack = dialog.createAck(invite);
      this.host.transports.addVia(ack, destination.transport, newBranch());
      await destination.transport.send(ack, destination.remote);
      return { ack, destination };
    } catch (e) {
      this.unsent(e);
      return undefined;
    }
  }

  /** No ACK can reach the far end: it will give up on its 2xx (§13.3.1.4) and BYE; nothing better to do here. */
  private unsent(error: unknown): void {
    if (!(error instanceof SipError)) this.failed(error);
  }
}

function ackKey(dialogKey: string, seq: number): string {
  return `${dialogKey}\n${seq}`;
}
