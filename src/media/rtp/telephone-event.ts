/**
 * DTMF as RTP telephone-events (RFC 4733, which obsoletes RFC 2833): the payload format, the packets a sender
 * produces for one digit, and a receiver that turns a stream of event packets into one report per digit.
 *
 * Payload (§2.3):
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     event     |E|R| volume    |          duration             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * E marks the end of the event, R is reserved (sent as 0, ignored), volume is the power level in −dBm0 (0–63),
 * duration counts timestamp units since the event began. Every packet of one event carries the event's start
 * timestamp (§2.2.1).
 */
import { MediaError } from '../errors.ts';

export interface TelephoneEvent {
  /** 0–9 digits, 10 `*`, 11 `#`, 12–15 A–D, 16 flash (§3.2). */
  event: number;
  end: boolean;
  /** Power level as −dBm0, 0–63 (§2.3.4). */
  volume: number;
  /** Timestamp units since the event began, 0–65535 (§2.3.5). */
  duration: number;
}

export const TELEPHONE_EVENT_SIZE = 4;
const END_BIT = 0x80;
const VOLUME_MASK = 0x3f;

/** §3.2, Table 1: the event code of each DTMF character is its index here. */
const DTMF_CHARS = '0123456789*#ABCD';

export function encodeTelephoneEvent(e: TelephoneEvent): Buffer {
  const buf = Buffer.allocUnsafe(TELEPHONE_EVENT_SIZE);
  buf[0] = e.event & 0xff;
  buf[1] = (e.end ? END_BIT : 0) | (e.volume & VOLUME_MASK);
  buf.writeUInt16BE(Math.min(e.duration, 0xffff), 2);
  return buf;
}

/** Reads the first event of a payload (§2.3; several events in one payload, §2.5.1.5, are not used by phones). */
export function decodeTelephoneEvent(payload: Buffer): TelephoneEvent {
  if (payload.length < TELEPHONE_EVENT_SIZE) {
    throw new MediaError('MEDIA_RTP_PARSE', `telephone-event payload of ${payload.length} bytes < 4`);
  }
  return {
    event: payload[0]!,
    end: (payload[1]! & END_BIT) !== 0,
    volume: payload[1]! & VOLUME_MASK,
    duration: payload.readUInt16BE(2),
  };
}

/**
 * The same event on a clock `factor` times as fast (8000 → 48000 Hz: 6): the duration is in timestamp units
 * (§2.3.5), so an event passed between legs of different clock rates is rescaled with its timestamp. Undefined for a
 * payload too short to be an event.
 */
export function rescaleTelephoneEvent(payload: Buffer, factor: number): Buffer | undefined {
  if (payload.length < TELEPHONE_EVENT_SIZE) return undefined;
  const out = Buffer.from(payload.subarray(0, TELEPHONE_EVENT_SIZE));
  out.writeUInt16BE(Math.min(Math.round(payload.readUInt16BE(2) * factor), 0xffff), 2);
  return out;
}

/** The event codes of a digit string (case-insensitive A–D). Throws MediaError MEDIA_DTMF_DIGIT naming the bad character. */
export function dtmfEvents(digits: string): number[] {
  if (digits.length === 0) throw new MediaError('MEDIA_DTMF_DIGIT', 'no DTMF digits given');
  return [...digits.toUpperCase()].map((ch) => {
    const event = DTMF_CHARS.indexOf(ch);
    if (event < 0) throw new MediaError('MEDIA_DTMF_DIGIT', `'${ch}' is not a DTMF digit (0-9, *, #, A-D)`);
    return event;
  });
}

/** The character of a DTMF event code, or undefined for other events (flash, tones). */
export function dtmfDigit(event: number): string | undefined {
  return DTMF_CHARS[event];
}

