/**
 * SDES: SRTP keys in SDP (RFC 4568), and callhook's SRTP policy towards SIP (`sipSrtp`).
 *
 *   a=crypto:<tag> <crypto-suite> inline:<base64 of master key || master salt>[|<lifetime>][|<MKI>:<length>] [<session params>]
 *
 * A line is usable when its suite is one of ours (AES_CM_128_HMAC_SHA1_80 / _32), it has one inline key of 30
 * bytes, no MKI (our packets carry none) and no session parameters (KDR, UNENCRYPTED_SRTP, … change how SRTP
 * runs, and we run it one way). A lifetime is accepted: no call sends 2^31 packets.
 *
 * The policy:
 * - `off`: plain RTP/AVP, as before; a=crypto in an RTP/AVP offer is ignored, an RTP/SAVP-only offer has no stream we
 *   take.
 * - `optional`: best-effort SRTP. Our offers are RTP/AVP with a=crypto lines, which a peer that knows SDES answers
 *   with a=crypto (SRTP) and a peer that does not answers as plain RTP (RTP/AVP, no a=crypto): the call goes on
 *   unencrypted. An offer with a usable a=crypto is answered with SRTP, one without it with plain RTP.
 * - `required`: our offers are RTP/SAVP (RFC 3711 §7), so only a peer that can do SRTP accepts them; an answer or
 *   offer without a usable a=crypto fails the call with `No common crypto`.
 */
import { randomBytes } from 'node:crypto';
import { NoCommonCryptoError } from '../errors.ts';
import {
  isSrtpSuite, MASTER_KEY_BYTES, MASTER_SALT_BYTES, SRTP_SUITES, type SrtpKeys, type SrtpSuite,
} from '../srtp/index.ts';
import { attributeValues } from './attributes.ts';
import type { Attribute, MediaDescription } from './model.ts';
import { isPlainRtpProfile } from './offer-answer.ts';

export type SrtpPolicy = 'off' | 'optional' | 'required';

/** One a=crypto line: its tag (RFC 4568 §9.1, 1–9 digits) and the key it carries. */
export interface CryptoLine {
  tag: number;
  keys: SrtpKeys;
}

const SECURE_PROFILES: ReadonlySet<string> = new Set(['RTP/SAVP', 'RTP/SAVPF']);

/** RTP/SAVP and RTP/SAVPF (RFC 3711 §7, RFC 5124): the profiles that mean SRTP. */
export function isSecureProfile(protocol: string): boolean {
  return SECURE_PROFILES.has(protocol.toUpperCase());
}

/** The profiles of a stream we can take under `policy`. */
export function acceptsProfile(policy: SrtpPolicy): (protocol: string) => boolean {
  return policy === 'off' ? isPlainRtpProfile : (p) => isPlainRtpProfile(p) || isSecureProfile(p);
}

/** The usable a=crypto lines of a stream, in its order (the offerer's preference, RFC 4568 §7.1.1). */
export function usableCrypto(media: MediaDescription): CryptoLine[] {
  const lines: CryptoLine[] = [];
  for (const value of attributeValues(media.attributes, 'crypto')) {
    const line = parseCrypto(value);
    if (line !== undefined) lines.push(line);
  }
  return lines;
}

function parseCrypto(value: string): CryptoLine | undefined {
  const m = /^(\d{1,9}) +(\S+) +inline:([A-Za-z0-9+/]+={0,2})((?:\|[^|\s;]+)*)$/.exec(value.trim());
  if (!m || !isSrtpSuite(m[2]!)) return undefined;
  // An MKI (`|<value>:<length>`) means every packet carries one: not ours.
  if (m[4]!.split('|').some((p) => p.includes(':'))) return undefined;
  const material = Buffer.from(m[3]!, 'base64');
  if (material.length !== MASTER_KEY_BYTES + MASTER_SALT_BYTES) return undefined;
  return {
    tag: Number(m[1]),
    keys: { suite: m[2]!, masterKey: material.subarray(0, MASTER_KEY_BYTES), masterSalt: material.subarray(MASTER_KEY_BYTES) },
  };
}

export function cryptoAttribute(line: CryptoLine): Attribute {
  const material = Buffer.concat([line.keys.masterKey, line.keys.masterSalt]).toString('base64');
  return { name: 'crypto', value: `${line.tag} ${line.keys.suite} inline:${material}` };
}

/** A fresh master key and salt from the system's random source (RFC 4568 §6.1, RFC 4086). */
export function newKeys(suite: SrtpSuite): SrtpKeys {
  const material = randomBytes(MASTER_KEY_BYTES + MASTER_SALT_BYTES);
  return { suite, masterKey: material.subarray(0, MASTER_KEY_BYTES), masterSalt: material.subarray(MASTER_KEY_BYTES) };
}

/** Our offer's lines: every suite we have, in our preference order, each with its own new key. */
export function offerCrypto(): CryptoLine[] {
  return (Object.keys(SRTP_SUITES) as SrtpSuite[]).map((suite, i) => ({ tag: i + 1, keys: newKeys(suite) }));
}

/**
 * The peer's line we use from a stream it offered or answered with, among `candidates` (tag and suite must match
 * one of them, when given: an answer picks one of our offered lines, RFC 4568 §7.1.2). Undefined means plain RTP;
 * throws NoCommonCryptoError when that is not allowed: the policy requires SRTP, or the stream is RTP/SAVP.
 */
export function peerCrypto(
  policy: SrtpPolicy, media: MediaDescription, candidates?: readonly CryptoLine[],
): CryptoLine | undefined {
  if (policy === 'off') return undefined;
  const usable = usableCrypto(media).filter((l) =>
    candidates === undefined || candidates.some((c) => c.tag === l.tag && c.keys.suite === l.keys.suite));
  const line = usable[0];
  if (line === undefined && (policy === 'required' || isSecureProfile(media.protocol))) {
    const offered = attributeValues(media.attributes, 'crypto').map((v) => v.split(/\s+/)[1] ?? '?');
    throw new NoCommonCryptoError(`${media.protocol} with ${offered.length > 0 ? `a=crypto ${offered.join(', ')}` : 'no a=crypto'}`);
  }
  return line;
}
