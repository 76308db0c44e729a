/**
 * Where an RTP socket sends, with symmetric RTP (RFC 4961) latching done by the kernel:
 *
 * - Until a packet arrives, datagrams go to the address the SDP gave (`aim`), each send naming it.
 * - The first packet heard latches: the socket is connected (connect(2)) to the packet's source, and sends go there.
 *   A connected socket sends without Node's per-datagram address handling (a lookup and a send deferred to the next
 *   tick) and without the kernel's route lookup: about a sixth of the CPU of a datagram echoed through `dgram` on
 *   this machine (docs/benchmarks.md "Connected RTP sockets").
 * - While latched, the kernel passes on only what the latched source sends: a third party cannot take the stream
 *   over by sending to our port (RTP "bleed"). When the latched source has gone quiet (`unlatch`, called by the leg's
 *   watch) the next packet from anywhere latches again: a phone whose NAT mapping moved is followed within a second
 *   or two of silence from the old one.
 * - A new SDP address (a re-INVITE that moves the far end) unlatches at once and aims at it.
 *
 * Node connects in the next tick, and a datagram naming an address on a socket connected meanwhile is dropped
 * (EISCONN), so what is sent while the socket connects waits for the connection and is sent then, in order.
 */
import type { Socket } from 'node:dgram';

export interface UdpPeer {
  address: string;
  port: number;
}

/** Datagrams held while the socket connects (one turn of the event loop: a few packets at most); more are dropped. */
const MAX_PENDING = 16;

export class LatchedDestination {
  private peer: UdpPeer | undefined;
  private state: 'open' | 'connecting' | 'latched' = 'open';
  /** Set when the peer changed while the socket was connecting: the connection is undone once made. */
  private stale = false;
  private pending: Buffer[] = [];
  private closed = false;

  constructor(private readonly socket: Socket) {}

  /** Where datagrams go now (undefined: nowhere). */
  get target(): UdpPeer | undefined {
    return this.peer;
  }

  /** Whether the socket is connected to the source it heard (or connecting to it). */
  get latched(): boolean {
    return this.state !== 'open';
  }

  /** The SDP's address (undefined: send nowhere, RFC 3264 §8.4): unlatches, and sends there until a packet latches. */
  aim(peer: UdpPeer | undefined): void {
    this.unlatch();
    this.peer = peer && { address: peer.address, port: peer.port };
  }

  /** A packet came from `from`: latches to it unless the socket is latched already. */
  heard(from: UdpPeer): void {
    if (this.state !== 'open' || this.closed) return;
    const p = this.peer;
    if (!p || p.port !== from.port || p.address !== from.address) this.peer = { address: from.address, port: from.port };
    this.connect(this.peer!);
  }

  /** Lets any source latch again (the latched one went quiet). */
  unlatch(): void {
    if (this.state === 'latched' && !this.closed) {
      this.socket.disconnect();
      this.state = 'open';
    } else if (this.state === 'connecting') this.stale = true;
  }

  /** Sends one datagram to `target` (the caller checked there is one). Throws what `dgram` throws synchronously. */
  send(buf: Buffer): void {
    if (this.state === 'latched') this.socket.send(buf);
    else if (this.state === 'connecting') {
      if (this.pending.length < MAX_PENDING) this.pending.push(buf);
    } else if (this.peer) this.socket.send(buf, this.peer.port, this.peer.address);
  }

  /** The socket is closing: nothing is connected or sent from here on. */
  close(): void {
    this.closed = true;
    this.pending = [];
  }

  private connect(peer: UdpPeer): void {
    this.state = 'connecting';
    this.stale = false;
    try {
      this.socket.connect(peer.port, peer.address, (err?: Error) => this.connected(err));
    } catch {
      // A source Node will not connect to (port 0): its packets are sent to by address, as before a latch.
      this.state = 'open';
    }
  }

  private connected(err: Error | undefined): void {
    if (this.closed) return;
    if (err) this.state = 'open';
    else if (this.stale) {
      this.socket.disconnect();
      this.state = 'open';
    } else this.state = 'latched';
    const held = this.pending;
    this.pending = [];
    for (const buf of held) if (this.peer) this.send(buf);
  }
}
