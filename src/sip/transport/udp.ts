/**
 * SIP over UDP (RFC 3261 §18): one unconnected datagram socket per transport, IPv4 or IPv6 by the bound address.
 * Every datagram is one message (§18.3 framing is the datagram itself).
 *
 * Send failures the OS reports at once (EHOSTUNREACH, EMSGSIZE, …) reject with SipError SIP_TRANSPORT. An ICMP port
 * unreachable coming back later is not seen: Linux reports it only on connected UDP sockets, and one socket serves
 * every peer here. A peer that is gone therefore shows up as a transaction timeout (Timer B/F), as RFC 3261 §17
 * expects of UDP.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from '../../log.ts';
import { SipError } from '../errors.ts';
import type { SipMessage } from '../message/message.ts';
import { serializeMessage } from '../message/serialize.ts';
import type { Endpoint, Transport, TransportSink } from './transport.ts';

/** Largest UDP payload over IPv4 (65535 − 8 UDP − 20 IP header bytes). */
export const MAX_UDP_PAYLOAD = 65_507;
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export interface UdpTransportOptions {
  address: string;
  port: number;
  maxMessageBytes: number;
  sink: TransportSink;
  logger: Logger;
}

export class UdpTransport implements Transport {
  readonly protocol = 'UDP' as const;
  readonly reliable = false;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    readonly local: Endpoint,
    private readonly maxMessageBytes: number,
    private readonly log: Logger,
  ) {}

  /** Binds the socket; rejects with SipError SIP_TRANSPORT when the address cannot be bound (EADDRINUSE, EADDRNOTAVAIL). */
  static async bind(o: UdpTransportOptions): Promise<UdpTransport> {
    // One socket carries every registration and call of the server: bursts (a thousand REGISTERs answered at
    // once) overflow the default ~200 KiB receive buffer and turn into Timer E retransmissions. The kernel caps
    // the size at net.core.rmem_max / wmem_max.
    const socket = createSocket({
      type: isIPv6(o.address) ? 'udp6' : 'udp4',
      recvBufferSize: SOCKET_BUFFER_BYTES,
      sendBufferSize: SOCKET_BUFFER_BYTES,
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      socket.once('error', onError);
      socket.bind(o.port, o.address, () => {
        socket.off('error', onError);
        resolve();
      });
    }).catch((err: unknown) => {
      socket.close();
      throw new SipError('SIP_TRANSPORT', `UDP bind ${o.address}:${o.port} failed: ${String(err)}`, { cause: err });
    });
    const bound = socket.address();
    const log = o.logger.child({ transport: 'UDP', local: `${bound.address}:${bound.port}` });
    const t = new UdpTransport(socket, { address: bound.address, port: bound.port }, o.maxMessageBytes, log);
    // An 'error' on a bound unconnected socket is not fatal to it; without a listener it would crash the process.
    socket.on('error', (err) => log.warn({ err }, 'UDP socket error'));
    socket.on('message', (data, rinfo) => {
      // §18.3 has no length limit for UDP; ours protects the parser (config sipMaxMessageBytes).
      if (data.length > t.maxMessageBytes) {
        log.debug({ from: `${rinfo.address}:${rinfo.port}`, bytes: data.length }, 'oversize datagram dropped');
        return;
      }
      o.sink.received(data, { address: rinfo.address, port: rinfo.port }, t);
    });
    return t;
  }

  async send(message: SipMessage, remote: Endpoint, bytes?: Buffer): Promise<void> {
    if (this.closed) throw new SipError('SIP_TRANSPORT', 'UDP transport is closed');
    const data = bytes ?? serializeMessage(message);
    const limit = Math.min(this.maxMessageBytes, MAX_UDP_PAYLOAD);
    if (data.length > limit) {
      throw new SipError(
        'SIP_TRANSPORT',
        `message of ${data.length} bytes is larger than the UDP limit of ${limit} bytes (sipMaxMessageBytes)`,
      );
    }
    const fail = (err: unknown): SipError =>
      new SipError('SIP_TRANSPORT', `UDP send to ${remote.address}:${remote.port} failed: ${String(err)}`, { cause: err });
    await new Promise<void>((resolve, reject) => {
      try {
        this.socket.send(data, remote.port, remote.address, (err) => (err ? reject(fail(err)) : resolve()));
      } catch (err) {
        // Bad port or an address of the other family throw synchronously.
        reject(fail(err));
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
