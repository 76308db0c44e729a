/**
 * What each session owes its backend should callhook die before the session ends (the hook engine's wills,
 * ../hooks/types.ts Will): for each open subject, the event that would have closed it, with info
 * `Server restarted`. Each will rides on the event that opens or changes its subject and is settled by the one
 * that closes it; the next start emits what a crash left, exactly once:
 *
 *   connection    ESTABLISHED → ConnectionStatusEvent DISCONNECTED      settled by DISCONNECTED
 *   registration  REGISTERED  → RegistrationStatusEvent UNREGISTERED    settled by UNREGISTERED or FAILED
 *   call <callId> any status  → CallStatusEvent FINISH (the call object as it last was)   settled by FINISH, BUSY, FAILED
 *
 * A session that has ended drops what is left (Session.detach): a subject that ended without its event owes none.
 */
import type { JsonObject, Will } from '../hooks/types.ts';
import { isFinal } from './call-status.ts';
import type { CallStatus, RegistrationStatus } from './types.ts';
import { withoutSecrets } from './views.ts';

export const SERVER_RESTARTED = 'Server restarted';

/** `fields`: the connection's fields after the connect hook (what ConnectionStatusEvent carries). */
export function connectionWill(fields: JsonObject | null): Will {
  return { subject: 'connection', owed: fields === null ? null : { ...withoutSecrets(fields), status: 'DISCONNECTED', info: SERVER_RESTARTED } };
}

export function registrationWill(status: RegistrationStatus): Will {
  return { subject: 'registration', owed: status === 'REGISTERED' ? { status: 'UNREGISTERED', info: SERVER_RESTARTED } : null };
}

/** `object`: the call object without status (docs/client-protocol.md "The call object and the status frames"). */
export function callWill(callId: string, object: JsonObject, status: CallStatus): Will {
  return { subject: `call ${callId}`, owed: isFinal(status) ? null : { ...object, status: 'FINISH', info: SERVER_RESTARTED } };
}
