/**
 * callhook's side of the SDP exchanges with a SIP peer over one dialog (RFC 3264): the initial offer or answer and
 * every re-INVITE after it (hold, unhold, a new media address). G.711, G.722 and telephone-event only; RTP/AVP, or
 * SRTP keyed by SDES (RFC 4568) as the `srtp` policy says (./crypto.ts).
 *
 * One `o=` line for the whole dialog: the session id stays, and the version goes up by one whenever our SDP
 * differs from the previous one (RFC 3264 §8). Hold follows RFC 3264 §8.4: we hold the peer by offering
 * `sendonly` (the peer answers `recvonly`), and a peer that holds us offers `sendonly` or `inactive`, which we answer
 * `recvonly` or `inactive`. The resulting NegotiatedAudio says what the relay may do.
 *
 * SRTP keys: every offer and every answer we write carries new keys (RFC 4568 §7.1.4: a re-INVITE re-keys), so a
 * key is never used again after a hold and resume; the peer's keys are read from each SDP it sends. The exception is
 * an answer in an ACK (`late`), which answers the SDP we sent last: its keys are the ones that SDP carried.
 */
import { randomInt } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { CODECS, TELEPHONE_EVENT, codecOf, isTelephoneEvent8000, type CodecName, type PayloadFormat } from '../codecs.ts';
import { NoCommonCodecError } from '../errors.ts';
import { answerDirection, mediaDirection, sends, setMediaDirection, type Direction } from './direction.ts';
import type { MediaDescription, SessionDescription } from './model.ts';
import type { SrtpKeyPair } from '../srtp/index.ts';
import { acceptsProfile, cryptoAttribute, newKeys, offerCrypto, peerCrypto, type CryptoLine, type SrtpPolicy } from './crypto.ts';
import { chooseAudio, rtpTarget, type RtpTarget } from './offer-answer.ts';
import { formatAttributes, payloadFormats } from './rtpmap.ts';
import { serializeSdp } from './serialize.ts';
import { ptime, rtcpMux } from './stream-attributes.ts';

/** The outcome of one offer/answer exchange on the SIP leg: what the relay sends, accepts, and where to. */
export interface NegotiatedAudio {
  /** The codec in use, with the payload type to send it with (the number in the peer's SDP). */
  codec: PayloadFormat;
  /** telephone-event/8000 with the payload type to send it with, when both sides have it. */
  telephoneEvent?: PayloadFormat;
  /** Payload types the peer sends to us: the numbers in our SDP of this exchange (RFC 3264 §5.1). */
  receive: { codec: number; telephoneEvent?: number };
  /** Where to send; undefined when the peer wants nothing sent (port 0, or c=0.0.0.0 — RFC 3264 §8.4). */
  remote?: RtpTarget;
  rtcpMux: boolean;
  /** Our direction on this leg after the exchange (sendrecv unless someone holds). */
  direction: Direction;
  /** The packet time the peer asked for, when it did (RFC 8866 §6.4). */
  ptime?: number;
  /** The SRTP keys of both directions, when the exchange agreed on SDES (RFC 4568); plain RTP without. */
  srtp?: SrtpKeyPair;
}

export interface SipSdpSessionOptions {
  /** The address written in o= and c= (config `publicIp`). */
  address: string;
  /** Our RTP port (the RTP leg's, from the rtpPortMin..Max allocator). */
  port: number;
  /** Codecs we offer or accept, in preference order. Default PCMU, PCMA. */
  codecs?: readonly CodecName[];
  /** Payload type of telephone-event/8000 in our offers; `false` offers no RFC 4733 events. Default 101. */
  telephoneEvent?: number | false;
  /** a=ptime we write (ms). Default 20. */
  ptime?: number;
  /** SRTP towards the peer (./crypto.ts): `off` (default), `optional` or `required`. */
  srtp?: SrtpPolicy;
}

const SESSION_NAME = 'callhook';

export class SipSdpSession {
  private readonly sessionId = String(randomInt(1, 2 ** 47));
  private version = 0n;
  private lastBody: string | undefined;
  private codecs: readonly CodecName[];
  /** The offer we sent last and wait an answer for. */
  private offered: { formats: PayloadFormat[]; direction: Direction; crypto: CryptoLine[] } | undefined;
  private readonly srtp: SrtpPolicy;
  /** The profile of our offers: the policy's at first, then the one the peer's SDP settled on. */
  private profile: string;
  /** The a=crypto lines of the SDP we wrote last (an ACK's answer answers it). */
  private lastCrypto: CryptoLine[] = [];

