/**
 * Where an RTP socket sends, with symmetric RTP (RFC 4961) latching done by the kernel:
 *
 * - Until a packet arrives, datagrams go to the address the SDP gave (`aim`), each send naming it.
 * - The first packet heard latches: the socket is connected (connect(2)) to the packet's source, and sends go there
 *   without an address, which spares the kernel's route lookup on each (docs/benchmarks.md "Connected RTP sockets").
 * - While latched, the kernel passes on only what the latched source sends: a third party cannot take the stream
 *   over by sending to our port (RTP "bleed"). When the latched source has gone quiet (`unlatch`, called by the leg's
 *   watch) the next packet from anywhere latches again: a phone whose NAT mapping moved is followed within a second
 *   or two of silence from the old one.
 * - A new SDP address (a re-INVITE that moves the far end) unlatches at once and aims at it.
 *
 * The socket is the media transport's (./native-transport.ts), whose connect is synchronous: a datagram sent right
 * after a latch goes to the latched source.
 */
import type { NativeMedia, TransportHandle } from './native-transport.ts';

export interface UdpPeer {
  address: string;
  port: number;
}

export class LatchedDestination {
  private peer: UdpPeer | undefined;
  private connected = false;
  private closed = false;

  constructor(
    private readonly media: NativeMedia,
    private readonly socket: TransportHandle,
  ) {}

  /** Where datagrams go now (undefined: nowhere). */
  get target(): UdpPeer | undefined {
    return this.peer;
  }

  /** Whether the socket is connected to the source it heard. */
  get latched(): boolean {
    return this.connected;
  }

  /** The SDP's address (undefined: send nowhere, RFC 3264 §8.4): unlatches, and sends there until a packet latches. */
  aim(peer: UdpPeer | undefined): void {
    this.unlatch();
    this.peer = peer && { address: peer.address, port: peer.port };
  }

  /** A packet came from `from`: latches to it unless the socket is latched already. */
  heard(from: UdpPeer): void {
    if (this.connected || this.closed) return;
    const p = this.peer;
    if (!p || p.port !== from.port || p.address !== from.address) this.peer = { address: from.address, port: from.port };
    try {
      this.media.connect(this.socket, from.address, from.port);
      this.connected = true;
    } catch {
      // A source the kernel will not connect to (port 0): its packets are sent to by address, as before a latch.
    }
  }

  /** Lets any source latch again (the latched one went quiet). */
  unlatch(): void {
    if (!this.connected || this.closed) return;
    this.media.disconnect(this.socket);
    this.connected = false;
  }

  /**
   * Sends one datagram to `target` (the caller checked there is one): the errno name when a connected send failed.
   * Throws MEDIA_NATIVE for an address that is not an IP literal.
   */
  send(buf: Buffer): string | undefined {
    if (this.closed) return undefined;
    if (this.connected) return this.media.send(this.socket, buf);
    if (this.peer) this.media.sendTo(this.socket, buf, this.peer.address, this.peer.port);
    return undefined;
  }

  /** The socket is closing: nothing is connected or sent from here on. */
  close(): void {
    this.closed = true;
  }
}
