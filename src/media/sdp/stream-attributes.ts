/**
 * Per-stream attributes of RTP media descriptions: `a=mid` (RFC 5888 §4), `a=ptime` (RFC 8866 §6.4), `a=rtcp`
 * (RFC 3605 §2.1) and `a=rtcp-mux` (RFC 5761 §5.1.1).
 */
import { attributeValue, hasAttribute } from './attributes.ts';
import type { MediaDescription } from './model.ts';

export function mid(media: MediaDescription): string | undefined {
  return attributeValue(media.attributes, 'mid');
}

/** Packet duration in milliseconds, when given. */
export function ptime(media: MediaDescription): number | undefined {
  const v = attributeValue(media.attributes, 'ptime');
  return v !== undefined && /^[0-9]+(\.[0-9]+)?$/.test(v) ? Number(v) : undefined;
}

export function rtcpMux(media: MediaDescription): boolean {
  return hasAttribute(media.attributes, 'rtcp-mux');
}

/**
 * `a=rtcp:<port> [<nettype> <addrtype> <connection-address>]` (RFC 3605 §2.1): where the peer wants RTCP when it is
 * not on RTP port + 1.
 */
export function rtcpAttribute(media: MediaDescription): { port: number; address?: string } | undefined {
  const v = attributeValue(media.attributes, 'rtcp');
  const m = v === undefined ? null : /^([0-9]{1,5})(?: \S+ \S+ (\S+))?$/.exec(v);
  if (!m || Number(m[1]) > 65535) return undefined;
  return m[2] === undefined ? { port: Number(m[1]) } : { port: Number(m[1]), address: m[2] };
}
