/**
 * src/media/ice/lite-agent.ts: answers to the browser's checks (success, 400, 401, 487, silence), nomination and
 * re-nomination, consent freshness on a fake clock, datagrams that must be dropped without an exception, and a real
 * controlling agent (werift) reaching ICE "connected" against it over 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import {
  BINDING, ERROR_CODE, ICE_CONTROLLED, ICE_CONTROLLING, IceLiteAgent, MESSAGE_INTEGRITY, PRIORITY, USE_CANDIDATE, USERNAME,
  bindingSuccess, checkMessageIntegrity, parseStun, serializeStun, stunAttribute, type StunClass, type StunMessage,
} from '../../src/media/ice/index.ts';
import { bindUdp, closeSocket } from '../../src/media/udp.ts';
import { FakeClock } from '../support/fake-clock.ts';

const LOCAL_UFRAG = 'ours';
const LOCAL_PWD = 'our-password-of-22-chars';
const BROWSER = { address: '127.0.0.1', port: 40000 };
const ELSEWHERE = { address: '127.0.0.1', port: 40002 };

interface CheckOptions {
  username?: string;
  /** Signs with this password; undefined: no MESSAGE-INTEGRITY. */
  pwd?: string | undefined;
  useCandidate?: boolean;
  role?: typeof ICE_CONTROLLING | typeof ICE_CONTROLLED;
  class?: StunClass;
}

/** A browser's connectivity check (RFC 8445 §7.1.1): USERNAME, PRIORITY, its role, maybe USE-CANDIDATE. */
function check(o: CheckOptions = {}): Buffer {
  const attributes = [
    ...(o.username === '' ? [] : [{ type: USERNAME, value: Buffer.from(o.username ?? `${LOCAL_UFRAG}:theirs`) }]),
    { type: PRIORITY, value: Buffer.from('6e0001ff', 'hex') },
    { type: o.role ?? ICE_CONTROLLING, value: randomBytes(8) },
    ...(o.useCandidate ? [{ type: USE_CANDIDATE, value: Buffer.alloc(0) }] : []),
  ];
  const pwd = 'pwd' in o ? o.pwd : LOCAL_PWD;
  return serializeStun({ method: BINDING, class: o.class ?? 'request', transactionId: randomBytes(12), attributes }, pwd === undefined ? undefined : Buffer.from(pwd));
}

function agent(o: { remoteUfrag?: string; clock?: FakeClock } = {}): IceLiteAgent {
  return new IceLiteAgent({ localUfrag: LOCAL_UFRAG, localPwd: LOCAL_PWD, remoteUfrag: 'remoteUfrag' in o ? o.remoteUfrag : 'theirs', clock: o.clock ?? new FakeClock() });
}

/** The response's error code (RFC 8489 §14.8), or undefined for a success. */
function errorCode(response: StunMessage): number | undefined {
  const value = stunAttribute(response, ERROR_CODE)?.value;
  return value === undefined ? undefined : value[2]! * 100 + value[3]!;
}

