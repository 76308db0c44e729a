/**
 * SDES (RFC 4568) on the SIP side's SDP: the a=crypto lines we offer under each `sipSrtp` policy, the keys an answer
 * or an offer leaves both directions with, re-keying on every new exchange (§7.1.4), `No common crypto` where the
 * policy and the peer cannot agree, and the redaction of keys in SIP text (logs, `sipMessageRaw`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NoCommonCodecError, NoCommonCryptoError } from '../../src/media/errors.ts';
import { parseSdp, serializeSdp, SipSdpSession, usableCrypto, type SrtpPolicy } from '../../src/media/sdp/index.ts';
import { redactSipText } from '../../src/log.ts';

const KEY_80 = Buffer.alloc(30, 0x11).toString('base64');
const KEY_32 = Buffer.alloc(30, 0x22).toString('base64');

function peer(protocol: string, crypto: string[]): ReturnType<typeof parseSdp> {
  return parseSdp([
    'v=0', 'o=- 9 9 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', `m=audio 4000 ${protocol} 0 101`,
    'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', ...crypto.map((c) => `a=crypto:${c}`), 'a=sendrecv',
  ].join('\r\n') + '\r\n');
}

const session = (srtp: SrtpPolicy) => new SipSdpSession({ address: '203.0.113.5', port: 30000, srtp });
const isNoCommonCrypto = (err: unknown) => err instanceof NoCommonCryptoError && err.message === 'No common crypto' && err.code === 'MEDIA_NO_COMMON_CRYPTO';

describe('SDES: our offer', () => {
  it('off: RTP/AVP without a=crypto', () => {
    const m = session('off').createOffer().media[0]!;
    assert.equal(m.protocol, 'RTP/AVP');
    assert.equal(m.attributes.some((a) => a.name === 'crypto'), false);
  });

  it('optional: RTP/AVP with both suites (best-effort); required: RTP/SAVP with both', () => {
    for (const [policy, protocol] of [['optional', 'RTP/AVP'], ['required', 'RTP/SAVP']] as const) {
      const m = session(policy).createOffer().media[0]!;
      assert.equal(m.protocol, protocol);
      const lines = usableCrypto(m);
      assert.deepEqual(lines.map((l) => [l.tag, l.keys.suite]), [[1, 'AES_CM_128_HMAC_SHA1_80'], [2, 'AES_CM_128_HMAC_SHA1_32']]);
      assert.notDeepEqual(lines[0]!.keys.masterKey, lines[1]!.keys.masterKey, 'each line has its own key');
    }
  });

  it('reads an SDES answer: we send with our key of the chosen tag, receive with theirs', () => {
    const s = session('required');
    const offer = usableCrypto(s.createOffer().media[0]!);
    const n = s.readAnswer(peer('RTP/SAVP', [`2 AES_CM_128_HMAC_SHA1_32 inline:${KEY_32}`]));
    assert.deepEqual(n.srtp?.send, offer[1]!.keys);
    assert.equal(n.srtp?.receive.suite, 'AES_CM_128_HMAC_SHA1_32');
    assert.deepEqual(n.srtp?.receive.masterKey, Buffer.alloc(16, 0x22));
    assert.deepEqual(n.srtp?.receive.masterSalt, Buffer.alloc(14, 0x22));
  });

  it('optional: a plain answer gives plain RTP; required: it fails No common crypto', () => {
    const optional = session('optional');
    optional.createOffer();
    assert.equal(optional.readAnswer(peer('RTP/AVP', [])).srtp, undefined);
    const required = session('required');
    required.createOffer();
    assert.throws(() => required.readAnswer(peer('RTP/AVP', [])), isNoCommonCrypto);
  });

  it('refuses an answer whose tag or suite is not one we offered', () => {
    const s = session('required');
    s.createOffer();
    assert.throws(() => s.readAnswer(peer('RTP/SAVP', [`3 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}`])), isNoCommonCrypto);
    s.createOffer();
    assert.throws(() => s.readAnswer(peer('RTP/SAVP', [`1 AES_CM_128_HMAC_SHA1_32 inline:${KEY_32}`])), isNoCommonCrypto);
  });

  it('re-keys every offer (RFC 4568 §7.1.4), keeping the profile the peer settled on', () => {
    const s = session('optional');
    const first = usableCrypto(s.createOffer().media[0]!);
    s.readAnswer(peer('RTP/AVP', [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}`]));
    const hold = s.createOffer('sendonly').media[0]!;
    assert.equal(hold.protocol, 'RTP/AVP');
    assert.notDeepEqual(usableCrypto(hold)[0]!.keys.masterKey, first[0]!.keys.masterKey);
  });
});

describe("SDES: answering the peer's offer", () => {
  it('answers an RTP/SAVP offer with its first usable suite, its tag, and a new key of ours', () => {
    for (const policy of ['optional', 'required'] as const) {
      const { sdp, media } = session(policy).createAnswer(peer('RTP/SAVP', [
        `1 AES_CM_256_HMAC_SHA1_80 inline:${Buffer.alloc(46).toString('base64')}`,
        `2 AES_CM_128_HMAC_SHA1_32 inline:${KEY_32}|2^31`,
        `3 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}`,
      ]));
      const m = sdp.media[0]!;
      assert.equal(m.protocol, 'RTP/SAVP');
      const ours = usableCrypto(m);
      assert.deepEqual(ours.map((l) => [l.tag, l.keys.suite]), [[2, 'AES_CM_128_HMAC_SHA1_32']]);
      assert.deepEqual(media.srtp?.send, ours[0]!.keys);
      assert.deepEqual(media.srtp?.receive.masterKey, Buffer.alloc(16, 0x22));
    }
  });

  it('optional answers a plain offer with plain RTP; required refuses it with No common crypto', () => {
    const { sdp, media } = session('optional').createAnswer(peer('RTP/AVP', []));
    assert.equal(media.srtp, undefined);
    assert.equal(serializeSdp(sdp).includes('a=crypto'), false);
    assert.throws(() => session('required').createAnswer(peer('RTP/AVP', [])), isNoCommonCrypto);
  });

  it('takes best-effort SRTP (RTP/AVP with a=crypto) under optional and required', () => {
    const { sdp, media } = session('required').createAnswer(peer('RTP/AVP', [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}`]));
    assert.equal(sdp.media[0]!.protocol, 'RTP/AVP');
    assert.ok(media.srtp);
  });

  it('ignores lines with an MKI or session parameters; an RTP/SAVP offer with only those fails No common crypto', () => {
    assert.throws(() => session('optional').createAnswer(peer('RTP/SAVP', [
      `1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}|2^20|1:4`,
      `2 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80} KDR=1`,
    ])), isNoCommonCrypto);
  });

  it('off: a=crypto in RTP/AVP is ignored, and an RTP/SAVP-only offer has no stream we take', () => {
    const { sdp, media } = session('off').createAnswer(peer('RTP/AVP', [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}`]));
    assert.equal(media.srtp, undefined);
    assert.equal(serializeSdp(sdp).includes('a=crypto'), false);
    assert.throws(() => session('off').createAnswer(peer('RTP/SAVP', [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}`])), NoCommonCodecError);
  });

  it("re-keys each answer, except an ACK's answer to our last SDP, which keeps that SDP's key", () => {
    const s = session('required');
    const offer = peer('RTP/SAVP', [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}`]);
    const first = s.createAnswer(offer).media.srtp!.send;
    const second = s.createAnswer(offer).media.srtp!.send;
    assert.notDeepEqual(second.masterKey, first.masterKey);
    const late = s.createAnswer(offer, 'sendrecv', true).media.srtp!.send;
    assert.deepEqual(late, second);
  });
});

describe('SDES keys never reach logs or sipMessageRaw', () => {
  it('redacts the inline key of every a=crypto line, keeping the rest of the line', () => {
    const text = [
      'INVITE sip:bob@example.com SIP/2.0', 'Authorization: Digest username="a", response="x"', '',
      'v=0', `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${KEY_80}|2^20`, `a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${KEY_32}`,
      'a=sendrecv', '',
    ].join('\r\n');
    const redacted = redactSipText(text);
    assert.equal(redacted.includes(KEY_80), false);
    assert.equal(redacted.includes(KEY_32), false);
    assert.match(redacted, /^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\[redacted\]\|2\^20\r$/m);
    assert.match(redacted, /^a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:\[redacted\]\r$/m);
    assert.match(redacted, /^Authorization: Digest \[redacted\]\r$/m);
  });
});
