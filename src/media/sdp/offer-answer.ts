/**
 * Offer/answer building blocks shared by both legs (RFC 3264): which audio stream and which codec to use, and
 * where the peer wants its RTP.
 */
import { codecOf, isTelephoneEventAt, type CodecName, type PayloadFormat } from '../codecs.ts';
import { NoCommonCodecError } from '../errors.ts';
import { effectiveConnection, type MediaDescription, type SessionDescription } from './model.ts';
import { payloadFormats } from './rtpmap.ts';
import { rtcpAttribute } from './stream-attributes.ts';

export interface AudioChoice {
  /** Index of the audio media description used (the others are rejected). */
  index: number;
  /** The G.711 format used, with the payload type of the SDP it was read from. */
  codec: PayloadFormat;
  /** telephone-event at the codec's clock rate when that SDP has it (RFC 4733 §2.1, §7.1.1). */
  telephoneEvent?: PayloadFormat;
}

/**
 * The first audio stream that is not rejected (port ≠ 0), whose profile `acceptsProfile` allows, and that offers a
 * codec among `accepted`. The codec is the first accepted one in the SDP's own order (the offerer's preference,
 * RFC 3264 §5.1), or with `ourOrder` the first of `accepted` that the SDP has. Throws NoCommonCodecError when no
 * stream qualifies.
 */
export function chooseAudio(
  sdp: SessionDescription,
  accepted: readonly CodecName[],
  acceptsProfile: (protocol: string) => boolean,
  ourOrder = false,
): AudioChoice {
  const seen: string[] = [];
  for (const [index, media] of sdp.media.entries()) {
    if (media.type !== 'audio' || media.port === 0 || !acceptsProfile(media.protocol)) continue;
    const formats = payloadFormats(media);
    seen.push(...formats.map((f) => `${f.encoding}/${f.clockRate}`));
    const codec = ourOrder
      ? accepted.map((c) => formats.find((f) => codecOf(f) === c)).find((f) => f !== undefined)
      : formats.find((f) => {
        const c = codecOf(f);
        return c !== undefined && accepted.includes(c);
      });
    if (!codec) continue;
    const telephoneEvent = formats.find((f) => isTelephoneEventAt(f, codec.clockRate));
    return telephoneEvent ? { index, codec, telephoneEvent } : { index, codec };
  }
  const offered = seen.length > 0 ? seen.join(', ') : 'no usable audio stream';
  throw new NoCommonCodecError(`accepted ${accepted.join(', ') || 'nothing'}; the SDP has ${offered}`);
}

/** Plain RTP profiles (RFC 3551, RFC 4585): what a SIP phone offers without SRTP. */
export function isPlainRtpProfile(protocol: string): boolean {
  const p = protocol.toUpperCase();
  return p === 'RTP/AVP' || p === 'RTP/AVPF';
}

/** Where RTP and RTCP for a stream go (RFC 3264 §5.1, RFC 3605, RFC 5761). */
export interface RtpTarget {
  address: string;
  port: number;
  rtcpAddress: string;
  rtcpPort: number;
}

/**
 * The peer's RTP/RTCP destination from its c= and m= lines, or undefined when nothing may be sent: a rejected
 * stream (port 0), or the connection address 0.0.0.0, which RFC 3264 §8.4 says means "neither RTP nor RTCP should be
 * sent to the peer" (the RFC 2543 way of putting a call on hold).
 */
export function rtpTarget(sdp: SessionDescription, media: MediaDescription, muxed: boolean): RtpTarget | undefined {
  const c = effectiveConnection(sdp, media);
  if (!c || media.port === 0) return undefined;
  const address = c.address.split('/')[0]!;
  if (address === '0.0.0.0' || address === '::') return undefined;
  if (muxed) return { address, port: media.port, rtcpAddress: address, rtcpPort: media.port };
  const rtcp = rtcpAttribute(media);
  // RFC 3550 §11: without other information RTCP uses the next higher (odd) port.
  return { address, port: media.port, rtcpAddress: rtcp?.address ?? address, rtcpPort: rtcp?.port ?? media.port + 1 };
}
