/**
 * The browser side of the SDP exchanges (JSEP, RFC 8829, over the WCS protocol): what the WebRTC engine is shown
 * of a browser's offer, and how its answer is completed before it goes back to the browser.
 *
 * The engine only ever sees one audio stream carrying the one codec the SIP side can take plus
 * telephone-event/8000. Chrome also offers telephone-event/48000 (for Opus), and werift matches formats by name
 * only, so it would otherwise answer both; video and data streams would make it fail outright. Everything the
 * engine does not see is answered here as rejected (port 0), in the offer's order, as RFC 3264 §6 requires.
 */
import type { CodecName } from '../codecs.ts';
import { attributeValue, hasAttribute, removeAttributes, setAttribute } from './attributes.ts';
import { MediaError } from '../errors.ts';
import { fingerprints } from './dtls.ts';
import { iceParameters, mediaCandidates } from './ice.ts';
import { cloneSdp, type MediaDescription, type SessionDescription } from './model.ts';
import { chooseAudio, type AudioChoice } from './offer-answer.ts';
import { payloadFormats, restrictPayloadTypes } from './rtpmap.ts';
import { mid } from './stream-attributes.ts';

export interface PreparedOffer {
  /** The offer as the engine should see it: the chosen audio stream alone, with only the formats kept. */
  sdp: SessionDescription;
  /** The chosen stream (index into the browser's offer) and its formats, with the browser's payload types. */
  choice: AudioChoice;
}

/**
 * Cuts a browser's offer down to the audio stream and formats the relay can pass through: one codec — the
 * first of `accepted` that the browser offers — and telephone-event/8000. One codec only, so the browser sends the
 * codec the SIP side takes. Throws NoCommonCodecError when the browser offers none of `accepted`, MediaError MEDIA_SDP_PARSE when
 * that stream lacks ICE credentials or a DTLS fingerprint.
 */
export function prepareBrowserOffer(offer: SessionDescription, accepted: readonly CodecName[]): PreparedOffer {
  const choice = chooseAudio(offer, accepted, () => true, true);
  requireIceAndDtls(offer, offer.media[choice.index]!);
  const sdp = cloneSdp(offer);
  const media = sdp.media[choice.index]!;
  const keep = [choice.codec.payloadType];
  if (choice.telephoneEvent) keep.push(choice.telephoneEvent.payloadType);
  restrictPayloadTypes(media, keep);
  sdp.media = [media];
  keepOnlyInBundle(sdp, mid(media));
  return { sdp, choice };
}

/**
 * The engine's answer to a prepared offer, completed for the browser: one media description per offered one in
 * the same order, the unused ones rejected with port 0 and their mid kept (JSEP wants a mid on every media
 * description, to match them up), and the default candidate written in c= and m= (RFC 8839's default destination;
 * an ICE-lite agent's only candidates are host candidates).
 */
export function completeBrowserAnswer(
  engineAnswer: SessionDescription,
  offer: SessionDescription,
  index: number,
): SessionDescription {
  const answer = cloneSdp(engineAnswer);
  const audio = answer.media[0];
  if (!audio || answer.media.length !== 1) throw new RangeError('the engine answered other than one stream');
  useDefaultCandidate(audio);
  answer.media = offer.media.map((m, i) => (i === index ? audio : rejectedLike(m, audio)));
  liftIceLite(answer);
  return answer;
}

/**
 * Tells the browser the widest audio worth sending (RFC 7587 §6.1): `maxplaybackrate` and `sprop-maxcapturerate`
 * set to `rate` on the Opus format of our SDP's stream, when it has one. A transcoded call codes Opus at its SIP
 * codec's rate (8 kHz for G.711, 16 kHz for G.722), so a wider band from the browser would be coded, sent and decoded
 * only to be cut away. Browsers' encoders honour it: Chrome sends narrowband at 12 kbit/s for 8000 and wideband at
 * 20 kbit/s for 16000 instead of fullband at 32 kbit/s, and a narrowband packet costs the transcoder's decoder about a
 * third of a fullband one (docs/benchmarks.md "Transcoded calls").
 */
export function limitOpusRate(media: MediaDescription, rate: number): void {
  const opus = payloadFormats(media).find((f) => f.encoding.toLowerCase() === 'opus');
  if (!opus) return;
  const params = (opus.fmtp ?? '').split(';').filter((p) => p.trim() !== '' && !/^\s*(maxplaybackrate|sprop-maxcapturerate)=/i.test(p));
  const value = `${opus.payloadType} ${[...params, `maxplaybackrate=${rate}`, `sprop-maxcapturerate=${rate}`].join(';')}`;
  const fmtp = media.attributes.find((a) => a.name === 'fmtp' && a.value?.startsWith(`${opus.payloadType} `));
  if (fmtp) fmtp.value = value;
  else media.attributes.push({ name: 'fmtp', value });
}

