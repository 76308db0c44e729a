/**
 * SRTP and SRTCP (RFC 3711) for the RTP leg towards SIP, keyed by SDES (RFC 4568, ../sdp/crypto.ts): AES-CM and
 * HMAC-SHA1 from Node's crypto, key derivation, rollover counters and replay lists here.
 */
export { AesCm } from './aes-cm.ts';
export { SrtpContext } from './context.ts';
export { deriveKey, sessionKeys, LABEL, type SessionKeys } from './key-derivation.ts';
export { ReplayWindow, REPLAY_WINDOW } from './replay.ts';
export {
  AUTH_KEY_BYTES, MASTER_KEY_BYTES, MASTER_SALT_BYTES, SRTP_SUITES, isSrtpSuite, type SrtpKeys, type SrtpSuite,
  type SuiteParameters,
} from './suites.ts';
export { SrtpSession, type SrtpKeyPair } from './session.ts';
