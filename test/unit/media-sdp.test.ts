/**
 * The SDP model, parser and serializer (RFC 8866) and its typed views: round trips of real-world SDPs, the
 * attributes callhook reads (rtpmap/fmtp, direction, ICE, DTLS, mid, rtcp-mux, ptime, candidates), and errors that
 * name the line at fault.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaError } from '../../src/media/errors.ts';
import {
  fingerprints, iceParameters, limitOpusRate, mediaCandidates, mediaDirection, mid, parseCandidate, parseSdp, payloadFormats, ptime,
  rtcpAttribute, rtcpMux, serializeCandidate, serializeSdp, setMediaDirection, setupRole,
} from '../../src/media/sdp/index.ts';
import {
  CHROME_OFFER, GATEWAY_OFFER, PHONE_HOLD_INACTIVE, PHONE_HOLD_SENDONLY, PHONE_HOLD_ZERO_ADDRESS, PHONE_OFFER,
} from './media-sdp-fixtures.ts';

describe('SDP round trip (RFC 8866 §5)', () => {
  const samples = { CHROME_OFFER, PHONE_OFFER, PHONE_HOLD_SENDONLY, PHONE_HOLD_INACTIVE, PHONE_HOLD_ZERO_ADDRESS, GATEWAY_OFFER };
  for (const [name, text] of Object.entries(samples)) {
    it(`serializes ${name} back byte for byte`, () => {
      assert.equal(serializeSdp(parseSdp(text)), text);
    });
  }

  it('reads bare LF line ends and writes CRLF', () => {
    assert.equal(serializeSdp(parseSdp(PHONE_OFFER.replaceAll('\r\n', '\n'))), PHONE_OFFER);
  });

  it('keeps every optional session line in grammar order', () => {
    const text = [
      'v=0', 'o=alice 1 2 IN IP6 2001:db8::1', 's=Call', 'i=A call', 'u=https://example.com/', 'e=a@example.com',
      'p=+1 555 0100', 'c=IN IP6 2001:db8::1', 'b=AS:64', 't=0 0', 'r=7d 1h 0 25h', 'z=2882844526 -1h', 'k=prompt',
      'a=recvonly', 'm=audio 5004/2 RTP/AVP 0', 'i=voice', 'c=IN IP6 2001:db8::2', 'b=TIAS:64000', 'k=prompt', 'a=ptime:30',
    ].join('\r\n') + '\r\n';
    const sdp = parseSdp(text);
    assert.equal(sdp.information, 'A call');
    assert.deepEqual(sdp.times, [{ start: '0', stop: '0', repeats: ['7d 1h 0 25h'], zone: '2882844526 -1h' }]);
    assert.deepEqual(sdp.bandwidths, [{ type: 'AS', value: 64 }]);
    assert.equal(sdp.media[0]!.portCount, 2);
    assert.deepEqual(sdp.media[0]!.connections, [{ netType: 'IN', addrType: 'IP6', address: '2001:db8::2' }]);
    assert.equal(serializeSdp(sdp), text);
  });

  it('keeps 64-bit session ids and versions exactly (Chrome uses them)', () => {
    const sdp = parseSdp(CHROME_OFFER);
    assert.equal(sdp.origin.sessionId, '4611731400430051336');
    assert.equal(sdp.origin.sessionVersion, '2');
  });

  it('keeps an attribute value with colons and a leading space as it is', () => {
    const sdp = parseSdp(CHROME_OFFER);
    assert.deepEqual(sdp.attributes[2], { name: 'msid-semantic', value: ' WMS 5b0b7c7e-stream' });
    assert.deepEqual(sdp.media[0]!.attributes.find((a) => a.name === 'extmap'), {
      name: 'extmap', value: '1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    });
  });
});

describe('SDP parse errors name the line', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty text', '', /ends before its v= line/],
    ['v= not first', 'o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n', /line 1: expected v= here, got o=/],
    ['version 1', 'v=1\r\n', /line 1: v= must be 0/],
    ['short o=', 'v=0\r\no=- 1 IN IP4 1.2.3.4\r\ns=-\r\n', /line 2: o= needs/],
    ['o= with a non-numeric version', 'v=0\r\no=- 1 x IN IP4 1.2.3.4\r\ns=-\r\n', /line 2: o= session id and version must be numbers/],
    ['no s=', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=0 0\r\n', /line 3: expected s= here, got t=/],
    ['c= with two fields', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN 1.2.3.4\r\n', /line 4: c= needs/],
    ['m= without formats', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP\r\n', /line 5: m= needs/],
    ['m= port too large', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n', /line 5: m= port must be 0–65535/],
    ['t= inside media', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\nt=0 0\r\n', /line 5: 't=' is not allowed inside a media description/],
    ['r= before t=', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nr=7d 1h 0\r\n', /line 4: r= must follow a t= line/],
    ['an unknown type letter', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nx=1\r\n', /line 4: 'x=' is not allowed here/],
    ['space before =', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\na =sendrecv\r\n', /line 4: expected '<letter>=<value>'/],
    ['b= without a number', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nb=AS:lots\r\n', /line 4: b= needs/],
    ['two session c= lines', 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.1.1.1\r\nc=IN IP4 2.2.2.2\r\n', /line 5: more than one session-level c= line/],
  ];
  for (const [name, text, message] of cases) {
    it(`rejects ${name}`, () => {
      assert.throws(() => parseSdp(text), (err: unknown) => err instanceof MediaError && err.code === 'MEDIA_SDP_PARSE' && message.test(err.message));
    });
  }
});

describe('payload formats (RFC 8866 §6.6, §6.15; RFC 3551 §6)', () => {
  it("lists Chrome's audio formats in offer order with rtpmap and fmtp", () => {
    const formats = payloadFormats(parseSdp(CHROME_OFFER).media[0]!);
    assert.deepEqual(formats.map((f) => [f.payloadType, f.encoding, f.clockRate]), [
      [111, 'opus', 48000], [63, 'red', 48000], [9, 'G722', 8000], [0, 'PCMU', 8000], [8, 'PCMA', 8000],
      [13, 'CN', 8000], [110, 'telephone-event', 48000], [126, 'telephone-event', 8000],
    ]);
    assert.equal(formats[0]!.channels, 2);
    assert.equal(formats[0]!.fmtp, 'minptime=10;useinbandfec=1');
  });

  it('takes fmtp lines that come before their rtpmap', () => {
    const te = payloadFormats(parseSdp(PHONE_OFFER).media[0]!).find((f) => f.payloadType === 101);
    assert.deepEqual(te, { payloadType: 101, encoding: 'telephone-event', clockRate: 8000, fmtp: '0-15' });
  });

  it('knows static payload types without rtpmap lines', () => {
    assert.deepEqual(payloadFormats(parseSdp(GATEWAY_OFFER).media[0]!), [
      { payloadType: 0, encoding: 'PCMU', clockRate: 8000, channels: 1 },
      { payloadType: 8, encoding: 'PCMA', clockRate: 8000, channels: 1 },
    ]);
  });

  it("limits Opus to the SIP side's rate (RFC 7587 §6.1): maxplaybackrate and sprop-maxcapturerate, the other parameters kept, an earlier limit replaced", () => {
    const media = parseSdp(CHROME_OFFER).media[0]!;
    limitOpusRate(media, 16000);
    limitOpusRate(media, 8000);
    const formats = payloadFormats(media);
    assert.equal(formats[0]!.fmtp, 'minptime=10;useinbandfec=1;maxplaybackrate=8000;sprop-maxcapturerate=8000');
    assert.equal(formats.find((f) => f.payloadType === 63)!.fmtp, '111/111', 'other formats untouched');
    const noFmtp = parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 UDP/TLS/RTP/SAVPF 96 0\r\na=rtpmap:96 opus/48000/2\r\n').media[0]!;
    limitOpusRate(noFmtp, 16000);
    assert.equal(payloadFormats(noFmtp)[0]!.fmtp, 'maxplaybackrate=16000;sprop-maxcapturerate=16000');
  });

  it('leaves out a dynamic payload type that has no rtpmap', () => {
    const sdp = parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 96\r\n');
    assert.deepEqual(payloadFormats(sdp.media[0]!).map((f) => f.payloadType), [0]);
  });
});

describe('direction (RFC 8866 §6.7)', () => {
  it('reads the media level, then the session level, else sendrecv', () => {
    const hold = parseSdp(PHONE_HOLD_SENDONLY);
    assert.equal(mediaDirection(hold, hold.media[0]!), 'sendonly');
    const gw = parseSdp(GATEWAY_OFFER);
    assert.equal(mediaDirection(gw, gw.media[0]!), 'sendonly');
    const zero = parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n');
    assert.equal(mediaDirection(zero, zero.media[0]!), 'sendrecv');
  });

  it('replaces the direction attribute, keeping one', () => {
    const sdp = parseSdp(PHONE_OFFER);
    setMediaDirection(sdp.media[0]!, 'inactive');
    assert.equal(mediaDirection(sdp, sdp.media[0]!), 'inactive');
    assert.equal(sdp.media[0]!.attributes.filter((a) => ['sendrecv', 'inactive'].includes(a.name)).length, 1);
  });
});

describe('ICE, DTLS and stream attributes', () => {
  const chrome = parseSdp(CHROME_OFFER);
  const audio = chrome.media[0]!;

  it('reads ICE credentials and options (RFC 8839 §5.4, §5.6)', () => {
    assert.deepEqual(iceParameters(chrome, audio), { ufrag: 'Xq4v', pwd: '0hF5JqkqQyZ4xMcP3sJf0j6H', lite: false, options: ['trickle'] });
    const lite = parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\na=ice-lite\r\na=ice-ufrag:u\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=ice-pwd:p\r\n');
    assert.deepEqual(iceParameters(lite, lite.media[0]!), { ufrag: 'u', pwd: 'p', lite: true, options: [] });
  });

  it('reads host and server-reflexive candidates (RFC 8839 §5.1)', () => {
    const [host, srflx] = mediaCandidates(audio);
    assert.deepEqual(host, {
      foundation: '1467250027', component: 1, transport: 'udp', priority: 2122260223, address: '192.168.1.20',
      port: 46243, type: 'host', extensions: [['generation', '0'], ['network-id', '1']],
    });
    assert.equal(srflx!.type, 'srflx');
    assert.equal(srflx!.relatedAddress, '192.168.1.20');
    assert.equal(srflx!.relatedPort, 46243);
  });

  it('writes candidates back as they were', () => {
    for (const value of audio.attributes.filter((a) => a.name === 'candidate').map((a) => a.value!)) {
      assert.equal(serializeCandidate(parseCandidate(value)), value);
    }
  });

  it('rejects malformed candidates with MEDIA_SDP_PARSE', () => {
    for (const bad of ['1 1 udp 1 1.2.3.4 5000 host', '1 1 udp x 1.2.3.4 5000 typ host', '1 1 udp 1 1.2.3.4 5000 typ bogus', '1 1 udp 1 1.2.3.4 5000 typ host raddr']) {
      assert.throws(() => parseCandidate(bad), { name: 'MediaError', code: 'MEDIA_SDP_PARSE' }, bad);
    }
  });

  it('reads the DTLS fingerprint and setup role (RFC 8122 §5, RFC 4145 §4)', () => {
    assert.deepEqual(fingerprints(chrome, audio), [{
      algorithm: 'sha-256',
      value: '4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF',
    }]);
    assert.equal(setupRole(chrome, audio), 'actpass');
    const bad = parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=setup:both\r\na=fingerprint:sha-256 XYZ\r\n');
    assert.throws(() => setupRole(bad, bad.media[0]!), /a=setup:both/);
    assert.throws(() => fingerprints(bad, bad.media[0]!), /a=fingerprint:sha-256 XYZ/);
  });

  it('reads mid, rtcp-mux, a=rtcp and ptime', () => {
    assert.equal(mid(audio), '0');
    assert.equal(mid(chrome.media[1]!), '1');
    assert.equal(rtcpMux(audio), true);
    assert.deepEqual(rtcpAttribute(audio), { port: 9, address: '0.0.0.0' });
    const phone = parseSdp(PHONE_OFFER).media[0]!;
    assert.equal(rtcpMux(phone), false);
    assert.equal(rtcpAttribute(phone), undefined);
    assert.equal(ptime(phone), 20);
    assert.equal(ptime(audio), undefined);
  });
});
