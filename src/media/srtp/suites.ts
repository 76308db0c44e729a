/**
 * The SRTP crypto suites callhook speaks towards SIP (RFC 4568 §6.2): AES in counter mode with a 128-bit master key
 * and a 112-bit master salt (RFC 3711 §4.1.1), HMAC-SHA1 authentication (§4.2.1) with an 80- or 32-bit tag on SRTP.
 * SRTCP always carries an 80-bit tag (RFC 4568 §6.2.2: the `_32` suites shorten the SRTP tag only).
 */
export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

export interface SuiteParameters {
  /** SRTP authentication tag length, bytes. */
  rtpTagBytes: number;
  /** SRTCP authentication tag length, bytes. */
  rtcpTagBytes: number;
}

/** In our order of preference: the 80-bit tag first (RFC 4568 §6.2.1 calls _32 the one for low-bandwidth links). */
export const SRTP_SUITES: Readonly<Record<SrtpSuite, SuiteParameters>> = {
  AES_CM_128_HMAC_SHA1_80: { rtpTagBytes: 10, rtcpTagBytes: 10 },
  AES_CM_128_HMAC_SHA1_32: { rtpTagBytes: 4, rtcpTagBytes: 10 },
};

export const MASTER_KEY_BYTES = 16;
export const MASTER_SALT_BYTES = 14;
/** n_a of RFC 3711 §4.2.1 for HMAC-SHA1: 160 bits. */
export const AUTH_KEY_BYTES = 20;

export function isSrtpSuite(name: string): name is SrtpSuite {
  return Object.hasOwn(SRTP_SUITES, name);
}

/** The master key and salt of one direction (RFC 3711 §8.1), as an SDES `inline:` key carries them. */
export interface SrtpKeys {
  suite: SrtpSuite;
  masterKey: Buffer;
  masterSalt: Buffer;
}
