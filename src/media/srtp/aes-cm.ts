/**
 * AES in counter mode as SRTP uses it (RFC 3711 §4.1.1): the keystream of one packet starts at
 *   IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16)
 * and counts up in the low 16 bits, one block per 16 bytes. Node's AES-128-CTR counts the same way (a packet never
 * needs 2^16 blocks, so its 128-bit counter never carries further).
 */
import { createCipheriv } from 'node:crypto';

/**
 * XORs `input` with the keystream of (`key`, `salt` = k_s, `ssrc`, index i) into `out` at `at`. The 48-bit index
 * is given as its high 32 bits and low 16 bits: ROC and SEQ for SRTP, the SRTCP index split the same way.
 */
export function aesCm(
  key: Buffer, salt: Buffer, ssrc: number, indexHigh: number, indexLow: number, input: Buffer, out: Buffer, at: number,
): void {
  const iv = Buffer.alloc(16);
  salt.copy(iv, 0);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  iv.writeUInt32BE((iv.readUInt32BE(8) ^ indexHigh) >>> 0, 8);
  iv.writeUInt16BE(iv.readUInt16BE(12) ^ indexLow, 12);
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  const n = cipher.update(input).copy(out, at);
  cipher.final().copy(out, at + n);
}
