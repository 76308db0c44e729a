/**
 * The payload formats callhook passes through unchanged: G.711 in both laws (RFC 3551 §4.5.14, static payload
 * types 0 and 8), G.722 (§4.5.2, static payload type 9) and telephone-event (RFC 4733 §7.1.1).
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

/** The codecs that can be passed through between a browser and a SIP peer. */
export type CodecName = 'PCMU' | 'PCMA' | 'G722';

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

export const CODECS: Readonly<Record<CodecName, Readonly<PayloadFormat>>> = { PCMU, PCMA, G722 };

/** 20 ms: the packetisation every SIP phone and browser uses by default for these codecs (RFC 3551 §4.5). */
export const FRAME_MS = 20;

export function isCodecName(encoding: string): encoding is CodecName {
  return encoding === 'PCMU' || encoding === 'PCMA' || encoding === 'G722';
}

/**
 * The codec a payload format carries, or undefined. Each is mono at an RTP clock of 8000 Hz (RFC 3551 §4.5.14,
 * §4.5.2); a `G722/16000` is a peer's mistake that would play at the wrong speed, so it does not count.
 */
export function codecOf(format: PayloadFormat): CodecName | undefined {
  const name = format.encoding.toUpperCase();
  if (!isCodecName(name) || format.clockRate !== 8000 || (format.channels ?? 1) !== 1) return undefined;
  return name;
}

/**
 * Whether a format is telephone-event at 8000 Hz. Chrome offers it at 48000 Hz as well (one per Opus clock); the
 * relay needs the 8000 Hz clock of the codecs it passes through, since events share the audio stream's timestamps
 * (RFC 4733 §2.1).
 */
export function isTelephoneEvent8000(format: PayloadFormat): boolean {
  return format.encoding.toLowerCase() === 'telephone-event' && format.clockRate === 8000;
}
