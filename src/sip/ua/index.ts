/** The user-agent layer: what the gateway uses of the SIP stack. */
export { describeResponse, type SipAccount } from './account.ts';
export { ALLOWED_METHODS, allowHeader } from './allow.ts';
export { DialogRouter, type DialogUser } from './dialog-router.ts';
export {
  DEFAULT_DTMF_DURATION_MS, DTMF, DTMF_RELAY, dtmfRelayBody, parseDtmfInfo, validateDtmf,
  type DtmfDigit,
} from './info.ts';
export {
  InviteSession, sdpOf, SessionState, uriNextHop,
  type SessionDelegate, type SessionEndCause, type SessionEvent,
} from './invite-session.ts';
export { Invitation, type ProvisionalStatus } from './invitation.ts';
export { Inviter, type InviterOptions } from './inviter.ts';
export { readMessage, sendMessage, type OutgoingMessage, type ReceivedMessage } from './message.ts';
export { resolveNextHop, type NextHop, type SipTransportName } from './next-hop.ts';
export { isReferEvent, parseSipfrag, parseSubscriptionState, sipfragTransferStatus, TransferStatus, type SipfragStatus } from './refer.ts';
export { Registerer, RegistrationState, refreshDelayMs, type RegistererOptions, type RegistrationEvent } from './registerer.ts';
export { createRequest, type RequestSpec } from './request.ts';
export {
  UserAgent, type ContactBinding, type ContactBindingOptions, type IncomingRequest, type RequestHandler,
  type TrustedSources, type UserAgentOptions,
} from './user-agent.ts';