/**
 * Moves `a=ice-lite` to session level, the only place RFC 8839 §5.3 allows it (werift writes it per media
 * description, where a browser may not look for it — and a browser that takes us for a full agent will not take
 * the controlling role when it answers our offer).
 */
export function liftIceLite(sdp: SessionDescription): void {
  let lite = false;
  for (const m of sdp.media) {
    if (hasAttribute(m.attributes, 'ice-lite')) lite = true;
    removeAttributes(m.attributes, 'ice-lite');
  }
  if (lite && !hasAttribute(sdp.attributes, 'ice-lite')) sdp.attributes.push({ name: 'ice-lite' });
}

/**
 * Sets c=, the m= port and a=rtcp of a stream to its first UDP host candidate for component 1, which is what
 * peers without ICE would use (RFC 8839's default destination; with rtcp-mux, a=rtcp names the RTP port, RFC 5761).
 */
export function useDefaultCandidate(media: MediaDescription): void {
  const host = mediaCandidates(media).find((c) => c.type === 'host' && c.component === 1 && c.transport === 'udp');
  if (!host) return;
  const addrType = host.address.includes(':') ? 'IP6' : 'IP4';
  media.port = host.port;
  media.connections = [{ netType: 'IN', addrType, address: host.address }];
  if (attributeValue(media.attributes, 'rtcp') !== undefined) {
    setAttribute(media.attributes, 'rtcp', `${host.port} IN ${addrType} ${host.address}`);
  }
}

/**
 * The formats of the stream a browser's answer accepted (our own offer had one audio stream); the codec is the first
 * in the answer, which the browser sends. Throws NoCommonCodecError when the browser kept none of `accepted`,
 * MediaError MEDIA_SDP_PARSE when the stream lacks ICE credentials or a DTLS fingerprint.
 */
export function readBrowserAnswer(answer: SessionDescription, accepted: readonly CodecName[]): AudioChoice {
  const choice = chooseAudio(answer, accepted, () => true);
  requireIceAndDtls(answer, answer.media[choice.index]!);
  return choice;
}

/**
 * A browser's stream must carry ICE credentials (RFC 8839 §5.4) and a DTLS certificate fingerprint (RFC 8122 §5,
 * RFC 5763 §5): without them no engine can connect it, and saying so now beats an ICE timeout later. Throws
 * MediaError MEDIA_SDP_PARSE naming what is missing.
 */
function requireIceAndDtls(sdp: SessionDescription, media: MediaDescription): void {
  const ice = iceParameters(sdp, media);
  if (ice.ufrag === undefined || ice.pwd === undefined) {
    throw new MediaError('MEDIA_SDP_PARSE', 'the browser SDP has no a=ice-ufrag and a=ice-pwd (a WebRTC offer or answer needs ICE, RFC 8839 §5.4)');
  }
  if (fingerprints(sdp, media).length === 0) {
    throw new MediaError('MEDIA_SDP_PARSE', 'the browser SDP has no a=fingerprint (DTLS-SRTP needs the certificate fingerprint, RFC 8122 §5)');
  }
}

/**
 * A rejected stream in an answer: port 0, the offered formats with their rtpmap lines (strict parsers want a
 * format description even for a stream that carries nothing), its mid, inactive.
 */
function rejectedLike(offered: MediaDescription, audio: MediaDescription): MediaDescription {
  const streamId = mid(offered);
  const attributes = offered.attributes.filter((a) => a.name === 'rtpmap').map((a) => ({ ...a }));
  if (streamId !== undefined) attributes.unshift({ name: 'mid', value: streamId });
  attributes.push({ name: 'inactive' });
  return {
    type: offered.type, port: 0, protocol: offered.protocol, formats: [...offered.formats],
    connections: audio.connections.map((c) => ({ ...c })), bandwidths: [], attributes,
  };
}

/** Leaves only `streamId` in `a=group:BUNDLE` (RFC 8843: a rejected stream leaves the group). */
function keepOnlyInBundle(sdp: SessionDescription, streamId: string | undefined): void {
  const isBundle = (value: string | undefined) => (value ?? '').split(' ')[0] === 'BUNDLE';
  const bundle = sdp.attributes.find((a) => a.name === 'group' && isBundle(a.value));
  if (!bundle) return;
  if (streamId !== undefined && (bundle.value ?? '').split(' ').slice(1).includes(streamId)) {
    bundle.value = `BUNDLE ${streamId}`;
  } else {
    removeAttributes(sdp.attributes, (a) => a.name === 'group' && isBundle(a.value));
  }
}
