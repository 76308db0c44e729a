/**
 * What the SIP stack needs from a transport (RFC 3261 §18): a protocol, a local address, `send` and a way to hand
 * received messages up. UDP, TCP and TLS live beside this file; a WebSocket transport would plug in through the
 * same interface.
 */
import type { SipParseError } from '../errors.ts';
import type { SipMessage } from '../message/message.ts';

export type TransportProtocol = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

export interface Endpoint {
  /** IPv4 or IPv6 address, IPv6 without brackets. */
  address: string;
  port: number;
  /**
   * The host name (or address) the endpoint was resolved from, for a next hop: TLS sends it as SNI and checks the
   * peer's certificate against it (RFC 5922 §7.2). Not part of the endpoint's identity (`endpointKey`).
   */
  host?: string;
}

export interface Received {
  message: SipMessage;
  transport: Transport;
  /** Where the message came from (source address and port of the datagram or connection). */
  remote: Endpoint;
  /** Raw bytes as received (for `sipMessageRaw` in events and for logs). */
  raw: Buffer;
}

export interface Transport {
  readonly protocol: TransportProtocol;
  /** Reliable transports get no retransmissions (RFC 3261 §17.1.1.2, §17.1.2.2). */
  readonly reliable: boolean;
  /** The bound local address and port (port resolved when 0 was asked). */
  readonly local: Endpoint;
  /**
   * Sends one message to `remote`. Connection-oriented transports reuse an open connection to `remote` (one the
   * peer opened included) before opening a new one (RFC 3261 §18.2.2). For a response whose connection has gone
   * they connect to the top Via's `received` (or host) and sent-by port instead, as §18.2.2 says: `remote` was the
   * peer's ephemeral source port then. Rejects with SipError SIP_TRANSPORT. `bytes`, when given, is the message
   * already serialised (serializeMessage): the layer's tap serialises it once for itself and the socket.
   */
  send(message: SipMessage, remote: Endpoint, bytes?: Buffer): Promise<void>;
  close(): Promise<void>;
}

/**
 * How a transport hands received bytes up (to the TransportLayer). Transports only frame: a datagram, or one
 * message cut out of a stream by Content-Length. Parsing and the RFC 3261 §18 rules happen above, once for all
 * transports, so TLS and WebSocket transports only need to implement `Transport` and call this.
 */
export interface TransportSink {
  /** One whole message's bytes. Never throws: whatever the bytes are, the sink deals with them. */
  received(raw: Buffer, remote: Endpoint, transport: Transport): void;
  /**
   * A stream could not be framed (no Content-Length, oversize headers, …). The transport closes that connection
   * once the returned promise settles, which leaves the sink time to answer a 400 over it. Never rejects.
   */
  framingError(error: SipParseError, remote: Endpoint, transport: Transport): Promise<void>;
}

/**
 * The form of an address used as a map key and for comparisons: IPv4-mapped IPv6 (`::ffff:1.2.3.4`, as dual-stack
 * sockets report IPv4 peers) becomes plain IPv4, IPv6 loses brackets and case.
 */
export function normalizeAddress(address: string): string {
  let a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  a = a.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  return mapped ? mapped[1]! : a;
}

export function endpointKey(e: Endpoint): string {
  return `${normalizeAddress(e.address)}|${e.port}`;
}