describe('IceLiteAgent', () => {
  describe('answers', () => {
    it('a valid check with a signed success response naming its source', () => {
      const request = check();
      const response = agent().receive(request, BROWSER)!;
      assert.deepEqual(response, bindingSuccess(parseStun(request), BROWSER, Buffer.from(LOCAL_PWD)));
      assert.equal(checkMessageIntegrity(parseStun(response), Buffer.from(LOCAL_PWD)), true);
    });

    it('a check whose remote ufrag is not known yet (RFC 8445 §7.3)', () => {
      const response = parseStun(agent({ remoteUfrag: undefined }).receive(check({ username: `${LOCAL_UFRAG}:early` }), BROWSER)!);
      assert.equal(response.class, 'success');
    });

    const errors: Array<[string, CheckOptions, number]> = [
      ['no USERNAME', { username: '' }, 400],
      ['no MESSAGE-INTEGRITY', { pwd: undefined }, 400],
      ['another agent\'s ufrag', { username: 'other:theirs' }, 401],
      ['our ufrag without the colon', { username: LOCAL_UFRAG }, 401],
      ['the wrong password', { pwd: 'not-our-password-at-all' }, 401],
    ];
    for (const [name, options, code] of errors) {
      it(`${code}, unsigned, to a check with ${name}`, () => {
        const response = parseStun(agent().receive(check(options), BROWSER)!);
        assert.equal(response.class, 'error');
        assert.equal(errorCode(response), code);
        assert.equal(stunAttribute(response, MESSAGE_INTEGRITY), undefined);
      });
    }

    it('487 Role Conflict, signed, to a check that says the browser is controlled too (§7.3.1.1)', () => {
      const a = agent();
      const response = parseStun(a.receive(check({ role: ICE_CONTROLLED, useCandidate: true }), BROWSER)!);
      assert.equal(errorCode(response), 487);
      assert.equal(checkMessageIntegrity(response, Buffer.from(LOCAL_PWD)), true);
      assert.equal(a.selected, undefined);
    });
  });

  describe('drops without an answer or an exception', () => {
    const a = agent();
    const valid = check();
    const cases: Array<[string, Buffer]> = [
      ['a check with a bad FINGERPRINT', Buffer.concat([valid.subarray(0, -1), Buffer.from([valid.at(-1)! ^ 1])])],
      ['an indication (a keepalive)', check({ class: 'indication' })],
      ['a success response', check({ class: 'success' })],
      ['an RTP packet', Buffer.concat([Buffer.from([0x80, 0]), valid.subarray(2)])],
      ['a truncated check', valid.subarray(0, valid.length - 8)],
      ['an attribute running past the end', Buffer.concat([Buffer.from('0001000c', 'hex'), valid.subarray(4, 20), Buffer.from('0006ff00', 'hex'), Buffer.alloc(8)])],
      ['an empty datagram', Buffer.alloc(0)],
    ];
    for (const [name, datagram] of cases) {
      it(name, () => assert.equal(a.receive(datagram, BROWSER), undefined));
    }

    it('every prefix and every one-byte change of a check', () => {
      for (let n = 0; n < valid.length; n++) a.receive(valid.subarray(0, n), BROWSER);
      for (let i = 0; i < valid.length; i++) {
        for (const bit of [0x01, 0x80]) {
          const changed = Buffer.from(valid);
          changed[i]! ^= bit;
          a.receive(changed, BROWSER);
        }
      }
      assert.equal(a.selected, undefined);
    });
  });

  describe('nomination', () => {
    it('names the source of the latest check answered with success (checked), not of one refused', () => {
      const a = agent();
      assert.equal(a.checked, undefined);
      a.receive(check({ pwd: 'wrong password, 22 chars' }), ELSEWHERE);
      a.receive(check({ role: ICE_CONTROLLED }), ELSEWHERE);
      assert.equal(a.checked, undefined, 'a 401 or a 487 checks nothing');
      a.receive(check(), BROWSER);
      assert.deepEqual(a.checked, BROWSER);
      a.receive(check(), ELSEWHERE);
      assert.deepEqual(a.checked, ELSEWHERE);
      assert.equal(a.selected, undefined, 'a check without USE-CANDIDATE selects nothing');
    });

    it('selects the source of the first valid check with USE-CANDIDATE, once', () => {
      const a = agent();
      const selected: unknown[] = [];
      a.onSelected((remote) => selected.push(remote));
      a.receive(check(), BROWSER);
      assert.equal(a.selected, undefined);
      a.receive(check({ useCandidate: true }), BROWSER);
      a.receive(check({ useCandidate: true }), BROWSER);
      assert.deepEqual(a.selected, BROWSER);
      assert.deepEqual(selected, [BROWSER]);
    });

    it('moves the selection when the browser nominates another address', () => {
      const a = agent();
      const selected: unknown[] = [];
      a.onSelected((remote) => selected.push(remote));
      a.receive(check({ useCandidate: true }), BROWSER);
      a.receive(check({ useCandidate: true }), ELSEWHERE);
      assert.deepEqual(a.selected, ELSEWHERE);
      assert.deepEqual(selected, [BROWSER, ELSEWHERE]);
    });

    it('ignores a nomination whose remote ufrag is not the browser\'s', () => {
      const a = agent();
      assert.equal(parseStun(a.receive(check({ username: `${LOCAL_UFRAG}:stranger`, useCandidate: true }), BROWSER)!).class, 'success');
      assert.equal(a.selected, undefined);
    });

    it('keeps a nomination made before the remote ufrag is known, applying it if the ufrags agree', () => {
      const early = agent({ remoteUfrag: undefined });
      early.receive(check({ useCandidate: true }), BROWSER);
      assert.equal(early.selected, undefined);
      early.setRemoteUfrag('theirs');
      assert.deepEqual(early.selected, BROWSER);

      const stranger = agent({ remoteUfrag: undefined });
      stranger.receive(check({ useCandidate: true }), BROWSER);
      stranger.setRemoteUfrag('someone-else');
      assert.equal(stranger.selected, undefined);
    });
  });

  describe('consent freshness (RFC 7675)', () => {
    function nominated(clock: FakeClock): { a: IceLiteAgent; lost: () => number } {
      const a = new IceLiteAgent({ localUfrag: LOCAL_UFRAG, localPwd: LOCAL_PWD, remoteUfrag: 'theirs', consentTimeoutMs: 30_000, clock });
      let lost = 0;
      a.onConsentLost(() => lost++);
      a.receive(check({ useCandidate: true }), BROWSER);
      return { a, lost: () => lost };
    }

    it('is renewed by each valid check from the selected address, and lost 30 s after the last, once', () => {
      const clock = new FakeClock();
      const { a, lost } = nominated(clock);
      clock.advance(20_000);
      a.receive(check(), BROWSER);
      clock.advance(29_999);
      assert.equal(lost(), 0);
      clock.advance(1);
      assert.equal(lost(), 1);
      clock.advance(120_000);
      a.receive(check({ useCandidate: true }), ELSEWHERE);
      clock.advance(120_000);
      assert.equal(lost(), 1);
    });

    it('is not renewed by checks from elsewhere or checks that fail', () => {
      const clock = new FakeClock();
      const { a, lost } = nominated(clock);
      clock.advance(20_000);
      a.receive(check(), ELSEWHERE);
      a.receive(check({ pwd: 'not-our-password-at-all' }), BROWSER);
      a.receive(check({ role: ICE_CONTROLLED }), BROWSER);
      clock.advance(10_000);
      assert.equal(lost(), 1);
    });

    it('is not watched before a nomination, nor after close', () => {
      const clock = new FakeClock();
      const idle = agent({ clock });
      idle.receive(check(), BROWSER);
      assert.equal(clock.pendingCount, 0);
      const { a, lost } = nominated(clock);
      assert.equal(clock.pendingCount, 1);
      a.close();
      assert.equal(clock.pendingCount, 0);
      clock.advance(60_000);
      assert.equal(lost(), 0);
      assert.equal(a.receive(check(), BROWSER), undefined);
    });
  });
});