  constructor(private readonly o: SipSdpSessionOptions) {
    this.codecs = o.codecs ?? ['PCMU', 'PCMA'];
    if (this.codecs.length === 0) throw new RangeError('SipSdpSession needs at least one codec');
    this.srtp = o.srtp ?? 'off';
    // RFC 3711 §7: RTP/SAVP says SRTP or nothing; best-effort SRTP offers RTP/AVP that a plain peer also takes.
    this.profile = this.srtp === 'required' ? 'RTP/SAVP' : 'RTP/AVP';
  }

  /**
   * Our offer (initial INVITE, or a re-INVITE: `sendonly` to hold, `sendrecv` to resume). Once an exchange has
   * chosen a codec, later offers carry only that codec, so the relay keeps passing it through.
   */
  createOffer(direction: Direction = 'sendrecv'): SessionDescription {
    const formats: PayloadFormat[] = this.codecs.map((c) => ({ ...CODECS[c] }));
    if (this.o.telephoneEvent !== false) formats.push({ ...TELEPHONE_EVENT, payloadType: this.o.telephoneEvent ?? 101 });
    const crypto = this.srtp === 'off' ? [] : offerCrypto();
    this.offered = { formats, direction, crypto };
    return this.stamp([this.audioMedia(formats, direction, this.profile, crypto)]);
  }

  /** Reads the peer's answer to our last offer (in a 18x or 2xx, or an ACK). Throws NoCommonCodecError, NoCommonCryptoError. */
  readAnswer(answer: SessionDescription): NegotiatedAudio {
    if (!this.offered) throw new RangeError('readAnswer without an offer');
    const media = answer.media[0];
    if (answer.media.length !== 1 || !media || media.type !== 'audio' || media.port === 0) {
      throw new NoCommonCodecError('the answer rejects the audio stream');
    }
    const formats = payloadFormats(media);
    const codec = formats.find((f) => {
      const c = codecOf(f);
      return c !== undefined && this.codecs.includes(c);
    });
    if (!codec) {
      throw new NoCommonCodecError(`the answer has ${formats.map((f) => f.encoding).join(', ') || 'no format'}`);
    }
    const offered = this.offered.formats;
    const ourCodec = offered.find((f) => codecOf(f) === codecOf(codec))!;
    const ourEvent = offered.find(isTelephoneEvent8000);
    const theirEvent = ourEvent && formats.find(isTelephoneEvent8000);
    // We never offer rtcp-mux to a SIP peer, so it is not in use whatever the answer says (RFC 5761 §5.1.1); RTCP
    // arriving on the RTP port is still recognised by the RTP leg.
    const remote = rtpTarget(answer, media, false);
    // Our direction is what we offered, cut down to what the answer allows (RFC 3264 §6.1 seen from the offerer).
    const direction = answerDirection(mediaDirection(answer, media), this.offered.direction);
    const n: NegotiatedAudio = {
      codec, receive: { codec: ourCodec.payloadType }, rtcpMux: false,
      direction: withoutSendWhenUnreachable(direction, remote),
    };
    if (theirEvent) {
      n.telephoneEvent = theirEvent;
      n.receive.telephoneEvent = ourEvent.payloadType;
    }
    const offeredCrypto = this.offered.crypto;
    const theirs = peerCrypto(this.srtp, media, offeredCrypto);
    if (theirs) n.srtp = { send: offeredCrypto.find((c) => c.tag === theirs.tag)!.keys, receive: theirs.keys };
    return this.settle(n, remote, media);
  }

