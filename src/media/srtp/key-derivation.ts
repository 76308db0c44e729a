/**
 * SRTP session keys from a master key and salt (RFC 3711 §4.3.1) with key_derivation_rate 0, the SDES default
 * (RFC 4568 §6.3.1 leaves KDR out unless a session parameter names it): r = 0, so
 *   x = (label · 2^48) XOR master_salt,   session key = AES-CM(master_key, IV = x · 2^16) keystream.
 * AES comes from Node's crypto; the keystream is AES-128-CTR over zeros.
 */
import { createCipheriv } from 'node:crypto';
import { AUTH_KEY_BYTES, MASTER_SALT_BYTES } from './suites.ts';

/** §4.3.2 labels: SRTP 0–2, SRTCP 3–5. */
export const LABEL = {
  rtpEncryption: 0, rtpAuthentication: 1, rtpSalt: 2, rtcpEncryption: 3, rtcpAuthentication: 4, rtcpSalt: 5,
} as const;

/** The session keys of one direction and protocol (SRTP or SRTCP). */
export interface SessionKeys {
  encryption: Buffer;
  /** k_s: 112 bits, XORed into every packet's IV (§4.1.1). */
  salt: Buffer;
  authentication: Buffer;
}

/** `length` bytes of the key derivation PRF for `label` (§4.3.1, §4.3.3). */
export function deriveKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, MASTER_SALT_BYTES);
  // key_id = label || r (7 bytes, r = 0) is right-aligned under the 14-byte salt: the label meets byte 7.
  iv[7]! ^= label;
  const cipher = createCipheriv('aes-128-ctr', masterKey, iv);
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

/** The SRTP (`rtcp` false) or SRTCP session keys of a master key. */
export function sessionKeys(masterKey: Buffer, masterSalt: Buffer, rtcp: boolean): SessionKeys {
  const base = rtcp ? LABEL.rtcpEncryption : LABEL.rtpEncryption;
  return {
    encryption: deriveKey(masterKey, masterSalt, base, masterKey.length),
    authentication: deriveKey(masterKey, masterSalt, base + 1, AUTH_KEY_BYTES),
    salt: deriveKey(masterKey, masterSalt, base + 2, MASTER_SALT_BYTES),
  };
}
