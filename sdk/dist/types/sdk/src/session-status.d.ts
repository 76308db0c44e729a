/**
 * The two statuses of a Session, each a transition table (see ./status-machine.ts).
 *
 * Connection (`session.status`):
 *
 *   PENDING → ESTABLISHED → DISCONNECTED | FAILED
 *   with a ReconnectPolicy, after DISCONNECTED:  → PENDING → ESTABLISHED | DISCONNECTED (the next attempt) | FAILED
 *
 * `connect()` resolves at the first ESTABLISHED and rejects otherwise, so an application sees the first PENDING
 * end only that way. Reconnecting ends in FAILED when the server refuses an attempt or the attempts run out.
 *
 * Registration (`session.registration`) mirrors the server's reports, each of which says a change
 * (docs/client-protocol.md "Registration status": the first outcome, a failed refresh, a successful retry), and is
 * UNREGISTERED again once the connection that held it is gone.
 */
import type { ConnectionStatus, RegistrationStatus } from './protocol.ts';
import type { Transitions } from './status-machine.ts';
export declare const CONNECTION_TRANSITIONS: Transitions<ConnectionStatus>;
export declare const REGISTRATION_TRANSITIONS: Transitions<RegistrationStatus>;
