/**
 * AES in counter mode as SRTP defines it (RFC 3711 §4.1.1): the keystream of one packet is
 *   E(k, IV) || E(k, IV + 1) || E(k, IV + 2) || …   with IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16),
 * and the packet's payload is XORed with it. The IV's low 16 bits are zero, so block b's counter is the IV with b in
 * its last two bytes (a packet never needs 2^16 blocks).
 *
 * AES is Node's: one AES-128-ECB cipher per session key, kept for the key's life, encrypts the packet's counter
 * blocks in one call. A new AES-128-CTR cipher per packet would do the same, but creating it costs several times
 * the encryption itself (docs/benchmarks.md "SRTP").
 */
import { createCipheriv, type Cipher } from 'node:crypto';

const BLOCK = 16;

export class AesCm {
  private readonly ecb: Cipher;

  constructor(key: Buffer) {
    this.ecb = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
    // Counter blocks are whole blocks: nothing to pad, and update() returns every block at once.
    this.ecb.setAutoPadding(false);
  }

  /**
   * XORs `input` with the keystream of (`salt` = k_s, `ssrc`, index i) into `out` at `at`. The 48-bit index is
   * given as its high 32 bits and low 16 bits: ROC and SEQ for SRTP, the SRTCP index split the same way.
   */
  apply(salt: Buffer, ssrc: number, indexHigh: number, indexLow: number, input: Buffer, out: Buffer, at: number): void {
    if (input.length === 0) return;
    const blocks = Math.ceil(input.length / BLOCK);
    const counters = Buffer.alloc(blocks * BLOCK);
    salt.copy(counters, 0);
    counters.writeUInt32BE((counters.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    counters.writeUInt32BE((counters.readUInt32BE(8) ^ indexHigh) >>> 0, 8);
    counters.writeUInt16BE(counters.readUInt16BE(12) ^ indexLow, 12);
    for (let b = 1; b < blocks; b++) {
      counters.copy(counters, b * BLOCK, 0, BLOCK - 2);
      counters.writeUInt16BE(b, b * BLOCK + BLOCK - 2);
    }
    const keystream = this.ecb.update(counters);
    for (let i = 0; i < input.length; i++) out[at + i] = input[i]! ^ keystream[i]!;
  }
}
