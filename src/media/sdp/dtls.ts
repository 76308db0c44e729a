/**
 * DTLS-SRTP attributes: the certificate fingerprint (RFC 8122 §5) and the connection role (RFC 4145 §4, as used by
 * RFC 5763 §5), each at media level or, failing that, session level.
 *
 *   a=fingerprint:<hash-func> <fingerprint>      e.g. sha-256 4A:AD:…:B3
 *   a=setup:active | passive | actpass | holdconn
 */
import { MediaError } from '../errors.ts';
import { attributeValue, attributeValues } from './attributes.ts';
import type { MediaDescription, SessionDescription } from './model.ts';

export interface Fingerprint {
  /** Hash function name, lower-cased (`sha-256`); RFC 8122 §5 makes it case-insensitive. */
  algorithm: string;
  /** Upper-case hex pairs separated by colons. */
  value: string;
}

export type SetupRole = 'active' | 'passive' | 'actpass' | 'holdconn';

const ROLES: ReadonlySet<string> = new Set<SetupRole>(['active', 'passive', 'actpass', 'holdconn']);

export function parseFingerprint(value: string): Fingerprint {
  const m = /^(\S+) ((?:[0-9A-Fa-f]{2}:)*[0-9A-Fa-f]{2})$/.exec(value.trim());
  if (!m) throw new MediaError('MEDIA_SDP_PARSE', `a=fingerprint:${value}: needs '<hash-func> <hex pairs separated by colons>'`);
  return { algorithm: m[1]!.toLowerCase(), value: m[2]!.toUpperCase() };
}

export function fingerprints(sdp: SessionDescription, media: MediaDescription): Fingerprint[] {
  const own = attributeValues(media.attributes, 'fingerprint');
  return (own.length > 0 ? own : attributeValues(sdp.attributes, 'fingerprint')).map(parseFingerprint);
}

export function setupRole(sdp: SessionDescription, media: MediaDescription): SetupRole | undefined {
  const v = attributeValue(media.attributes, 'setup') ?? attributeValue(sdp.attributes, 'setup');
  if (v === undefined) return undefined;
  if (!ROLES.has(v)) throw new MediaError('MEDIA_SDP_PARSE', `a=setup:${v}: must be active, passive, actpass or holdconn`);
  return v as SetupRole;
}
