/**
 * The phases of a call and the changes between them, as a table after the SIP transaction and INVITE session
 * layers': every change goes through `nextPhase`, which throws on one the table does not list (a bug, which the
 * call's containment turns into FAILED `Internal error`).
 *
 *   outgoing   placing ──▶ inviting ──▶ established
 *   incoming   screening ──▶ alerting ──▶ answering ──▶ established
 *   every phase but ended ──▶ ended
 *
 *   placing      the `call` hook and the browser's offer; nothing has gone to the SIP side yet
 *   inviting     our INVITE is out (RFC 3261 §13.2.1); provisional responses report TRYING, RING, …
 *   screening    an INVITE arrived: the `OnCallEvent` hook and our offer to the browser; the client does not know
 *                the call yet (nothing is reported to it)
 *   alerting     the client was told (`incomingCall`) and the caller hears 180 (RFC 3261 §13.3.1.1)
 *   answering    the client answered: the `answer` hook, the browser's answer, our 200, waiting for the ACK
 *   established  the dialog is confirmed: hold, DTMF and transfer are possible
 *   ended        the final status was reported; the call's AbortSignal has aborted
 *
 * The reported status (CallStatus: TRYING, RING, HOLD, …) is what the client and backend see, and may change many
 * times within one phase; the phase is what the call may do next.
 */
export type CallPhase = 'placing' | 'inviting' | 'screening' | 'alerting' | 'answering' | 'established' | 'ended';

export const CALL_TRANSITIONS: Readonly<Record<CallPhase, readonly CallPhase[]>> = {
  placing: ['inviting', 'ended'],
  inviting: ['established', 'ended'],
  screening: ['alerting', 'ended'],
  alerting: ['answering', 'ended'],
  answering: ['established', 'ended'],
  established: ['ended'],
  ended: [],
};

/** `to`, if the table allows the change from `from`; throws otherwise. */
export function nextPhase(from: CallPhase, to: CallPhase): CallPhase {
  if (!CALL_TRANSITIONS[from].includes(to)) throw new Error(`call phase ${from} → ${to} is not allowed`);
  return to;
}
