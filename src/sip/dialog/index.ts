/** Dialogs (RFC 3261 §12): state, ids, in-dialog request creation and reception. Plain data; no I/O. */
export {
  Dialog, DialogState, dialogKey, incomingRequestDialogId, incomingResponseDialogId,
  type DialogId, type InDialogRequestOptions,
} from './dialog.ts';
