/**
 * src/random-hex.ts: tokens drawn from a pool of the CSPRNG's bytes must look like the `randomBytes(n).toString('hex')`
 * they replace, and never share bytes, across a refill of the pool too (a pool that handed the same bytes out twice
 * would give two SIP transactions one branch, or two sessions one auth token).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomHex } from '../../src/random-hex.ts';

describe('randomHex', () => {
  it('gives 2 × n lowercase hex digits', () => {
    for (const n of [1, 8, 12, 16, 4096]) assert.match(randomHex(n), new RegExp(`^[0-9a-f]{${2 * n}}$`));
  });

  it('never hands the same bytes out twice, across refills of its pool', () => {
    // 3 × 4 KiB of 12-byte tokens (a branch's size, which does not divide the pool): every refill is crossed.
    const tokens = Array.from({ length: 1024 }, () => randomHex(12));
    assert.equal(new Set(tokens).size, tokens.length);
  });

  it('refuses more than its pool holds', () => {
    assert.throws(() => randomHex(4097), RangeError);
  });
});
