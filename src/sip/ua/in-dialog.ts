/**
 * Requests within a session's dialog (RFC 3261 §12.2.1.1): built by the dialog, sent to its route set or remote
 * target — not the account's outbound proxy: without Record-Route a proxy asked for no further part in the dialog —
 * with digest challenges answered, and what their failures mean (§12.2.1.2).
 */
import type { DigestClient } from '../auth/digest-client.ts';
import type { Dialog } from '../dialog/dialog.ts';
import { SipError } from '../errors.ts';
import { getCSeq } from '../message/headers.ts';
import type { SipResponse } from '../message/message.ts';
import type { Destination } from '../transaction/index.ts';
import { describeResponse } from './account.ts';
import type { ContactBinding } from './contact.ts';
import { uriNextHop } from './next-hop.ts';
import type { InviteSessionHost } from './invite-session-host.ts';

export interface InDialogOptions {
  body?: { contentType: string; content: Buffer };
  headers?: { name: string; value: string }[];
  /** Add our Contact (REFER, re-INVITE: target refresh requests, §12.2.1.1). */
  contact?: boolean;
}

/** What in-dialog requests need of their session. */
export interface InDialogOwner {
  readonly host: InviteSessionHost;
  readonly digest: DigestClient | undefined;
  readonly binding: ContactBinding;
  /** The dialog requests go in, when there is one. */
  readonly dialog: Dialog | undefined;
  /**
   * §12.2.1.2: "If the response for a request within a dialog is a 481 (Call/Transaction Does Not Exist) or a 408
   * (Request Timeout), the UAC SHOULD terminate the dialog. A UAC SHOULD also terminate a dialog if no response at
   * all is received for the request" — nor when it cannot be sent. Not for BYE, which ends the dialog anyway.
   */
  dialogLost(info: string, response?: SipResponse): void;
  /** A programming error in unawaited work: the session's to log and end on. */
  failed(error: unknown): void;
}

export class InDialogRequests {
  constructor(private readonly owner: InDialogOwner) {}

  /** Where requests of `dialog` go: its first route or remote target, resolved (RFC 3263). */
  async destination(dialog: Dialog): Promise<Destination> {
    return this.owner.host.destination(uriNextHop(dialog.nextHopUri()));
  }

  /** `method` in the session's dialog; resolves with the final response. Failures other than BYE's end the dialog. */
  async send(method: string, options: InDialogOptions = {}): Promise<SipResponse> {
    const { dialog, host, digest, binding } = this.owner;
    if (dialog === undefined) throw new SipError('SIP_STATE', `cannot send ${method}: no dialog`);
    const lost = (info: string, response?: SipResponse): void => {
      if (method !== 'BYE') this.owner.dialogLost(info, response);
    };
    const destination = await this.destination(dialog).catch((e: unknown) => {
      if (e instanceof SipError) lost(e.message);
      throw e;
    });
    const request = dialog.createRequest(method, {
      ...(options.body && { body: options.body }),
      ...(options.headers && { headers: options.headers }),
      ...(options.contact && { contact: binding.contactUri(destination.transport) }),
    });
    let response: SipResponse;
    try {
      response = await host.send(request, destination, digest);
    } catch (e) {
      if (e instanceof SipError) lost(e.message);
      throw e;
    } finally {
      // Digest rounds raised the CSeq on the way (§8.1.3.5); the dialog's counter follows.
      dialog.localSeq = Math.max(dialog.localSeq ?? 0, getCSeq(request).seq);
    }
    if (response.status === 481 || response.status === 408) lost(describeResponse(response), response);
    return response;
  }

  /**
   * A BYE in `dialog` whose answer changes nothing (the session ends here at once, or never had the dialog). Built
   * now, before the session's end terminates the dialog; sent once the destination is resolved.
   */
  byeUnwatched(dialog: Dialog): void {
    const { host, digest } = this.owner;
    const bye = dialog.createRequest('BYE');
    void (async () => {
      try {
        const destination = await this.destination(dialog);
        await host.send(bye, destination, digest);
      } catch (e) {
        if (!(e instanceof SipError)) throw e;
      }
      dialog.terminate();
    })().catch((e: unknown) => this.owner.failed(e));
  }
}
