/**
 * What the SIP stack needs from a transport (RFC 3261 §18): a protocol, a local address, `send` and a way to hand
 * received messages up. UDP and TCP live beside this file; TLS and WebSocket transports plug in through the same
 * interface later.
 */
import type { SipMessage } from '../message/message.ts';

export type TransportProtocol = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

export interface Endpoint {
  /** IPv4 or IPv6 address, IPv6 without brackets. */
  address: string;
  port: number;
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
   * peer opened included) before opening a new one (RFC 3261 §18.2.2). Rejects with TransportError.
   */
  send(message: SipMessage, remote: Endpoint): Promise<void>;
  close(): Promise<void>;
}