  /**
   * Our answer to the peer's offer (initial INVITE or re-INVITE). `direction` is what we want (`sendonly` while we
   * hold the peer); the answer's direction is that, cut down to what the offer allows. Every offered stream is
   * answered, the ones not used with port 0 (RFC 3264 §6). `late`: the "offer" is an answer in an ACK to the SDP
   * we sent last, so our keys are that SDP's. Throws NoCommonCodecError, NoCommonCryptoError.
   */
  createAnswer(
    offer: SessionDescription,
    direction: Direction = 'sendrecv',
    late = false,
  ): { sdp: SessionDescription; media: NegotiatedAudio } {
    const choice = chooseAudio(offer, this.codecs, acceptsProfile(this.srtp));
    const offered = offer.media[choice.index]!;
    const theirs = peerCrypto(this.srtp, offered, late ? this.lastCrypto : undefined);
    const ours = theirs && (late
      ? this.lastCrypto.find((c) => c.tag === theirs.tag)!
      : { tag: theirs.tag, keys: newKeys(theirs.keys.suite) });
    const muxed = rtcpMux(offered);
    const remote = rtpTarget(offer, offered, muxed);
    const answered = withoutSendWhenUnreachable(answerDirection(mediaDirection(offer, offered), direction), remote);
    // RFC 3264 §6.1: the answer uses the offer's payload type numbers, so both sides use the same ones.
    const event = this.o.telephoneEvent === false ? undefined : choice.telephoneEvent;
    const formats = event ? [choice.codec, event] : [choice.codec];
    const media = offer.media.map((m, i) =>
      i === choice.index ? this.audioMedia(formats, answered, m.protocol, ours ? [ours] : []) : rejected(m));
    if (muxed) media[choice.index]!.attributes.push({ name: 'rtcp-mux' });
    const n: NegotiatedAudio = {
      codec: choice.codec, receive: { codec: choice.codec.payloadType }, rtcpMux: muxed, direction: answered,
    };
    if (event) {
      n.telephoneEvent = event;
      n.receive.telephoneEvent = event.payloadType;
    }
    if (theirs && ours) n.srtp = { send: ours.keys, receive: theirs.keys };
    return { sdp: this.stamp(media), media: this.settle(n, remote, offered) };
  }

  /** Completes an outcome with the destination and packet time, and keeps only its codec for later offers. */
  private settle(n: NegotiatedAudio, remote: RtpTarget | undefined, peerMedia: MediaDescription): NegotiatedAudio {
    if (remote) n.remote = remote;
    const pt = ptime(peerMedia);
    if (pt !== undefined) n.ptime = pt;
    this.codecs = [codecOf(n.codec)!];
    if (this.srtp !== 'off') this.profile = peerMedia.protocol;
    return n;
  }

  private audioMedia(formats: PayloadFormat[], direction: Direction, protocol: string, crypto: CryptoLine[]): MediaDescription {
    const media: MediaDescription = {
      type: 'audio', port: this.o.port, protocol, formats: formats.map((f) => String(f.payloadType)),
      connections: [], bandwidths: [],
      attributes: [
        ...formats.flatMap(formatAttributes), { name: 'ptime', value: String(this.o.ptime ?? 20) }, ...crypto.map(cryptoAttribute),
      ],
    };
    this.lastCrypto = crypto;
    setMediaDirection(media, direction);
    return media;
  }

  /** Wraps media descriptions in our session lines, raising the o= version when the content changed. */
  private stamp(media: MediaDescription[]): SessionDescription {
    const addrType = isIPv6(this.o.address) ? 'IP6' : 'IP4';
    const sdp: SessionDescription = {
      version: 0,
      origin: {
        username: '-', sessionId: this.sessionId, sessionVersion: '0', netType: 'IN', addrType, address: this.o.address,
      },
      sessionName: SESSION_NAME, emails: [], phones: [], connection: { netType: 'IN', addrType, address: this.o.address },
      bandwidths: [], times: [{ start: '0', stop: '0', repeats: [] }], attributes: [], media,
    };
    const body = serializeSdp(sdp);
    if (body !== this.lastBody) {
      this.version++;
      this.lastBody = body;
    }
    sdp.origin.sessionVersion = String(this.version);
    return sdp;
  }
}

/** A rejected stream in an answer: same type, protocol and formats, port 0 (RFC 3264 §6). */
function rejected(offered: MediaDescription): MediaDescription {
  return {
    type: offered.type, port: 0, protocol: offered.protocol, formats: [...offered.formats], connections: [],
    bandwidths: [], attributes: [],
  };
}

/** RFC 3264 §8.4: with c=0.0.0.0 (or port 0) nothing is sent, whatever the direction attribute says. */
function withoutSendWhenUnreachable(d: Direction, remote: RtpTarget | undefined): Direction {
  if (remote || !sends(d)) return d;
  return d === 'sendrecv' ? 'recvonly' : 'inactive';
}
