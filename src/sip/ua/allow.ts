/**
 * The methods this UA accepts (RFC 3261 §20.5 Allow): answered by the core or passed on to a contact's handler or
 * a call. Anything else out of a dialog gets 405 (§8.2.1). UPDATE (RFC 3311) is only taken in a call's dialog:
 * out of one it gets 481. REFER is not among them: in a dialog it is answered 501 (./invite-session.ts).
 */
export const ALLOWED_METHODS: readonly string[] = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'MESSAGE', 'INFO', 'NOTIFY', 'UPDATE'];

/** The Allow header field, for 405, OPTIONS and the responses that make a dialog (§13.3.1.4). */
export function allowHeader(): { name: string; value: string } {
  return { name: 'Allow', value: ALLOWED_METHODS.join(', ') };
}
