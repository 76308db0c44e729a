/**
 * The payload formats callhook relays: G.711 in both laws (RFC 3551 §4.5.14, static payload types 0 and 8) and
 * telephone-event (RFC 4733 §7.1.1). Everything else (Opus, G.722, …) needs transcoding, which is not done here.
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

export type G711Name = 'PCMU' | 'PCMA';

export const PCMU: Readonly<PayloadFormat> = { payloadType: 0, encoding: 'PCMU', clockRate: 8000 };
export const PCMA: Readonly<PayloadFormat> = { payloadType: 8, encoding: 'PCMA', clockRate: 8000 };

/** RFC 4733 §3.2 events 0–15 are the DTMF digits and A–D, 16 is flash; `0-16` is what SIP phones advertise. */
export const TELEPHONE_EVENT: Readonly<PayloadFormat> = {
  payloadType: 101,
  encoding: 'telephone-event',
  clockRate: 8000,
  fmtp: '0-16',
};

export const G711: Readonly<Record<G711Name, Readonly<PayloadFormat>>> = { PCMU, PCMA };

/** 20 ms of G.711 at 8000 Hz: the packetisation every SIP phone and browser uses by default (RFC 3551 §4.5). */
export const G711_FRAME_MS = 20;

export function isG711Name(encoding: string): encoding is G711Name {
  return encoding === 'PCMU' || encoding === 'PCMA';
}

/** The G.711 law a payload format carries, or undefined. 8000 Hz mono is the only G.711 format (RFC 3551 §4.5.14). */
export function g711Of(format: PayloadFormat): G711Name | undefined {
  const name = format.encoding.toUpperCase();
  if (!isG711Name(name) || format.clockRate !== 8000 || (format.channels ?? 1) !== 1) return undefined;
  return name;
}

/**
 * Whether a format is telephone-event at 8000 Hz. Chrome offers it at 48000 Hz as well (one per Opus clock); the
 * relay needs the G.711 clock, since events share the audio stream's timestamps (RFC 4733 §2.1).
 */
export function isTelephoneEvent8000(format: PayloadFormat): boolean {
  return format.encoding.toLowerCase() === 'telephone-event' && format.clockRate === 8000;
}
