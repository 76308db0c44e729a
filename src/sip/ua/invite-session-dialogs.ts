/**
 * The dialogs of one INVITE session (RFC 3261 §12): the one the call runs in and, for an outgoing call, an early
 * dialog per fork that answered with a 1xx carrying a To tag (§12.1.2). Each is registered with the UA's dialog
 * router while it lives, so that requests in it reach the session.
 */
import { dialogKey, incomingRequestDialogId, type Dialog } from '../dialog/dialog.ts';
import type { SipRequest } from '../message/message.ts';
import type { DialogRouter, DialogUser } from './dialog-router.ts';

export class InviteSessionDialogs {
  /** The dialog of the call: confirmed, or (incoming) early after a 1xx with our tag. */
  private currentValue: Dialog | undefined;
  /** Outgoing: early dialogs by key, one per forked 1xx with a To tag. */
  private readonly early = new Map<string, Dialog>();
  private readonly registered = new Set<string>();

  constructor(
    private readonly router: DialogRouter,
    private readonly user: DialogUser,
  ) {}

  get current(): Dialog | undefined {
    return this.currentValue;
  }

  /** Incoming: the dialog our first 1xx or 2xx made (§12.1.1). */
  adopt(dialog: Dialog): void {
    this.currentValue = dialog;
    this.register(dialog);
  }

  /** Outgoing: the early dialog with this key, if a fork made one. */
  earlyDialog(key: string): Dialog | undefined {
    return this.early.get(key);
  }

  /** Outgoing: a fork's 1xx with a To tag made an early dialog (§12.1.2). */
  addEarly(dialog: Dialog): void {
    this.early.set(dialog.key, dialog);
    this.register(dialog);
  }

  /**
   * Outgoing: the first 2xx confirmed `dialog` (the fork's early one when there was one); every other early dialog
   * is over — §13.2.2.4: later 2xx of other forks are ACKed and BYEd, not followed.
   */
  confirm(dialog: Dialog): void {
    for (const other of this.early.values()) {
      if (other === dialog) continue;
      other.terminate();
      this.unregister(other);
    }
    const wasEarly = this.early.get(dialog.key) === dialog;
    this.early.clear();
    this.currentValue = dialog;
    if (!wasEarly) this.register(dialog);
  }

  /** The live dialog a request with a To tag names, when it is one of ours. */
  byRequest(request: SipRequest): Dialog | undefined {
    const id = incomingRequestDialogId(request);
    const key = id === undefined ? undefined : dialogKey(id);
    if (key === undefined || !this.registered.has(key)) return undefined;
    return this.currentValue?.key === key ? this.currentValue : this.early.get(key);
  }

  /** The session ended: every dialog terminated, none reaches it any more. */
  release(): void {
    for (const key of this.registered) this.router.removeDialog(key, this.user);
    this.registered.clear();
    this.currentValue?.terminate();
    for (const d of this.early.values()) d.terminate();
    this.early.clear();
  }

  private register(dialog: Dialog): void {
    this.registered.add(dialog.key);
    this.router.addDialog(dialog.key, this.user);
  }

  private unregister(dialog: Dialog): void {
    this.registered.delete(dialog.key);
    this.router.removeDialog(dialog.key, this.user);
  }
}
