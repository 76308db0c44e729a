/**
 * The SDP model (RFC 8866, which obsoletes RFC 4566): one object per description, fields in the order of the
 * grammar (§9), attributes kept as an ordered list of raw name/value pairs so that an SDP round-trips unchanged.
 * Typed views of the attributes that matter here live next to this file (rtpmap.ts, direction.ts, ice.ts,
 * dtls.ts, candidate.ts). The model is plain data: parse.ts builds it, serialize.ts writes it.
 */

/** `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>` (§5.2). */
export interface Origin {
  username: string;
  /** Kept as text: browsers use 64-bit numbers that do not fit a JS number. */
  sessionId: string;
  sessionVersion: string;
  netType: string;
  addrType: string;
  address: string;
}

/** `c=<nettype> <addrtype> <connection-address>` (§5.7); a multicast address keeps its `/ttl` suffix. */
export interface Connection {
  netType: string;
  addrType: string;
  address: string;
}

/** `b=<bwtype>:<bandwidth>` (§5.8). */
export interface Bandwidth {
  type: string;
  value: number;
}

/** `t=<start-time> <stop-time>` with its `r=` repeat lines and, since RFC 8866, its `z=` line (§5.9–5.11). */
export interface TimeDescription {
  start: string;
  stop: string;
  repeats: string[];
  zone?: string;
}

/** `a=<name>` (property) or `a=<name>:<value>` (value attribute) (§5.13). */
export interface Attribute {
  name: string;
  value?: string;
}

/** `m=<media> <port>[/<number of ports>] <proto> <fmt> ...` and the lines after it (§5.14). */
export interface MediaDescription {
  type: string;
  /** 0 rejects or disables the stream (RFC 3264 §6). */
  port: number;
  portCount?: number;
  protocol: string;
  /** Media formats: RTP payload type numbers as text for the RTP profiles. */
  formats: string[];
  information?: string;
  connections: Connection[];
  bandwidths: Bandwidth[];
  key?: string;
  attributes: Attribute[];
}

export interface SessionDescription {
  /** `v=`: always 0 (§5.1). */
  version: number;
  origin: Origin;
  sessionName: string;
  information?: string;
  uri?: string;
  emails: string[];
  phones: string[];
  connection?: Connection;
  bandwidths: Bandwidth[];
  times: TimeDescription[];
  key?: string;
  attributes: Attribute[];
  media: MediaDescription[];
}

/** The connection a media stream uses: its own c= line, else the session's (§5.7). */
export function effectiveConnection(sdp: SessionDescription, media: MediaDescription): Connection | undefined {
  return media.connections[0] ?? sdp.connection;
}

/** A deep copy, so helpers that return a changed description never alter their input. */
export function cloneSdp(sdp: SessionDescription): SessionDescription {
  return structuredClone(sdp);
}
