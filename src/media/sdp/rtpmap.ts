/**
 * Payload formats of an RTP media description: the m= format list, `a=rtpmap` (RFC 8866 §6.6) and `a=fmtp`
 * (§6.15), with the static payload types of RFC 3551 §6 for formats that come without an rtpmap line.
 *
 *   a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
 *   a=fmtp:<format> <format specific parameters>
 */
import type { PayloadFormat } from '../codecs.ts';
import { removeAttributes } from './attributes.ts';
import type { Attribute, MediaDescription } from './model.ts';

/** RFC 3551 §6 Table 4: static audio payload types a peer may use without an rtpmap line. */
const STATIC_AUDIO: Readonly<Record<number, Omit<PayloadFormat, 'payloadType'>>> = {
  0: { encoding: 'PCMU', clockRate: 8000, channels: 1 },
  3: { encoding: 'GSM', clockRate: 8000, channels: 1 },
  4: { encoding: 'G723', clockRate: 8000, channels: 1 },
  5: { encoding: 'DVI4', clockRate: 8000, channels: 1 },
  6: { encoding: 'DVI4', clockRate: 16000, channels: 1 },
  7: { encoding: 'LPC', clockRate: 8000, channels: 1 },
  8: { encoding: 'PCMA', clockRate: 8000, channels: 1 },
  9: { encoding: 'G722', clockRate: 8000, channels: 1 },
  10: { encoding: 'L16', clockRate: 44100, channels: 2 },
  11: { encoding: 'L16', clockRate: 44100, channels: 1 },
  12: { encoding: 'QCELP', clockRate: 8000, channels: 1 },
  13: { encoding: 'CN', clockRate: 8000, channels: 1 },
  14: { encoding: 'MPA', clockRate: 90000 },
  15: { encoding: 'G728', clockRate: 8000, channels: 1 },
  16: { encoding: 'DVI4', clockRate: 11025, channels: 1 },
  17: { encoding: 'DVI4', clockRate: 22050, channels: 1 },
  18: { encoding: 'G729', clockRate: 8000, channels: 1 },
};

/**
 * The formats of a media description in m= order (the offerer's preference, RFC 3264 §5.1). A dynamic payload
 * type without an rtpmap line, or a format that is not a payload type number, is left out: it cannot be relayed.
 */
export function payloadFormats(media: MediaDescription): PayloadFormat[] {
  const maps = new Map<number, Attribute>();
  const fmtps = new Map<number, string>();
  for (const a of media.attributes) {
    if (a.name !== 'rtpmap' && a.name !== 'fmtp') continue;
    const [pt, rest] = splitFormat(a.value);
    if (pt === undefined) continue;
    if (a.name === 'rtpmap' && !maps.has(pt)) maps.set(pt, a);
    if (a.name === 'fmtp' && !fmtps.has(pt)) fmtps.set(pt, rest);
  }
  const out: PayloadFormat[] = [];
  for (const f of media.formats) {
    if (!/^[0-9]{1,3}$/.test(f) || Number(f) > 127) continue;
    const pt = Number(f);
    const rtpmap = maps.get(pt);
    const format = rtpmap ? parseRtpmap(pt, splitFormat(rtpmap.value)[1]) : staticFormat(pt);
    if (!format) continue;
    const fmtp = fmtps.get(pt);
    if (fmtp !== undefined) format.fmtp = fmtp;
    out.push(format);
  }
  return out;
}

/** The attribute lines that describe `format` on the wire: rtpmap, then fmtp when it has parameters. */
export function formatAttributes(format: PayloadFormat): Attribute[] {
  const channels = format.channels !== undefined && format.channels !== 1 ? `/${format.channels}` : '';
  const out: Attribute[] = [
    { name: 'rtpmap', value: `${format.payloadType} ${format.encoding}/${format.clockRate}${channels}` },
  ];
  if (format.fmtp !== undefined) out.push({ name: 'fmtp', value: `${format.payloadType} ${format.fmtp}` });
  return out;
}

/**
 * Keeps only the payload types in `keep`, in that order, on the m= line, and drops the rtpmap, fmtp and rtcp-fb
 * lines (RFC 4585 §4.2) of every other payload type. The remaining attributes keep their order.
 */
export function restrictPayloadTypes(media: MediaDescription, keep: readonly number[]): void {
  const kept = new Set(keep);
  media.formats = keep.map(String);
  removeAttributes(media.attributes, (a) => {
    if (a.name !== 'rtpmap' && a.name !== 'fmtp' && a.name !== 'rtcp-fb') return false;
    const [pt] = splitFormat(a.value);
    // `a=rtcp-fb:* nack` applies to every format and stays.
    return pt !== undefined && !kept.has(pt);
  });
}

function parseRtpmap(payloadType: number, text: string): PayloadFormat | undefined {
  const [encoding, clock, channels] = text.trim().split('/');
  if (!encoding || !clock || !/^[0-9]+$/.test(clock)) return undefined;
  const format: PayloadFormat = { payloadType, encoding, clockRate: Number(clock) };
  if (channels !== undefined && /^[0-9]+$/.test(channels)) format.channels = Number(channels);
  return format;
}

function staticFormat(payloadType: number): PayloadFormat | undefined {
  const s = STATIC_AUDIO[payloadType];
  return s ? { payloadType, ...s } : undefined;
}

/** `<pt> <rest>` → [pt, rest]; pt undefined when the value does not start with a payload type number. */
function splitFormat(value: string | undefined): [number | undefined, string] {
  const m = /^([0-9]{1,3})(?: (.*))?$/.exec(value ?? '');
  if (!m) return [undefined, ''];
  return [Number(m[1]), m[2] ?? ''];
}
