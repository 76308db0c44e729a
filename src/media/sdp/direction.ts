/**
 * Stream direction (RFC 8866 §6.7) and its offer/answer rules (RFC 3264 §5.1, §6.1), which is also how a call is
 * put on hold (RFC 3264 §8.4: the holder offers `sendonly`, or `inactive` when it was already receiving nothing).
 */
import { removeAttributes } from './attributes.ts';
import type { Attribute, MediaDescription, SessionDescription } from './model.ts';

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const DIRECTIONS: ReadonlySet<string> = new Set<Direction>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/** The direction of a stream: its own attribute, else the session-level one, else sendrecv (§6.7). */
export function mediaDirection(sdp: SessionDescription, media: MediaDescription): Direction {
  return directionOf(media.attributes) ?? directionOf(sdp.attributes) ?? 'sendrecv';
}

/** Writes one direction attribute on the stream, replacing any it had. */
export function setMediaDirection(media: MediaDescription, direction: Direction): void {
  removeAttributes(media.attributes, (a) => a.value === undefined && DIRECTIONS.has(a.name));
  media.attributes.push({ name: direction });
}

/** The same stream seen from the other end: what one side sends, the other receives. */
export function reverseDirection(d: Direction): Direction {
  if (d === 'sendonly') return 'recvonly';
  if (d === 'recvonly') return 'sendonly';
  return d;
}

export function sends(d: Direction): boolean {
  return d === 'sendrecv' || d === 'sendonly';
}

export function receives(d: Direction): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}

/**
 * The direction an answerer writes for a stream offered as `offered` when it wants `wanted` (RFC 3264 §6.1): it may
 * only send if the offerer receives, and only receive if the offerer sends.
 *
 *   offered   → answer
 *   sendonly  → recvonly or inactive
 *   recvonly  → sendonly or inactive
 *   sendrecv  → any of the four
 *   inactive  → inactive
 */
export function answerDirection(offered: Direction, wanted: Direction): Direction {
  return fromFlags(sends(wanted) && receives(offered), receives(wanted) && sends(offered));
}

function fromFlags(send: boolean, recv: boolean): Direction {
  if (send && recv) return 'sendrecv';
  if (send) return 'sendonly';
  if (recv) return 'recvonly';
  return 'inactive';
}

function directionOf(attrs: readonly Attribute[]): Direction | undefined {
  for (const a of attrs) if (a.value === undefined && DIRECTIONS.has(a.name)) return a.name as Direction;
  return undefined;
}
