/**
 * SDP for both legs (RFC 8866 model, parser and serializer; RFC 3264 offer/answer): the SIP side's plain RTP/AVP
 * session and the browser side's JSEP helpers. Plain data and pure functions: no I/O, no timers.
 */
export * from './model.ts';
export { parseSdp } from './parse.ts';
export { serializeSdp } from './serialize.ts';
export { attributeValue, attributeValues, hasAttribute, removeAttributes, setAttribute } from './attributes.ts';
export { formatAttributes, payloadFormats, restrictPayloadTypes } from './rtpmap.ts';
export {
  answerDirection, mediaDirection, receives, reverseDirection, sends, setMediaDirection, type Direction,
} from './direction.ts';
export { parseCandidate, serializeCandidate, type CandidateType, type IceCandidate } from './candidate.ts';
export { iceParameters, mediaCandidates, type IceParameters } from './ice.ts';
export { fingerprints, parseFingerprint, setupRole, type Fingerprint, type SetupRole } from './dtls.ts';
export { mid, ptime, rtcpAttribute, rtcpMux } from './stream-attributes.ts';
export { chooseAudio, isPlainRtpProfile, rtpTarget, type AudioChoice, type RtpTarget } from './offer-answer.ts';
export { SipSdpSession, type NegotiatedAudio, type SipSdpSessionOptions } from './sip-session.ts';
export {
  acceptsProfile, cryptoAttribute, isSecureProfile, newKeys, offerCrypto, peerCrypto, usableCrypto, type CryptoLine, type SrtpPolicy,
} from './crypto.ts';
export {
  completeBrowserAnswer, liftIceLite, limitOpusRate, prepareBrowserOffer, readBrowserAnswer, useDefaultCandidate, type PreparedOffer,
} from './webrtc.ts';
