/**
 * DTMF in SIP INFO (RFC 6086 "legacy" INFO usage, no Info Package): the `application/dtmf-relay` body most PBXs and
 * gateways send and read (`Signal=5\r\nDuration=160\r\n`), and the bare `application/dtmf` body (`5`).
 */
import { SipError } from '../errors.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';

export const DTMF_RELAY = 'application/dtmf-relay';
export const DTMF = 'application/dtmf';

/** The sixteen DTMF events of RFC 4733 §3.2 (0-9, *, #, A-D). */
const DIGITS = '0123456789*#ABCD';

/** Default tone length of an INFO digit (a common PBX default; RFC 4733 does not govern INFO). */
export const DEFAULT_DTMF_DURATION_MS = 160;

export interface DtmfDigit {
  /** One of 0-9 * # A-D. */
  digit: string;
  /** Duration in milliseconds, when the body gave one. */
  durationMs?: number;
}

/** Checks a digit string before anything is sent; returns it upper-cased. Throws SipError SIP_DTMF. */
export function validateDtmf(digits: string, durationMs: number = DEFAULT_DTMF_DURATION_MS): string {
  const upper = digits.toUpperCase();
  if (upper.length === 0 || [...upper].some((d) => !DIGITS.includes(d))) {
    throw new SipError('SIP_DTMF', `DTMF digits must be 0-9, *, #, A-D; got ${JSON.stringify(digits)}`);
  }
  if (!Number.isInteger(durationMs) || durationMs <= 0 || durationMs > 10_000) {
    throw new SipError('SIP_DTMF', `DTMF duration must be 1-10000 ms; got ${durationMs}`);
  }
  return upper;
}

/**
 * Sends `digits` (checked by `validateDtmf`) one INFO `application/dtmf-relay` per digit through `sendInfo`, each
 * after the previous one's response. Resolves with the last response; stops at the first non-2xx.
 */
export async function sendDtmfInfo(
  sendInfo: (contentType: string, body: Buffer) => Promise<SipResponse>,
  digits: string,
  durationMs: number,
): Promise<SipResponse> {
  let response: SipResponse | undefined;
  for (const digit of digits) {
    response = await sendInfo(DTMF_RELAY, dtmfRelayBody(digit, durationMs));
    if (response.status >= 300) break;
  }
  return response!;
}

/** What a received INFO carries: its content type and body, and the digit when it is a DTMF body. */
export function readInfo(request: SipRequest): { request: SipRequest; contentType?: string; body: Buffer; dtmf?: DtmfDigit } {
  const type = request.headers.get('Content-Type');
  const dtmf = parseDtmfInfo(type, request.body);
  return { request, body: request.body, ...(type !== undefined && { contentType: type }), ...(dtmf && { dtmf }) };
}

/** The `application/dtmf-relay` body for one digit. */
export function dtmfRelayBody(digit: string, durationMs: number = DEFAULT_DTMF_DURATION_MS): Buffer {
  return Buffer.from(`Signal=${digit}\r\nDuration=${durationMs}\r\n`, 'utf8');
}

/**
 * Reads the digit of a received INFO body: `application/dtmf-relay` (`Signal=` and `Duration=` lines, keys in any
 * case; some senders write the RFC 4733 event numbers 10-15 for * # A-D) or `application/dtmf` (the digit alone).
 * Undefined for another content type or a body that names no digit.
 */
export function parseDtmfInfo(contentType: string | undefined, body: Buffer): DtmfDigit | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type !== DTMF_RELAY && type !== DTMF) return undefined;
  const text = body.toString('utf8');
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  const digit = eventDigit(fields.get('signal') ?? (type === DTMF ? text.trim() : ''));
  if (digit === undefined) return undefined;
  const duration = Number(fields.get('duration'));
  return Number.isInteger(duration) && duration > 0 ? { digit, durationMs: duration } : { digit };
}

function eventDigit(signal: string): string | undefined {
  const s = signal.toUpperCase();
  if (s.length === 1 && DIGITS.includes(s)) return s;
  // RFC 4733 §3.2 event codes, as some gateways put them in Signal=.
  if (/^1[0-5]$/.test(s)) return DIGITS[Number(s)];
  return undefined;
}
