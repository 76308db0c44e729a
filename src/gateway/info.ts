/**
 * What the gateway shows of its live state: its sessions and their calls, as the admin API's `GET /api/sessions` and
 * `GET /api/calls` serve them (`callhook show sessions` / `show calls`). The gateway owns these views and
 * implements SessionsProvider; the admin server only reads them, so it knows nothing of WebSockets or SIP.
 */

/** One client connection (docs/client-protocol.md) and its SIP registration. */
export interface SessionInfo {
  /** `/<client ip>:<client port>/<server ip>:<server port>` (docs/hooks.md). */
  sessionId: string;
  appKey: string;
  /** ESTABLISHED / DISCONNECTED / FAILED. */
  status: string;
  /** SIP identity, when the connection has one (never the password). */
  sipLogin?: string;
  sipDomain?: string;
  /** REGISTERED / UNREGISTERED / FAILED, absent when the connection does not register. */
  registration?: string;
  /** ISO 8601. */
  connectedAt: string;
}

/** One call of a session (the `call` object of docs/client-protocol.md, without SDP) and its media. */
export interface CallInfo {
  callId: string;
  sessionId: string;
  incoming: boolean;
  status: string;
  caller: string;
  callee: string;
  /** An incoming call's INVITE Request-URI (the registered Contact, where the callee is the session's own user). */
  sipRequestUri?: string;
  /** ISO 8601. */
  startedAt: string;
  /** The SIP-side RTP port (RTCP on the next one), once the RTP leg is open. */
  rtpPort?: number;
  /** The browser-side ICE port, once callhook's SDP for the browser exists. */
  webrtcPort?: number;
  /** The codec relayed, once negotiated (PCMU / PCMA / G722; `OPUS/PCMU`, browser then SIP side, when transcoded). */
  codec?: string;
  /** RTP packets relayed so far from the browser to the SIP side, and from the SIP side to the browser. */
  packetsToSip?: number;
  packetsToBrowser?: number;
  /** The SRTP suite towards SIP (`sipSrtp`), when the call's SIP media is encrypted. */
  sipSrtpSuite?: string;
}

export interface SessionsProvider {
  sessions(): SessionInfo[];
  calls(): CallInfo[];
}

/** What the admin API may do to live state: end a session (its client is disconnected) or one call. */
export interface SessionControl {
  /** false when there is no such live session. */
  terminateSession(sessionId: string): boolean;
  /** false when there is no such live call. */
  terminateCall(callId: string): boolean;
}
