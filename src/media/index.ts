/**
 * callhook's media library: the browser's WebRTC leg, the SIP peer's plain RTP leg, and the G.711 relay between
 * them. It knows nothing of hooks, WebSockets or SIP signalling: the gateway hands a call's SDP bodies to its
 * MediaSession (./media-session.ts), which negotiates with ./sdp, opens the legs, and bridges them.
 */
export * from './codecs.ts';
export * from './errors.ts';
export { Listeners } from './events.ts';
export { PortPairAllocator } from './ports.ts';
export { portMetrics } from './port-metrics.ts';
export { RtpLeg, type RtpLegOptions, type RtpLegStats } from './rtp-leg.ts';
export {
  WEBRTC_LEG_TRANSITIONS, type MediaEngine, type WebRtcLeg, type WebRtcLegOptions, type WebRtcLegState,
  type WebRtcLegStats, type WebRtcMedia,
} from './engine.ts';
export { DataChannelEngine } from './datachannel-engine.ts';
export type { WebRtcEngineOptions } from './webrtc-leg.ts';
// The werift engine is imported from ./werift-engine.ts itself, by whoever chooses it: see ./call-media.ts.
export { loadSound, type Sound } from './audio/sound.ts';
export {
  MediaBridge, type SoundOutcome, type DirectionStats, type DtmfOptions, type MediaBridgeOptions, type MediaBridgeStats,
} from './bridge.ts';
// What the gateway needs of the SDP and RTP layers; the rest is in ./sdp/index.ts and ./rtp/index.ts.
export {
  chooseAudio, isPlainRtpProfile, parseSdp, serializeSdp, SipSdpSession, type AudioChoice, type Direction,
  type NegotiatedAudio, type RtpTarget, type SessionDescription, type SipSdpSessionOptions, type SrtpPolicy,
} from './sdp/index.ts';
export { dtmfEvents, type DetectedEvent, type RtpPacket } from './rtp/index.ts';
export { createCallMedia, codecPreference, type CallMedia, type CallMediaConfig, type WebRtcEngineName } from './call-media.ts';
export { MediaSession, type MediaSessionCounters, type MediaSessionInfo, type MediaSessionOptions } from './media-session.ts';
