/** The user-agent layer: what the gateway uses of the SIP stack. */
export { describeResponse, type SipAccount } from './account.ts';
export { readMessage, sendMessage, type OutgoingMessage, type ReceivedMessage } from './message.ts';
export { resolveNextHop, type NextHop, type SipTransportName } from './next-hop.ts';
export { Registerer, RegistrationState, refreshDelayMs, type RegistererOptions, type RegistrationEvent } from './registerer.ts';
export { createRequest, type RequestSpec } from './request.ts';
export { UserAgent, type ContactBinding, type IncomingRequest, type RequestHandler, type UserAgentOptions } from './user-agent.ts';