/** A controlling agent that is not ours: werift's, offering audio to an answer that says a=ice-lite. */
describe('IceLiteAgent against werift', () => {
  let socket: Socket;
  let pc: RTCPeerConnection;
  const lite = new IceLiteAgent({ localUfrag: 'callhookUfrag', localPwd: 'callhookPasswordOf22ch' });

  before(async () => {
    socket = await bindUdp('127.0.0.1', 0);
    // As the engine does: STUN by its first byte (RFC 7983 §7); the rest (werift's DTLS ClientHello) goes nowhere.
    socket.on('message', (datagram, from) => {
      if (datagram[0]! > 3) return;
      const response = lite.receive(datagram, from);
      if (response !== undefined) socket.send(response, from.port, from.address);
    });
    pc = new RTCPeerConnection({
      iceServers: [],
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceInterfaceAddresses: { udp4: '127.0.0.1' },
      codecs: { audio: [new RTCRtpCodecParameters({ mimeType: 'audio/PCMU', clockRate: 8000, payloadType: 0 })], video: [] },
    });
  });

  after(async () => {
    lite.close();
    await closeSocket(socket);
    await pc.close();
  });

  it('reaches ICE "connected", with the pair werift nominated selected on our side', async () => {
    pc.addTransceiver('audio', { direction: 'sendrecv' });
    await pc.setLocalDescription(await pc.createOffer());
    const offer = pc.localDescription!.sdp;
    const remoteUfrag = /a=ice-ufrag:(\S+)/.exec(offer)![1]!;
    const mid = /a=mid:(\S+)/.exec(offer)![1]!;
    lite.setRemoteUfrag(remoteUfrag);
    const port = socket.address().port;
    // We would be the DTLS client (setup:active) and never send a ClientHello: werift, the server, then only waits,
    // whereas as a client it would go on resending its ClientHello for 30 s after close, holding the process.
    const fingerprint = randomBytes(32).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
    const answer = [
      'v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=ice-lite', `a=group:BUNDLE ${mid}`,
      `m=audio ${port} UDP/TLS/RTP/SAVPF 0`, 'c=IN IP4 127.0.0.1', `a=mid:${mid}`,
      'a=ice-ufrag:callhookUfrag', 'a=ice-pwd:callhookPasswordOf22ch', `a=fingerprint:sha-256 ${fingerprint}`,
      'a=setup:active', 'a=rtcp-mux', 'a=sendrecv', 'a=rtpmap:0 PCMU/8000',
      `a=candidate:1 1 udp 2130706431 127.0.0.1 ${port} typ host`, 'a=end-of-candidates', '',
    ].join('\r\n');
    const selected: unknown[] = [];
    lite.onSelected((remote) => selected.push(remote));
    const connected = pc.iceConnectionStateChange.watch((state) => state === 'connected', 10_000);
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    await connected;
    // werift is connected once our answer to its USE-CANDIDATE check came back, and the agent selected before answering.
    assert.equal(selected.length, 1);
    assert.equal(lite.selected, selected[0]);
    assert.equal(lite.selected?.address, '127.0.0.1');
  });
});
