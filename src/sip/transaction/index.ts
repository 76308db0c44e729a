/**
 * The transaction layer of RFC 3261 §17 (with RFC 6026): four state machines, their timers, matching, and the
 * TransactionLayer that owns them. What a core needs is the TransactionLayer, the TU interfaces and the states.
 */
export { TransactionLayer, type ClientTransaction, type Destination, type RequestOptions, type ServerTransaction,
  type TransactionCore, type TransactionLayerOptions, type TransportLayerPort } from './transaction-layer.ts';
export type { ClientTransactionUser, InviteServerTransactionUser, ServerTransactionUser } from './transaction-user.ts';
export { InviteClientState, InviteClientTransaction } from './invite-client.ts';
export { NonInviteClientState, NonInviteClientTransaction } from './non-invite-client.ts';
export { InviteServerState, InviteServerTransaction } from './invite-server.ts';
export { NonInviteServerState, NonInviteServerTransaction } from './non-invite-server.ts';
export { DEFAULT_TIMER_SETTINGS, TimerValues, type TimerSettings } from './timers.ts';
