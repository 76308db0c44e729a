/**
 * ICE for callhook's own WebRTC engine: always ICE-lite (RFC 8445 §2.5), so only STUN Binding requests are answered
 * and none are sent. ./stun.ts is the STUN message codec (RFC 8489), ./lite-agent.ts the agent of one browser leg.
 */
export { IceLiteAgent, type IceLiteAgentOptions } from './lite-agent.ts';
export {
  BINDING, ERROR_CODE, FINGERPRINT, ICE_CONTROLLED, ICE_CONTROLLING, MAGIC_COOKIE, MESSAGE_INTEGRITY, PRIORITY,
  STUN_HEADER_SIZE, StunError, USE_CANDIDATE, USERNAME, XOR_MAPPED_ADDRESS, bindingError, bindingSuccess,
  checkFingerprint, checkMessageIntegrity, crc32, isStunMessage, parseStun, serializeStun, stunAttribute,
  type StunAttribute, type StunClass, type StunMessage, type StunMessageToSend,
} from './stun.ts';
