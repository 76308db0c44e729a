/** The user-agent layer: what the gateway uses of the SIP stack. */
export { describeResponse, type SipAccount } from './account.ts';
export { ALLOWED_METHODS, allowHeader } from './allow.ts';
export { DialogRouter, type DialogUser } from './dialog-router.ts';
export {
  DEFAULT_DTMF_DURATION_MS, DTMF, DTMF_RELAY, dtmfRelayBody, parseDtmfInfo, validateDtmf,
  type DtmfDigit,
} from './info.ts';
export type { ContactBinding, IncomingRequest, RequestHandler } from './contact.ts';
export { InviteSession } from './invite-session.ts';
export { sdpOf } from './sdp-body.ts';
export type { InviteSessionHost } from './invite-session-host.ts';
export { InviteSessionState, type InviteSessionDelegate, type InviteSessionEndCause, type InviteSessionEvent } from './invite-session-model.ts';
export { Invitation, type ProvisionalStatus } from './invitation.ts';
export { Inviter, type InviterOptions } from './inviter.ts';
export { readMessage, sendMessage, type OutgoingMessage, type ReceivedMessage } from './message.ts';
export { resolveNextHop, uriNextHop, type NextHop, type SipTransportName } from './next-hop.ts';
export { isReferEvent, parseSipfrag, parseSubscriptionState, sipfragTransferStatus, TransferStatus, type SipfragStatus } from './refer.ts';
export { Registerer, RegistrationState, refreshDelayMs, type RegistererOptions, type RegistrationEvent } from './registerer.ts';
export { createRequest, type RequestSpec } from './request.ts';
export { UserAgent, type ContactBindingOptions, type TrustedSources, type UserAgentOptions } from './user-agent.ts';
