/**
 * The plain RTP endpoint towards a SIP peer: a pair of UDP sockets from the rtpPortMin..Max range (RTP on the even
 * port, RTCP on the odd one above, RFC 3550 §11), bound to the configured local address.
 *
 * - Destination: the c=/m= of the peer's SDP at first; then symmetric RTP (RFC 4961): once RTP arrives, it is sent
 *   back to where it came from, which gets through NATs that rewrite the peer's address. The RTP socket is then
 *   connected to that source (./latched-destination.ts): cheaper sends, and no other source is heard until it has
 *   been quiet for RELATCH_AFTER_MS or a re-INVITE moves the far end.
 * - Direction (RFC 3264 §6.1): nothing is sent unless our direction on the leg includes sending; it is `inactive`
 *   until the first offer/answer outcome is applied, so a call that is still ringing is not watched either.
 * - RTCP arriving on either port is recognised (RFC 5761 §4 demultiplexing) and counted, never relayed: each leg's
 *   SSRCs and timestamps are its own.
 * - Inactivity: no RTP for `inactivityMs` while the stream is sendrecv fires `onInactive` once (WCS ends the call
 *   with `Failed by RTP activity`); on hold (any other direction) the watch is suspended, and it restarts afresh.
 * - SRTP (RFC 3711), once an exchange agreed on SDES keys (`setSrtp`): packets are protected on the way out and
 *   unprotected on the way in; what fails authentication or is a replay is dropped and counted (`srtpDropped`).
 */
import type { Socket } from 'node:dgram';
import { systemClock, type Clock, type TimerHandle } from '../clock.ts';
import type { Logger } from '../log.ts';
import { MediaError } from './errors.ts';
import { Listeners } from './events.ts';
import { LatchedDestination } from './latched-destination.ts';
import { closeTransport, nativeMedia, type NativeMedia, type TransportHandle } from './native-transport.ts';
import type { PortPairAllocator } from './ports.ts';
import { isRtcp, parseRtp, RtpWriter, type RtpPacket } from './rtp/packet.ts';
import { ReceptionStats } from './rtp/reception.ts';
import { parseRtcp } from './rtp/rtcp.ts';
import { sends, type Direction } from './sdp/direction.ts';
import type { RtpTarget } from './sdp/offer-answer.ts';
import { SrtpSession, type SrtpKeyPair } from './srtp/index.ts';
import { bindUdp, closeSocket } from './udp.ts';

export interface RtpLegOptions {
  /** Address the sockets bind (config `localIp`). */
  localAddress: string;
  ports: PortPairAllocator;
  /** No RTP for this long (ms) while sendrecv fires `onInactive`; 0 disables. Default 60 000 (WCS). */
  inactivityMs?: number;
  logger?: Logger;
  /** The time and timers of the inactivity watch (default: the system clock; tests pass a fake one). */
  clock?: Clock;
}

export interface RtpLegStats {
  packetsIn: number;
  bytesIn: number;
  packetsOut: number;
  bytesOut: number;
  /** RTP packets lost on the way in, from the gaps in sequence numbers (RFC 3550 A.3). */
  packetsLost: number;
  rtcpIn: number;
  /** SRTP and SRTCP packets dropped: not authentic, replayed, or plain while SRTP is on. */
  srtpDropped: number;
  /** Loss the peer reported for what we send, 0–1, from its latest RTCP report block. */
  remoteFractionLost?: number;
  /** Where RTP is sent now, `address:port`. */
  remote?: string;
}

const DEFAULT_INACTIVITY_MS = 60_000;
const MAX_CHECK_INTERVAL_MS = 500;
/**
 * How long the latched source must be quiet before another may latch (see ./latched-destination.ts). Long enough that
 * a lost packet or two never lets a stranger in, short enough that a moved NAT mapping costs about a second of audio.
 */
export const RELATCH_AFTER_MS = 1_000;
/**
 * Send errors that are no news: a latched (connected) socket hears the ICMP "port unreachable" of a peer that
 * stopped listening (its silence is the inactivity watch's business), and a socket whose send buffer is full for a
 * moment drops the packet, as a router would. Neither is a log line per packet.
 */
const QUIET_SEND_ERRORS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EAGAIN', 'ENOBUFS']);

