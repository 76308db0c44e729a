/**
 * SRTP and SRTCP (src/media/srtp/): RFC 3711's own test vectors (Appendix B.2 AES-CM keystream, B.3 key
 * derivation), libsrtp's reference packet (a known answer for a whole protected packet), and round trips with
 * tampering, replays, rollover-counter wraps and packets out of order.
 */
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { AesCm, deriveKey, LABEL, ReplayWindow, SrtpContext, type SrtpKeys, type SrtpSuite } from '../../src/media/srtp/index.ts';
import { serializeRtp } from '../../src/media/rtp/packet.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** RFC 3711 B.3 (and libsrtp's test_key). */
const MASTER_KEY = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
const MASTER_SALT = hex('0EC675AD498AFEEBB6960B3AABE6');

function keys(suite: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80', masterKey = MASTER_KEY): SrtpKeys {
  return { suite, masterKey, masterSalt: MASTER_SALT };
}

function rtp(seq: number, ssrc = 0x11223344, payload = Buffer.alloc(160, 0xd5)): Buffer {
  return serializeRtp({
    header: { marker: false, payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc, csrcs: [] }, payload, paddingSize: 0,
  });
}

describe('SRTP (RFC 3711)', () => {
  it('B.2: the AES-CM keystream of the RFC, and the same keystream from Node\'s AES-128-CTR', () => {
    const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
    const out = Buffer.alloc(48);
    new AesCm(key).apply(hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'), 0, 0, 0, Buffer.alloc(48), out, 0);
    assert.equal(out.toString('hex').toUpperCase(),
      'E03EAD0935C95E80E166B16DD92B4EB4' + 'D23513162B02D0F72A43A2FE4A5F97AB' + '41E95B3BB0A2E8DD477901E4FCA894C0');
    // A 1 300-byte payload (82 blocks, the last one partial) with an SSRC and an index: as Node's CTR mode makes it.
    const salt = randomBytes(14);
    const input = randomBytes(1300);
    const iv = Buffer.concat([salt, Buffer.alloc(2)]);
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ 0xcafebabe) >>> 0, 4);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ 7) >>> 0, 8);
    iv.writeUInt16BE(iv.readUInt16BE(12) ^ 0xfffe, 12);
    const ctr = createCipheriv('aes-128-ctr', key, iv);
    const expected = Buffer.concat([ctr.update(input), ctr.final()]);
    const got = Buffer.alloc(1300);
    new AesCm(key).apply(salt, 0xcafebabe, 7, 0xfffe, input, got, 0);
    assert.deepEqual(got, expected);
  });

  it('B.3: session keys derived from the master key and salt', () => {
    assert.equal(deriveKey(MASTER_KEY, MASTER_SALT, LABEL.rtpEncryption, 16).toString('hex').toUpperCase(), 'C61E7A93744F39EE10734AFE3FF7A087');
    assert.equal(deriveKey(MASTER_KEY, MASTER_SALT, LABEL.rtpSalt, 14).toString('hex').toUpperCase(), '30CBBC08863D8C85D49DB34A9AE1');
    assert.equal(deriveKey(MASTER_KEY, MASTER_SALT, LABEL.rtpAuthentication, 20).toString('hex').toUpperCase(), 'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  });

  it("protects libsrtp's reference packet to its reference ciphertext, and back", () => {
    const plain = hex('800f1234decafbadcafebabe' + 'ab'.repeat(16));
    const cipher = hex('800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb');
    assert.deepEqual(new SrtpContext(keys()).protectRtp(plain), cipher);
    assert.deepEqual(new SrtpContext(keys()).unprotectRtp(cipher), plain);
  });

  for (const suite of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const) {
    it(`${suite}: round trip, with the tag length of the suite`, () => {
      const sender = new SrtpContext(keys(suite));
      const receiver = new SrtpContext(keys(suite));
      const packet = rtp(7);
      const protectedPacket = sender.protectRtp(packet);
      assert.equal(protectedPacket.length, packet.length + (suite.endsWith('80') ? 10 : 4));
      assert.notDeepEqual(protectedPacket.subarray(12, packet.length), packet.subarray(12));
      assert.deepEqual(receiver.unprotectRtp(protectedPacket), packet);
    });
  }

  it('drops a packet whose bytes or tag were changed, or that was protected with another key', () => {
    const sender = new SrtpContext(keys());
    const receiver = new SrtpContext(keys());
    const good = sender.protectRtp(rtp(1));
    for (const at of [1, 20, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at]! ^= 0x01;
      assert.equal(receiver.unprotectRtp(bad), undefined, `byte ${at} changed`);
    }
    const other = new SrtpContext(keys('AES_CM_128_HMAC_SHA1_80', hex('00112233445566778899aabbccddeeff')));
    assert.equal(receiver.unprotectRtp(other.protectRtp(rtp(2))), undefined);
    assert.equal(receiver.unprotectRtp(good.subarray(0, 15)), undefined, 'shorter than a header and a tag');
    // The forged packets changed nothing: the genuine one still passes.
    assert.deepEqual(receiver.unprotectRtp(good), rtp(1));
  });

  it('§3.3.2: drops replays, and packets older than the 64-packet window', () => {
    const sender = new SrtpContext(keys());
    const receiver = new SrtpContext(keys());
    const sent = Array.from({ length: 100 }, (_, i) => sender.protectRtp(rtp(1000 + i)));
    assert.ok(receiver.unprotectRtp(sent[0]!));
    assert.equal(receiver.unprotectRtp(sent[0]!), undefined, 'the same packet again');
    assert.ok(receiver.unprotectRtp(sent[99]!));
    assert.ok(receiver.unprotectRtp(sent[50]!), 'late but inside the window');
    assert.equal(receiver.unprotectRtp(sent[50]!), undefined, 'late, inside the window, twice');
    assert.equal(receiver.unprotectRtp(sent[10]!), undefined, 'older than the window');
  });

  it('§3.3.1: the rollover counter follows a sequence number wrap, in order and out of order', () => {
    const sender = new SrtpContext(keys());
    const receiver = new SrtpContext(keys());
    const seqs = [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3];
    const sent = seqs.map((s) => sender.protectRtp(rtp(s)));
    // 65535 arrives after 0 and 1 (reordered across the wrap); every packet decrypts to what was sent.
    const order = [0, 1, 2, 3, 4, 6, 7, 5, 8, 9];
    for (const i of order) assert.deepEqual(receiver.unprotectRtp(sent[i]!), rtp(seqs[i]!), `seq ${seqs[i]}`);
    // A second wrap: the ROC is 1 now, and a packet of ROC 2 decrypts too.
    const later = [4, 30000, 60000, 65535, 0].map((s) => sender.protectRtp(rtp(s)));
    for (const [i, s] of [4, 30000, 60000, 65535, 0].entries()) assert.deepEqual(receiver.unprotectRtp(later[i]!), rtp(s));
  });

  it('keeps one rollover counter and replay list per SSRC', () => {
    const sender = new SrtpContext(keys());
    const receiver = new SrtpContext(keys());
    const a = sender.protectRtp(rtp(5, 1));
    const b = sender.protectRtp(rtp(5, 2));
    assert.ok(receiver.unprotectRtp(a));
    assert.ok(receiver.unprotectRtp(b), 'the same sequence number from another SSRC is no replay');
  });

  it('SRTCP (§3.4): round trip, encrypted, with an index; tampering and replays dropped', () => {
    const sender = new SrtpContext(keys());
    const receiver = new SrtpContext(keys());
    // A receiver report without report blocks: V=2, RC=0, PT=201, length 1, SSRC.
    const rr = hex('80c90001deadbeef');
    const sr = hex('80c80006deadbeef' + '00112233445566778899aabbccddeeff0011223344556677');
    const first = sender.protectRtcp(sr);
    assert.equal(first.length, sr.length + 4 + 10);
    assert.notDeepEqual(first.subarray(8, sr.length), sr.subarray(8));
    assert.equal(first.readUInt32BE(sr.length), 0x8000_0000, 'E flag, index 0');
    assert.deepEqual(receiver.unprotectRtcp(first), sr);
    assert.equal(receiver.unprotectRtcp(first), undefined, 'a replay');
    const second = sender.protectRtcp(rr);
    assert.equal(second.readUInt32BE(rr.length), 0x8000_0001);
    const bad = Buffer.from(second);
    bad[bad.length - 1]! ^= 1;
    assert.equal(receiver.unprotectRtcp(bad), undefined);
    assert.deepEqual(receiver.unprotectRtcp(second), rr);
  });

  it('ReplayWindow: fresh until accepted, then only newer or unseen ones inside the window', () => {
    const w = new ReplayWindow(4);
    assert.ok(w.fresh(10));
    w.accept(10);
    assert.equal(w.fresh(10), false);
    assert.ok(w.fresh(8));
    assert.equal(w.fresh(6), false);
    w.accept(14);
    assert.ok(w.fresh(11));
    assert.equal(w.fresh(10), false, 'slid out of the window');
  });
});
