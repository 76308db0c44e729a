/**
 * The payload formats of calls: G.711 in both laws (RFC 3551 §4.5.14, static payload types 0 and 8), G.722 (§4.5.2,
 * static payload type 9), Opus towards the browser (RFC 7587) and telephone-event (RFC 4733 §7.1.1). The first three
 * pass through unchanged when both sides have them; Opus is always transcoded (./transcoder.ts).
 *
 * G.722 samples at 16 kHz, but RFC 3551 §4.5.2 fixes its RTP clock rate at 8000 Hz "for historical reasons" (an
 * error in RFC 1890 that implementations kept): its SDP says `G722/8000` and its timestamps advance 160 per 20 ms,
 * exactly as G.711's. So all three are relayed by the same rules.
 */

/** A payload format as negotiated on one leg: the payload type is the one used on that leg's wire. */
export interface PayloadFormat {
  payloadType: number;
  /** Encoding name as written in rtpmap (`PCMU`, `telephone-event`); compared case-insensitively (RFC 4855 §3). */
  encoding: string;
  clockRate: number;
  channels?: number;
  /** The a=fmtp parameters, when there are some. */
  fmtp?: string;
}

/** The audio codecs of calls: the first three on either side, Opus on the browser's only. */
export type CodecName = 'PCMU' | 'PCMA' | 'G722' | 'OPUS';

export const PCMU: Readonly<PayloadFormat> = { payloadType: 0, encoding: 'PCMU', clockRate: 8000 };
export const PCMA: Readonly<PayloadFormat> = { payloadType: 8, encoding: 'PCMA', clockRate: 8000 };
/** RFC 3551 §4.5.2: 16 kHz audio, an RTP clock rate of 8000 Hz. */
export const G722: Readonly<PayloadFormat> = { payloadType: 9, encoding: 'G722', clockRate: 8000 };

/** RFC 4733 §3.2 events 0–15 are the DTMF digits and A–D, 16 is flash; `0-16` is what SIP phones advertise. */
export const TELEPHONE_EVENT: Readonly<PayloadFormat> = {
  payloadType: 101,
  encoding: 'telephone-event',
  clockRate: 8000,
  fmtp: '0-16',
};

/**
 * RFC 7587 §7: always `opus/48000/2` in SDP, whatever is sent; in-band FEC is asked of the browser's encoder
 * (`useinbandfec=1`, §6.1). 111 is the payload type browsers use.
 */
export const OPUS: Readonly<PayloadFormat> = {
  payloadType: 111, encoding: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1',
};

export const CODECS: Readonly<Record<CodecName, Readonly<PayloadFormat>>> = { PCMU, PCMA, G722, OPUS };

/** telephone-event at Opus's clock (RFC 4733 §2.1); 110 is the payload type browsers use for it. */
export const TELEPHONE_EVENT_48000: Readonly<PayloadFormat> = { ...TELEPHONE_EVENT, payloadType: 110, clockRate: 48000 };

/** What our SDP to a browser lists: `codecs`, then telephone-event at each of their clock rates. */
export function browserFormats(codecs: readonly CodecName[]): PayloadFormat[] {
  const formats = codecs.map((c) => ({ ...CODECS[c] }));
  if (codecs.some((c) => c !== 'OPUS')) formats.push({ ...TELEPHONE_EVENT });
  if (codecs.includes('OPUS')) formats.push({ ...TELEPHONE_EVENT_48000 });
  return formats;
}

/** When a call transcodes (config `codecPolicy`; ./media-session.ts has the table). */
export type CodecPolicy = 'passthrough' | 'opus-to-browser' | 'fail';

export function isCodecPolicy(value: unknown): value is CodecPolicy {
  return value === 'passthrough' || value === 'opus-to-browser' || value === 'fail';
}

/** 20 ms: the packetisation every SIP phone and browser uses by default for these codecs (RFC 3551 §4.5). */
export const FRAME_MS = 20;

/**
 * A late 20 ms timer (a CPU-starved process) catches up at most this many frames at once (60 ms, a burst the peer's
 * jitter buffer absorbs); the frames due beyond are skipped, their time passing in the RTP timestamps. Sending every
 * missed frame would make the next timers later still: with many calls the bursts fed on each other until the
 * process stalled (bench/server-calls.ts, docs/benchmarks.md).
 */
export const MAX_CATCH_UP_FRAMES = 3;

export function isCodecName(encoding: string): encoding is CodecName {
  return encoding === 'PCMU' || encoding === 'PCMA' || encoding === 'G722' || encoding === 'OPUS';
}

/**
 * The codec a payload format carries, or undefined. G.711 and G.722 are mono at an RTP clock of 8000 Hz (RFC 3551
 * §4.5.14, §4.5.2; a `G722/16000` is a peer's mistake that would play at the wrong speed, so it does not count);
 * Opus is `opus/48000/2` (RFC 7587 §7).
 */
export function codecOf(format: PayloadFormat): CodecName | undefined {
  const name = format.encoding.toUpperCase();
  if (!isCodecName(name)) return undefined;
  if (name === 'OPUS') return format.clockRate === 48000 && format.channels === 2 ? name : undefined;
  if (format.clockRate !== 8000 || (format.channels ?? 1) !== 1) return undefined;
  return name;
}

/** A telephone-event format at `clockRate` (RFC 4733 §2.1: events use the clock of the audio they go with). */
export function isTelephoneEventAt(format: PayloadFormat, clockRate: number): boolean {
  return format.encoding.toLowerCase() === 'telephone-event' && format.clockRate === clockRate;
}

/**
 * Whether a format is telephone-event at 8000 Hz. Chrome offers it at 48000 Hz as well (one per Opus clock); the
 * relay needs the 8000 Hz clock of the codecs it passes through, since events share the audio stream's timestamps
 * (RFC 4733 §2.1).
 */
export function isTelephoneEvent8000(format: PayloadFormat): boolean {
  return isTelephoneEventAt(format, 8000);
}