export class RtpLeg {
  /** Where RTP goes: the SDP's address until packets come from elsewhere (symmetric RTP). */
  private readonly destination: LatchedDestination;
  /** The address of the latest SDP, to tell a new one from a repeated one. */
  private sdpTarget: RtpTarget | undefined;
  /** Nothing is sent, and inactivity not watched, until an offer/answer outcome is applied (setDirection). */
  private direction: Direction = 'inactive';
  private readonly clock: Clock;
  private lastRtpAt: number;
  private inactiveFired = false;
  private closed = false;
  private readonly reception = new ReceptionStats();
  private readonly counters = { packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0, rtcpIn: 0, srtpDropped: 0 };
  /** The SRTP of the latest exchange; plain RTP without. */
  private srtp: SrtpSession | undefined;
  private remoteFractionLost: number | undefined;
  private timer: TimerHandle | undefined;
  private readonly out = new RtpWriter();
  private readonly rtpListeners = new Listeners<[RtpPacket]>();
  private readonly inactiveListeners = new Listeners<[]>();

  private constructor(
    private readonly media: NativeMedia,
    /** The media transport's plain socket (several datagrams per wake-up, sends without Node's per-datagram work). */
    private readonly rtp: TransportHandle,
    private readonly rtcp: Socket,
    readonly localAddress: string,
    /** The RTP port (RTCP is on the next one). */
    readonly localPort: number,
    private readonly o: RtpLegOptions,
  ) {
    this.clock = o.clock ?? systemClock;
    this.lastRtpAt = this.clock.now();
    this.destination = new LatchedDestination(media, rtp);
    const inactivityMs = o.inactivityMs ?? DEFAULT_INACTIVITY_MS;
    this.watchActivity(inactivityMs, inactivityMs > 0 ? Math.min(inactivityMs / 4, MAX_CHECK_INTERVAL_MS) : MAX_CHECK_INTERVAL_MS);
    rtcp.on('message', (buf) => this.receivedRtcp(buf));
    rtcp.on('error', (err) => o.logger?.warn({ err, port: localPort + 1 }, 'RTCP socket error'));
  }

  /** Binds a port pair from the allocator (skipping pairs another process holds). Throws MediaError MEDIA_PORTS_EXHAUSTED. */
  static async open(o: RtpLegOptions): Promise<RtpLeg> {
    const media = nativeMedia();
    // The socket hands datagrams to the leg made once both ports are bound.
    let leg: RtpLeg | undefined;
    const { port, value } = await o.ports.bind(async (base) => {
      const rtp = media.openUdp(
        o.localAddress, base,
        (chunk, offset, length, address, from) => leg?.received(chunk.subarray(offset, offset + length), address, from),
      );
      try {
        return { rtp, rtcp: await bindUdp(o.localAddress, base + 1) };
      } catch (err) {
        await closeTransport(media, rtp);
        throw err;
      }
    });
    leg = new RtpLeg(media, value.rtp, value.rtcp, o.localAddress, port, o);
    return leg;
  }

  /** Every RTP packet received (RTCP is not passed on). */
  onRtp(fn: (packet: RtpPacket) => void): () => void {
    return this.rtpListeners.on(fn);
  }

  /** No RTP for `inactivityMs` while sendrecv; fires once until RTP flows again. */
  onInactive(fn: () => void): () => void {
    return this.inactiveListeners.on(fn);
  }

  /**
   * Where the peer's SDP says to send (undefined: nowhere, RFC 3264 §8.4). An SDP with a new address (re-INVITE)
   * replaces the latched one, and symmetric RTP latches again when packets come from elsewhere; an SDP that repeats
   * the address (a session refresh, a hold) keeps the latched address.
   */
  setRemote(target: RtpTarget | undefined): void {
    const previous = this.sdpTarget;
    const same = target && previous && target.address === previous.address && target.port === previous.port;
    this.sdpTarget = target;
    if (same && this.destination.target) return;
    this.destination.aim(target);
  }

  /** Our direction on this leg after the latest offer/answer: gates sending and the inactivity watch. */
  setDirection(direction: Direction): void {
    if (direction === 'sendrecv' && this.direction !== 'sendrecv') this.restartActivityWatch();
    this.direction = direction;
  }

  /** The SRTP keys of the latest offer/answer exchange (undefined: plain RTP). A key that did not change keeps its state. */
  setSrtp(keys: SrtpKeyPair | undefined): void {
    if (keys === undefined) this.srtp = undefined;
    else if (this.srtp === undefined) this.srtp = new SrtpSession(keys);
    else this.srtp.update(keys);
  }