export interface DigitOptions {
  /** Tone length in ms. Default 100 (ITU-T Q.24 asks at least 40 ms; 100 ms passes every receiver). */
  durationMs?: number;
  /** Time between packets of the event in ms. Default 20, the audio packet time, so the stream keeps its pace. */
  intervalMs?: number;
  clockRate?: number;
  /** −dBm0. Default 10. */
  volume?: number;
  /** Times the final packet is sent (§2.5.1.4 recommends three, for loss). Default 3. */
  endPackets?: number;
}

/** One packet of a digit: sent `atMs` after the first, all with the event's start timestamp. */
export interface DigitPacket {
  atMs: number;
  /** Set on the first packet of the event only (§2.2.2). */
  marker: boolean;
  payload: Buffer;
}

/**
 * The packets of one event (§2.5.1): updates every `intervalMs` whose duration grows by one interval, then the
 * final duration with E set, repeated `endPackets` times at the same pace.
 */
export function digitPackets(event: number, o: DigitOptions = {}): DigitPacket[] {
  const durationMs = o.durationMs ?? 100;
  const intervalMs = o.intervalMs ?? 20;
  const ticksPerMs = (o.clockRate ?? 8000) / 1000;
  const volume = o.volume ?? 10;
  const endPackets = o.endPackets ?? 3;
  if (durationMs <= 0 || intervalMs <= 0 || endPackets < 1) {
    throw new RangeError('DTMF duration, interval and end packets must be positive');
  }
  const total = Math.min(Math.round(durationMs * ticksPerMs), 0xffff);
  const step = Math.round(intervalMs * ticksPerMs);
  const updates = Math.max(Math.ceil(durationMs / intervalMs) - 1, 0);
  const out: DigitPacket[] = [];
  for (let i = 0; i < updates; i++) {
    const duration = Math.min((i + 1) * step, total);
    const payload = encodeTelephoneEvent({ event, end: false, volume, duration });
    out.push({ atMs: i * intervalMs, marker: i === 0, payload });
  }
  for (let i = 0; i < endPackets; i++) {
    out.push({
      atMs: (updates + i) * intervalMs,
      marker: out.length === 0,
      payload: encodeTelephoneEvent({ event, end: true, volume, duration: total }),
    });
  }
  return out;
}

export interface DetectedEvent {
  event: number;
  /** The DTMF character, when the event is a digit. */
  digit?: string;
  durationMs: number;
  volume: number;
  /** The event's RTP timestamp (its identity within the stream). */
  timestamp: number;
}

/**
 * Turns received telephone-event packets into one report per event (§2.5.2): at its first end packet, or — when
 * every end packet was lost — when the next event begins (a new timestamp). Retransmitted end packets and late
 * updates of an event already reported are ignored. A pure processor: no timers, no I/O.
 */
export class TelephoneEventDetector {
  private current: { timestamp: number; event: TelephoneEvent; reported: boolean } | undefined;

  constructor(private readonly clockRate = 8000) {}

  /** Feeds one packet's timestamp and payload; returns the events this packet completes (0, 1 or 2). */
  processInput(timestamp: number, payload: Buffer): DetectedEvent[] {
    let e: TelephoneEvent;
    try {
      e = decodeTelephoneEvent(payload);
    } catch {
      return [];
    }
    const out: DetectedEvent[] = [];
    const cur = this.current;
    if (cur && cur.timestamp === timestamp) {
      if (cur.reported) return out;
      if (e.duration > cur.event.duration) cur.event = e;
      if (e.end) {
        cur.reported = true;
        out.push(this.report(timestamp, cur.event));
      }
      return out;
    }
    if (cur && !cur.reported) out.push(this.report(cur.timestamp, cur.event));
    this.current = { timestamp, event: e, reported: e.end };
    if (e.end) out.push(this.report(timestamp, e));
    return out;
  }

  private report(timestamp: number, e: TelephoneEvent): DetectedEvent {
    const d: DetectedEvent = {
      event: e.event, durationMs: Math.round((e.duration * 1000) / this.clockRate), volume: e.volume, timestamp,
    };
    const digit = dtmfDigit(e.event);
    if (digit !== undefined) d.digit = digit;
    return d;
  }
}
