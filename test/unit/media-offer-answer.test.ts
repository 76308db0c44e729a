/**
 * Offer/answer (RFC 3264) on both legs: the SIP side's RTP/AVP session (our offer, the peer's answer, answering the
 * peer's offers including hold per §8.4, the o= version rule of §8), the answerer's direction table (§6.1), and the
 * browser side's restriction to one codec (G.711 or G.722) plus telephone-event/8000.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaError, NoCommonCodecError } from '../../src/media/errors.ts';
import {
  answerDirection, attributeValue, completeBrowserAnswer, liftIceLite, mediaCandidates, mediaDirection, mid, parseSdp,
  payloadFormats, prepareBrowserOffer, readBrowserAnswer, serializeSdp, SipSdpSession, type Direction,
} from '../../src/media/sdp/index.ts';
import {
  CHROME_OFFER, G729_ONLY_OFFER, GATEWAY_OFFER, PHONE_HOLD_INACTIVE, PHONE_HOLD_SENDONLY, PHONE_HOLD_ZERO_ADDRESS,
  PHONE_OFFER,
} from './media-sdp-fixtures.ts';

const isNoCommonCodecs = (err: unknown) => err instanceof NoCommonCodecError && err.message === 'No common codecs' && err.code === 'MEDIA_NO_COMMON_CODEC';

function phoneAnswer(lines: string[]): ReturnType<typeof parseSdp> {
  return parseSdp(['v=0', 'o=- 9 9 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', ...lines].join('\r\n') + '\r\n');
}

describe('answerDirection (RFC 3264 §6.1)', () => {
  const all: Direction[] = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];
  const expected: Record<Direction, Record<Direction, Direction>> = {
    // offered → wanted → answer
    sendrecv: { sendrecv: 'sendrecv', sendonly: 'sendonly', recvonly: 'recvonly', inactive: 'inactive' },
    sendonly: { sendrecv: 'recvonly', sendonly: 'inactive', recvonly: 'recvonly', inactive: 'inactive' },
    recvonly: { sendrecv: 'sendonly', sendonly: 'sendonly', recvonly: 'inactive', inactive: 'inactive' },
    inactive: { sendrecv: 'inactive', sendonly: 'inactive', recvonly: 'inactive', inactive: 'inactive' },
  };
  for (const offered of all) {
    for (const wanted of all) {
      it(`answers ${offered} with ${expected[offered][wanted]} when it wants ${wanted}`, () => {
        assert.equal(answerDirection(offered, wanted), expected[offered][wanted]);
      });
    }
  }
});

describe('SipSdpSession: our offer', () => {
  it('offers PCMU, PCMA and telephone-event/8000 on RTP/AVP at publicIp and the RTP port', () => {
    const s = new SipSdpSession({ address: '203.0.113.5', port: 30000 });
    const sdp = s.createOffer();
    const id = sdp.origin.sessionId;
    assert.equal(serializeSdp(sdp), [
      'v=0', `o=- ${id} 1 IN IP4 203.0.113.5`, 's=callhook', 'c=IN IP4 203.0.113.5', 't=0 0',
      'm=audio 30000 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:20', 'a=sendrecv',
    ].join('\r\n') + '\r\n');
  });

  it('writes IPv6 addresses as IP6', () => {
    const sdp = new SipSdpSession({ address: '2001:db8::5', port: 30002 }).createOffer();
    assert.deepEqual(sdp.connection, { netType: 'IN', addrType: 'IP6', address: '2001:db8::5' });
  });

  it('can leave telephone-event out and use another payload type for it', () => {
    assert.deepEqual(new SipSdpSession({ address: '203.0.113.5', port: 1, telephoneEvent: false }).createOffer().media[0]!.formats, ['0', '8']);
    assert.deepEqual(new SipSdpSession({ address: '203.0.113.5', port: 1, codecs: ['PCMA'], telephoneEvent: 96 }).createOffer().media[0]!.formats, ['8', '96']);
  });

  it('keeps the o= session id and raises the version only when the SDP changes (§8)', () => {
    const s = new SipSdpSession({ address: '203.0.113.5', port: 30000 });
    const first = s.createOffer();
    const again = s.createOffer();
    const hold = s.createOffer('sendonly');
    assert.equal(again.origin.sessionId, first.origin.sessionId);
    assert.equal(again.origin.sessionVersion, first.origin.sessionVersion);
    assert.equal(hold.origin.sessionId, first.origin.sessionId);
    assert.equal(BigInt(hold.origin.sessionVersion), BigInt(first.origin.sessionVersion) + 1n);
    assert.equal(mediaDirection(hold, hold.media[0]!), 'sendonly');
  });

  it('reads a PCMU answer: codec, telephone-event, destination, direction', () => {
    const s = new SipSdpSession({ address: '203.0.113.5', port: 30000 });
    s.createOffer();
    const n = s.readAnswer(phoneAnswer(['m=audio 11780 RTP/AVP 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=ptime:20']));
    assert.deepEqual(n, {
      codec: { payloadType: 0, encoding: 'PCMU', clockRate: 8000, channels: 1 },
      telephoneEvent: { payloadType: 101, encoding: 'telephone-event', clockRate: 8000, fmtp: '0-15' },
      receive: { codec: 0, telephoneEvent: 101 },
      remote: { address: '192.0.2.10', port: 11780, rtcpAddress: '192.0.2.10', rtcpPort: 11781 },
      rtcpMux: false,
      direction: 'sendrecv',
      ptime: 20,
    });
  });

  it('sends telephone-event with the payload type of the answer and expects ours', () => {
    const s = new SipSdpSession({ address: '203.0.113.5', port: 30000 });
    s.createOffer();
    const n = s.readAnswer(phoneAnswer(['m=audio 11780 RTP/AVP 8 96', 'a=rtpmap:96 telephone-event/8000']));
    assert.equal(n.codec.encoding, 'PCMA');
    assert.equal(n.telephoneEvent!.payloadType, 96);
    assert.deepEqual(n.receive, { codec: 8, telephoneEvent: 101 });
  });

  it('offers only the chosen law afterwards, so the relay keeps passing it through', () => {
    const s = new SipSdpSession({ address: '203.0.113.5', port: 30000 });
    s.createOffer();
    s.readAnswer(phoneAnswer(['m=audio 11780 RTP/AVP 8']));
    assert.deepEqual(s.createOffer('sendonly').media[0]!.formats, ['8', '101']);
  });

  it('holds: our sendonly offer answered recvonly leaves us sendonly; inactive leaves us inactive (§8.4)', () => {
    const s = new SipSdpSession({ address: '203.0.113.5', port: 30000 });
    s.createOffer('sendonly');
    assert.equal(s.readAnswer(phoneAnswer(['m=audio 11780 RTP/AVP 0', 'a=recvonly'])).direction, 'sendonly');
    s.createOffer('sendonly');
    assert.equal(s.readAnswer(phoneAnswer(['m=audio 11780 RTP/AVP 0', 'a=inactive'])).direction, 'inactive');
    s.createOffer('sendrecv');
    assert.equal(s.readAnswer(phoneAnswer(['m=audio 11780 RTP/AVP 0', 'a=sendrecv'])).direction, 'sendrecv');
  });

  it('fails with No common codecs when the answer rejects the stream or picks a law we did not offer', () => {
    const s = new SipSdpSession({ address: '203.0.113.5', port: 30000, codecs: ['PCMU'] });
    s.createOffer();
    assert.throws(() => s.readAnswer(phoneAnswer(['m=audio 0 RTP/AVP 0'])), isNoCommonCodecs);
    assert.throws(() => s.readAnswer(phoneAnswer(['m=audio 11780 RTP/AVP 8'])), isNoCommonCodecs);
    assert.throws(() => s.readAnswer(phoneAnswer(['m=audio 11780 RTP/AVP 18', 'a=rtpmap:18 G729/8000'])), isNoCommonCodecs);
  });

  it('refuses readAnswer before any offer', () => {
    assert.throws(() => new SipSdpSession({ address: '203.0.113.5', port: 1 }).readAnswer(phoneAnswer(['m=audio 1 RTP/AVP 0'])), RangeError);
  });
});

describe("SipSdpSession: answering the peer's offer", () => {
  it("takes the offerer's preferred law and its telephone-event payload type (§6.1)", () => {
    const s = new SipSdpSession({ address: '203.0.113.5', port: 30004 });
    const { sdp, media } = s.createAnswer(parseSdp(PHONE_OFFER));
    assert.equal(media.codec.encoding, 'PCMA');
    assert.deepEqual(media.receive, { codec: 8, telephoneEvent: 101 });
    assert.deepEqual(media.remote, { address: '192.0.2.10', port: 11780, rtcpAddress: '192.0.2.10', rtcpPort: 11781 });
    assert.equal(media.direction, 'sendrecv');
    const m = sdp.media[0]!;
    assert.deepEqual([m.port, m.protocol, m.formats], [30004, 'RTP/AVP', ['8', '101']]);
    assert.equal(mediaDirection(sdp, m), 'sendrecv');
  });

  it('takes the law the browser uses when that is all we accept', () => {
    const s = new SipSdpSession({ address: '203.0.113.5', port: 30004, codecs: ['PCMU'] });
    assert.equal(s.createAnswer(parseSdp(PHONE_OFFER)).media.codec.encoding, 'PCMU');
  });

  it('takes G.722 at its RFC 3551 clock rate of 8000, and offers it as G722/8000 on payload type 9', () => {
    const s = new SipSdpSession({ address: '203.0.113.5', port: 30004, codecs: ['G722'] });
    const { sdp, media } = s.createAnswer(parseSdp(PHONE_OFFER));
    assert.deepEqual([media.codec.payloadType, media.codec.encoding, media.codec.clockRate], [9, 'G722', 8000]);
    assert.deepEqual(sdp.media[0]!.formats, ['9', '101']);
    const offer = new SipSdpSession({ address: '203.0.113.5', port: 30004, codecs: ['G722'] }).createOffer();
    assert.ok(serializeSdp(offer).includes('a=rtpmap:9 G722/8000\r\n'));
  });

  it('does not take a G722/16000 (the clock rate RFC 3551 §4.5.2 rules out)', () => {
    const wrong = parseSdp(PHONE_OFFER.replace('RTP/AVP 8 0 18 9 101', 'RTP/AVP 9 101').replace('9 G722/8000', '9 G722/16000'));
    assert.throws(() => new SipSdpSession({ address: '203.0.113.5', port: 30004, codecs: ['G722'] }).createAnswer(wrong), isNoCommonCodecs);
  });

  it('answers every offered stream, rejecting the ones not used with port 0 (§6)', () => {
    const offer = parseSdp(PHONE_OFFER.replace('a=sendrecv\r\n', 'a=sendrecv\r\nm=video 11790 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n'));
    const { sdp } = new SipSdpSession({ address: '203.0.113.5', port: 30004 }).createAnswer(offer);
    assert.equal(sdp.media.length, 2);
    assert.deepEqual([sdp.media[1]!.type, sdp.media[1]!.port, sdp.media[1]!.formats], ['video', 0, ['96']]);
  });

  it('answers a peer that holds us with sendonly as recvonly (§8.4)', () => {
    const s = new SipSdpSession({ address: '203.0.113.5', port: 30004 });
    s.createAnswer(parseSdp(PHONE_OFFER));
    const { sdp, media } = s.createAnswer(parseSdp(PHONE_HOLD_SENDONLY));
    assert.equal(mediaDirection(sdp, sdp.media[0]!), 'recvonly');
    assert.equal(media.direction, 'recvonly');
    assert.ok(media.remote, 'the address stays: RTCP still flows');
  });

  it('answers inactive with inactive', () => {
    const { media } = new SipSdpSession({ address: '203.0.113.5', port: 30004 }).createAnswer(parseSdp(PHONE_HOLD_INACTIVE));
    assert.equal(media.direction, 'inactive');
  });

  it('sends nothing to c=0.0.0.0 (RFC 2543 hold)', () => {
    const { sdp, media } = new SipSdpSession({ address: '203.0.113.5', port: 30004 }).createAnswer(parseSdp(PHONE_HOLD_ZERO_ADDRESS));
    assert.equal(media.remote, undefined);
    assert.equal(media.direction, 'recvonly');
    assert.equal(mediaDirection(sdp, sdp.media[0]!), 'recvonly');
  });

  it('stays sendonly while we hold and the peer re-offers sendrecv', () => {
    const { media } = new SipSdpSession({ address: '203.0.113.5', port: 30004 }).createAnswer(parseSdp(PHONE_OFFER), 'sendonly');
    assert.equal(media.direction, 'sendonly');
  });

  it('reads a session-level direction and static payload types without rtpmap', () => {
    const { media } = new SipSdpSession({ address: '203.0.113.5', port: 30004 }).createAnswer(parseSdp(GATEWAY_OFFER));
    assert.equal(media.codec.encoding, 'PCMU');
    assert.equal(media.telephoneEvent, undefined);
    assert.equal(media.direction, 'recvonly');
  });

  it('accepts rtcp-mux when offered (RFC 5761 §5.1.1)', () => {
    const offer = parseSdp(PHONE_OFFER.replace('a=sendrecv', 'a=sendrecv\r\na=rtcp-mux'));
    const { sdp, media } = new SipSdpSession({ address: '203.0.113.5', port: 30004 }).createAnswer(offer);
    assert.equal(media.rtcpMux, true);
    assert.equal(media.remote!.rtcpPort, 11780);
    assert.equal(attributeValue(sdp.media[0]!.attributes, 'rtcp-mux'), '');
  });

  it('fails with No common codecs for G.729 only, and for SRTP-only (RTP/SAVP) offers', () => {
    const s = new SipSdpSession({ address: '203.0.113.5', port: 30004 });
    assert.throws(() => s.createAnswer(parseSdp(G729_ONLY_OFFER)), (err: unknown) => isNoCommonCodecs(err) && /G729\/8000/.test((err as NoCommonCodecError).detail));
    assert.throws(() => s.createAnswer(parseSdp(PHONE_OFFER.replace('RTP/AVP', 'RTP/SAVP'))), isNoCommonCodecs);
  });
});

describe('browser side (JSEP through the WCS protocol)', () => {
  const chrome = parseSdp(CHROME_OFFER);

  it('shows the engine one audio stream with one G.711 law and telephone-event/8000 only', () => {
    const { sdp, choice } = prepareBrowserOffer(chrome, ['PCMU', 'PCMA']);
    assert.equal(choice.index, 0);
    assert.equal(sdp.media.length, 1);
    const m = sdp.media[0]!;
    assert.deepEqual(m.formats, ['0', '126']);
    assert.deepEqual(payloadFormats(m).map((f) => `${f.payloadType} ${f.encoding}/${f.clockRate}`), ['0 PCMU/8000', '126 telephone-event/8000']);
    assert.equal(m.attributes.some((a) => a.name === 'rtcp-fb' || a.name === 'fmtp'), false, 'Opus and RED lines are gone');
    assert.equal(attributeValue(sdp.attributes, 'group'), 'BUNDLE 0');
    assert.equal(mediaCandidates(m).length, 2, 'the rest of the stream is untouched');
    assert.equal(chrome.media.length, 2, 'the input is not changed');
  });

  it('picks our preferred law, not the browser order', () => {
    assert.deepEqual(prepareBrowserOffer(chrome, ['PCMA', 'PCMU']).sdp.media[0]!.formats, ['8', '126']);
  });

  it('keeps G.722 when it is our preferred codec', () => {
    assert.deepEqual(prepareBrowserOffer(chrome, ['G722', 'PCMU']).sdp.media[0]!.formats, ['9', '126']);
  });

  it('fails with No common codecs when the browser offers neither law we can pass', () => {
    const opusOnly = parseSdp(CHROME_OFFER.replace('111 63 9 0 8 13 110 126', '111 63 9 13 110 126'));
    assert.throws(() => prepareBrowserOffer(opusOnly, ['PCMU', 'PCMA']), isNoCommonCodecs);
  });

  it('completes the answer: video rejected with port 0 and its mid, the default candidate in c= and m=', () => {
    const engineAnswer = parseSdp([
      'v=0', 'o=- 1 0 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 0 126',
      'c=IN IP4 0.0.0.0', 'a=candidate:1 1 udp 2116026367 203.0.113.5 35002 typ host', 'a=ice-ufrag:ab', 'a=ice-pwd:cd',
      'a=ice-lite', 'a=setup:active', 'a=mid:0', 'a=rtcp:9 IN IP4 0.0.0.0', 'a=rtcp-mux', 'a=sendrecv',
      'a=rtpmap:0 PCMU/8000', 'a=rtpmap:126 telephone-event/8000',
    ].join('\r\n') + '\r\n');
    const answer = completeBrowserAnswer(engineAnswer, chrome, 0);
    assert.equal(answer.media.length, 2);
    const [audio, video] = answer.media as [typeof answer.media[0], typeof answer.media[0]];
    assert.equal(audio.port, 35002);
    assert.deepEqual(audio.connections, [{ netType: 'IN', addrType: 'IP4', address: '203.0.113.5' }]);
    assert.equal(attributeValue(audio.attributes, 'rtcp'), '35002 IN IP4 203.0.113.5');
    assert.deepEqual([video.type, video.port, video.formats, mid(video)], ['video', 0, ['96', '97'], '1']);
    assert.equal(attributeValue(answer.attributes, 'ice-lite'), '', 'ice-lite moved to session level');
    assert.equal(attributeValue(audio.attributes, 'ice-lite'), undefined);
    // The browser can read it back.
    assert.equal(serializeSdp(parseSdp(serializeSdp(answer))), serializeSdp(answer));
  });

  it('keeps a single session-level ice-lite', () => {
    const sdp = parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\na=ice-lite\r\nm=audio 9 RTP/AVP 0\r\na=ice-lite\r\n');
    liftIceLite(sdp);
    assert.equal(sdp.attributes.filter((a) => a.name === 'ice-lite').length, 1);
    assert.equal(sdp.media[0]!.attributes.length, 0);
  });

  const WEBRTC_TRANSPORT = 'a=ice-ufrag:Ab12\r\na=ice-pwd:0123456789abcdefghijkl\r\na=fingerprint:sha-256 4A:AD:B3\r\n';

  it("reads the law the browser's answer puts first", () => {
    const answer = parseSdp(`v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n${WEBRTC_TRANSPORT}m=audio 9 UDP/TLS/RTP/SAVPF 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n`);
    const choice = readBrowserAnswer(answer, ['PCMU', 'PCMA']);
    assert.equal(choice.codec.encoding, 'PCMA');
    assert.equal(choice.telephoneEvent!.payloadType, 101);
    assert.throws(() => readBrowserAnswer(answer, []), isNoCommonCodecs);
  });

  it('refuses a browser SDP without ICE credentials or DTLS fingerprint, naming what is missing', () => {
    const head = 'v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\n';
    const audio = 'm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n';
    const refused = (what: RegExp) => (err: unknown) => err instanceof MediaError && err.code === 'MEDIA_SDP_PARSE' && what.test(err.message);
    const noIce = parseSdp(`${head}a=fingerprint:sha-256 4A:AD:B3\r\n${audio}`);
    assert.throws(() => prepareBrowserOffer(noIce, ['PCMU']), refused(/no a=ice-ufrag and a=ice-pwd/));
    assert.throws(() => readBrowserAnswer(noIce, ['PCMU']), refused(/no a=ice-ufrag and a=ice-pwd/));
    const noFingerprint = parseSdp(`${head}a=ice-ufrag:Ab12\r\na=ice-pwd:0123456789abcdefghijkl\r\n${audio}`);
    assert.throws(() => prepareBrowserOffer(noFingerprint, ['PCMU']), refused(/no a=fingerprint/));
    const badFingerprint = parseSdp(`${head}${audio}a=ice-ufrag:Ab12\r\na=ice-pwd:0123456789abcdefghijkl\r\na=fingerprint:sha-256 zz\r\n`);
    assert.throws(() => readBrowserAnswer(badFingerprint, ['PCMU']), refused(/a=fingerprint:sha-256 zz/));
    // Media-level credentials count as much as session-level ones.
    assert.equal(prepareBrowserOffer(parseSdp(`${head}${audio}${WEBRTC_TRANSPORT}`), ['PCMU']).choice.codec.encoding, 'PCMU');
  });
});