  /** Sends one packet to the peer; false when our direction or the lack of a destination forbids it, or the send failed. */
  send(packet: RtpPacket): boolean {
    if (this.closed) throw new MediaError('MEDIA_STATE', 'RTP leg is closed');
    const to = this.destination.target;
    if (!to || !sends(this.direction)) return false;
    const plain = this.out.write(packet);
    const buf = this.srtp ? this.srtp.protectRtp(plain) : plain;
    let failed: string | undefined;
    try {
      failed = this.destination.send(buf);
    } catch (err) {
      this.o.logger?.warn({ err, to }, 'RTP send failed');
      return false;
    }
    if (failed !== undefined) {
      if (!QUIET_SEND_ERRORS.has(failed)) this.o.logger?.warn({ code: failed, to }, 'RTP send failed');
      return false;
    }
    this.counters.packetsOut++;
    this.counters.bytesOut += buf.length;
    return true;
  }

  stats(): RtpLegStats {
    const s: RtpLegStats = { ...this.counters, packetsLost: this.reception.lost };
    if (this.remoteFractionLost !== undefined) s.remoteFractionLost = this.remoteFractionLost;
    const to = this.destination.target;
    if (to) s.remote = `${to.address}:${to.port}`;
    return s;
  }

  /** Closes both sockets and releases the port pair. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.destination.close();
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.rtpListeners.clear();
    this.inactiveListeners.clear();
    await Promise.all([closeTransport(this.media, this.rtp), closeSocket(this.rtcp)]);
    this.o.ports.release(this.localPort);
  }

  /** A datagram from the peer; its source is given until the socket latched (see NativeMedia.openUdp). */
  private received(datagram: Buffer, address: string | undefined, port: number | undefined): void {
    if (this.closed) return;
    if (isRtcp(datagram)) {
      this.receivedRtcp(datagram);
      return;
    }
    const buf = this.unprotect(datagram, false);
    if (buf === undefined) return;
    let packet: RtpPacket;
    try {
      packet = parseRtp(buf);
    } catch {
      return;
    }
    this.counters.packetsIn++;
    this.counters.bytesIn += datagram.length;
    this.reception.update(packet.header.ssrc, packet.header.sequenceNumber);
    this.lastRtpAt = this.clock.now();
    this.inactiveFired = false;
    // RFC 4961 symmetric RTP: answer to where the packets come from.
    if (address !== undefined && port !== undefined) this.destination.heard({ address, port });
    this.rtpListeners.emit(this.listenerFailed, packet);
  }

  private receivedRtcp(datagram: Buffer): void {
    const buf = this.unprotect(datagram, true);
    if (buf === undefined) return;
    try {
      for (const p of parseRtcp(buf)) {
        if (p.type !== 'other' && p.reports[0]) this.remoteFractionLost = p.reports[0].fractionLost / 256;
      }
      this.counters.rtcpIn++;
    } catch {
      // Not RTCP after all: dropped.
    }
  }

  /** The plain packet of an SRTP/SRTCP datagram (as is without SRTP); undefined, and counted, when it is dropped. */
  private unprotect(datagram: Buffer, rtcp: boolean): Buffer | undefined {
    const srtp = this.srtp;
    if (srtp === undefined) return datagram;
    const plain = rtcp ? srtp.unprotectRtcp(datagram) : srtp.unprotectRtp(datagram);
    if (plain === undefined) this.counters.srtpDropped++;
    return plain;
  }

  /**
   * Checks every `intervalMs` whether the latched source went quiet, and whether RTP is overdue (a chain of one-shot
   * timers: the clock has no intervals).
   */
  private watchActivity(inactivityMs: number, intervalMs: number): void {
    this.timer = this.clock.setTimeout(() => {
      if (this.destination.latched && this.clock.now() - this.lastRtpAt >= RELATCH_AFTER_MS) this.destination.unlatch();
      if (inactivityMs > 0) this.checkActivity(inactivityMs);
      if (!this.closed) this.watchActivity(inactivityMs, intervalMs);
    }, intervalMs);
  }

  private checkActivity(inactivityMs: number): void {
    if (this.direction !== 'sendrecv' || this.inactiveFired) return;
    if (this.clock.now() - this.lastRtpAt < inactivityMs) return;
    this.inactiveFired = true;
    this.inactiveListeners.emit(this.listenerFailed);
  }

  private restartActivityWatch(): void {
    this.lastRtpAt = this.clock.now();
    this.inactiveFired = false;
  }

  private readonly listenerFailed = (err: unknown): void => {
    this.o.logger?.error({ err }, 'RTP leg listener failed');
  };
}
