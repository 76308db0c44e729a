/**
 * The media library end to end on 127.0.0.1 with real peers: a werift peer playing the browser (Chrome's audio
 * offer, no candidates, as the WCS SDK sends it) connects to callhook's WebRTC leg (ICE-lite, DTLS-SRTP), the bridge
 * relays G.711 to a plain UDP RTP peer playing the SIP phone, and back. Checks RTP both ways (≥ 90 % arrive), the
 * stream the phone sees (one SSRC, no sequence gaps), RFC 4733 DTMF both ways, hold both ways, ICE failure, and
 * that closing releases every port and socket; and libdatachannel with one UDP port for all browsers (ICE UDP mux).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import nodeDataChannel from 'node-datachannel';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrowserPeer, g711Packet, LOOPBACK, UdpRtpPeer, type ReceivedRtp } from '../../bench/media-peers.ts';
import {
  DataChannelEngine, FAILED_BY_DTLS, FAILED_BY_ICE, MediaBridge, MediaError, NoCommonCodecError, parseSdp, PortPairAllocator, RtpLeg,
  SipSdpSession, type MediaEngine, type NegotiatedAudio, type RtpPacket, type WebRtcEngineOptions,
  type WebRtcLeg,
} from '../../src/media/index.ts';
import { NativeEngine } from '../../src/media/native-engine.ts';
import { WeriftEngine } from '../../src/media/werift-engine.ts';
import { decodeTelephoneEvent, encodeTelephoneEvent } from '../../src/media/rtp/index.ts';
import { bindUdp, closeSocket } from '../../src/media/udp.ts';
import { eventually } from '../support/eventually.ts';
import { watchPorts } from '../support/port-watch.ts';
import { canBindUdp, freePort, freeUdpRange, openUdpSockets } from '../support/ports.ts';

const webrtcPorts = new PortPairAllocator('WebRTC ports', 42000, 42999);
const rtpPorts = new PortPairAllocator('RTP ports', 43000, 43999);
/** Every media engine passes the same tests. */
const ENGINES: ReadonlyArray<[string, (o: WebRtcEngineOptions) => Promise<MediaEngine>]> = [
  ['werift', async (o) => new WeriftEngine(o)],
  ['libdatachannel', (o) => DataChannelEngine.load(o)],
  ['native', async (o) => NativeEngine.load(o)],
];
let engine: MediaEngine;

const WAIT_MS = 5_000;

/** A bound, not a timing check: on a loaded 2-core machine werift's ICE and DTLS have taken over 10 s. */
const CONNECT_MS = 20_000;
/** How long an incoming call rings in the tests that watch its port. */
const RINGING_MS = 300;

async function legConnected(leg: WebRtcLeg): Promise<void> {
  await eventually(() => leg.state === 'connected', CONNECT_MS, 'the WebRTC leg to connect');
}

/** The phone's SDP: an answer to our offer, or a re-INVITE offer. */
function phoneSdp(port: number, version: number, direction: string, law = 'PCMU'): ReturnType<typeof parseSdp> {
  const pt = law === 'PCMU' ? 0 : 8;
  return parseSdp([
    'v=0', `o=phone 77 ${version} IN IP4 ${LOOPBACK}`, 's=-', `c=IN IP4 ${LOOPBACK}`, 't=0 0',
    `m=audio ${port} RTP/AVP ${pt} 101`, 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', `a=${direction}`,
  ].join('\r\n') + '\r\n');
}

interface Call {
  browser: BrowserPeer;
  phone: UdpRtpPeer;
  leg: WebRtcLeg;
  rtp: RtpLeg;
  sip: SipSdpSession;
  bridge: MediaBridge;
  /** RTP packets the browser and the phone sent to the legs. */
  sent: { byBrowser: number; byPhone: number };
}

/** An outgoing call: the browser offers, the WebRTC leg answers, our SIP offer is answered by the phone. */
async function outgoingCall(rtpOptions: { inactivityMs?: number } = {}): Promise<Call> {
  const browser = new BrowserPeer();
  const leg = engine.createLeg({ codecs: ['PCMU', 'PCMA'] });
  try {
    await browser.setAnswer(await leg.setRemoteOffer(await browser.createOffer()));
    await browser.connected();
    await legConnected(leg);
  } catch (err) {
    // A call that never connected must not keep its peer connections open: they would hold the whole file.
    await Promise.all([leg.close(), browser.close()]);
    throw err;
  }
  const phone = await UdpRtpPeer.open();
  const rtp = await RtpLeg.open({ localAddress: LOOPBACK, ports: rtpPorts, ...rtpOptions });
  const sip = new SipSdpSession({ address: LOOPBACK, port: rtp.localPort, codecs: ['PCMU'] });
  sip.createOffer();
  const bridge = new MediaBridge({ webrtc: leg, rtp, sip: sip.readAnswer(phoneSdp(phone.port, 1, 'sendrecv')) });
  return { browser, phone, leg, rtp, sip, bridge, sent: { byBrowser: 0, byPhone: 0 } };
}

async function hangup(c: Call): Promise<void> {
  await c.bridge.close();
  await c.browser.close();
  await c.phone.close();
}

/** Sends `count` packets each way, one every 20 ms as a phone does; payloads carry their index so arrivals can be checked. */
async function talk(c: Call, count: number, first = 0, pt = 0): Promise<void> {
  for (let i = first; i < first + count; i++) {
    const payload = Buffer.alloc(160, i & 0xff);
    c.browser.send(pt, i, i * 160, payload);
    phoneSends(c, g711Packet(pt, i, 0x5eed, payload));
    c.sent.byBrowser++;
    await sleep(20);
  }
  await settled(c);
}

function phoneSends(c: Call, packet: RtpPacket): void {
  c.phone.send({ address: LOOPBACK, port: c.rtp.localPort }, packet);
  c.sent.byPhone++;
}

/**
 * Resolves once every packet the peers sent has reached its leg (and so the bridge, which relays or drops it at
 * once), and every packet the legs sent has reached its peer: nothing is in flight any more.
 */
async function settled(c: Call): Promise<void> {
  const counts = () => {
    const s = c.bridge.stats();
    return {
      toLegs: [s.webrtc.packetsIn, s.sip.packetsIn], sentToLegs: [c.sent.byBrowser, c.sent.byPhone],
      toPeers: [c.browser.received.length, c.phone.received.length], sentToPeers: [s.webrtc.packetsOut, s.sip.packetsOut],
    };
  };
  await eventually(() => {
    const n = counts();
    return String(n.toLegs) === String(n.sentToLegs) && String(n.toPeers) === String(n.sentToPeers);
  }, WAIT_MS, () => `the packets in flight to arrive (${JSON.stringify(counts())})`);
}

const audio = (rs: ReceivedRtp[], pt = 0) => rs.filter((r) => r.packet.payloadType === pt);

for (const [engineName, makeEngine] of ENGINES) describe(`media relay (${engineName}): browser (werift) ↔ WebRTC leg ↔ bridge ↔ RTP leg ↔ phone (UDP)`, () => {
  let udpBefore = 0;
  before(async () => {
    udpBefore = openUdpSockets();
    engine = await makeEngine({ localAddress: LOOPBACK, ports: webrtcPorts, connectTimeoutMs: CONNECT_MS });
  });
  after(() => {
    assert.equal(webrtcPorts.inUse, 0, 'WebRTC port pairs released');
    assert.equal(rtpPorts.inUse, 0, 'RTP port pairs released');
  });

  it('relays G.711 both ways (≥ 90 %), as one continuous stream, with payloads intact', async () => {
    const c = await outgoingCall();
    try {
      await talk(c, 100);
      const atPhone = audio(c.phone.received);
      const atBrowser = audio(c.browser.received);
      assert.ok(atPhone.length >= 90, `phone got ${atPhone.length}/100`);
      assert.ok(atBrowser.length >= 90, `browser got ${atBrowser.length}/100`);
      assert.equal(new Set(atPhone.map((r) => r.packet.ssrc)).size, 1, 'one SSRC towards SIP');
      for (let i = 1; i < atPhone.length; i++) {
        assert.equal(atPhone[i]!.packet.sequenceNumber, (atPhone[i - 1]!.packet.sequenceNumber + 1) & 0xffff, 'no sequence gap');
      }
      assert.ok(atPhone.every((r) => r.payload.length === 160 && r.payload.every((b) => b === r.payload[0])), 'payloads intact');
      assert.ok(atBrowser.every((r) => r.payload.length === 160), 'payloads intact towards the browser');
      assert.equal(c.phone.lastSender!.port, c.rtp.localPort, 'RTP comes from the RTP port (symmetric)');
      const s = c.bridge.stats();
      assert.ok(s.toSip.forwarded >= 90 && s.toWebrtc.forwarded >= 90);
      assert.equal(s.sip.packetsLost, 0);
      // A phone's oversized packet is dropped on the way to the browser, quietly, and the stream goes on.
      const before = c.browser.received.length;
      phoneSends(c, g711Packet(0, 100, 0x5eed, Buffer.alloc(1500, 0x55)));
      await talk(c, 10, 101);
      const after = c.browser.received.slice(before);
      assert.ok(after.every((r) => r.payload.length === 160), 'the 1500-byte packet did not reach the browser');
      assert.ok(after.length >= 8, `the stream went on (${after.length}/10)`);
    } finally {
      await hangup(c);
    }
  });

  it('injects DTMF towards SIP as RFC 4733 on the negotiated payload type, continuing the stream', async () => {
    const c = await outgoingCall();
    try {
      await talk(c, 10);
      await c.bridge.sendDtmf('5#');
      await talk(c, 10, 10);
      const fromBridge = c.phone.received;
      const events = fromBridge.filter((r) => r.packet.payloadType === 101);
      const byTimestamp = new Map<number, ReceivedRtp[]>();
      for (const e of events) byTimestamp.set(e.packet.timestamp, [...(byTimestamp.get(e.packet.timestamp) ?? []), e]);
      assert.equal(byTimestamp.size, 2, 'two events, each with one timestamp');
      const digits = [...byTimestamp.values()].map((packets) => {
        const decoded = packets.map((p) => decodeTelephoneEvent(p.payload));
        assert.equal(packets[0]!.packet.marker, true, 'marker on the first packet');
        assert.ok(packets.slice(1).every((p) => !p.packet.marker));
        assert.equal(decoded.filter((d) => d.end).length, 3, 'three end packets');
        const durations = decoded.map((d) => d.duration);
        assert.deepEqual(durations, [...durations].sort((a, b) => a - b), 'duration grows');
        return decoded[0]!.event;
      });
      assert.deepEqual(digits, [5, 11]);
      for (let i = 1; i < fromBridge.length; i++) {
        assert.equal(fromBridge[i]!.packet.sequenceNumber, (fromBridge[i - 1]!.packet.sequenceNumber + 1) & 0xffff, 'no gap around DTMF');
        assert.ok(((fromBridge[i]!.packet.timestamp - fromBridge[i - 1]!.packet.timestamp) >>> 0) < 0x80000000, 'timestamps never go back');
      }
      assert.equal(new Set(fromBridge.map((r) => r.packet.ssrc)).size, 1);
      assert.equal(c.bridge.stats().dtmfSent, 2);
    } finally {
      await hangup(c);
    }
  });

  it('reports RFC 4733 events from the phone and passes them to the browser as telephone-event/8000', async () => {
    const c = await outgoingCall();
    try {
      const detected: string[] = [];
      c.bridge.onDtmf((e) => detected.push(`${e.digit}:${e.durationMs}`));
      const durations = [160, 320, 480, 640, 800, 800, 800];
      for (const [i, duration] of durations.entries()) {
        phoneSends(c, {
          header: { marker: i === 0, payloadType: 101, sequenceNumber: 500 + i, timestamp: 8000, ssrc: 0x5eed, csrcs: [] },
          payload: encodeTelephoneEvent({ event: 9, end: i >= 4, volume: 10, duration }),
          paddingSize: 0,
        });
        await sleep(20);
      }
      await settled(c);
      assert.deepEqual(detected, ['9:100']);
      // The browser negotiated telephone-event/8000 as 126 (Chrome's number), not 110 (/48000).
      assert.ok(c.browser.received.filter((r) => r.packet.payloadType === 126).length >= 6, 'events at the browser');
      assert.equal(c.browser.received.filter((r) => r.packet.payloadType === 110).length, 0);
    } finally {
      await hangup(c);
    }
  });

  it('holds: our sendonly stops the browser reaching the phone; unhold resumes the same stream (RFC 3264 §8.4)', async () => {
    const c = await outgoingCall();
    try {
      await talk(c, 10);
      c.sip.createOffer('sendonly');
      c.bridge.updateSip(c.sip.readAnswer(phoneSdp(c.phone.port, 2, 'recvonly')));
      const [phoneBefore, browserBefore] = [audio(c.phone.received).length, audio(c.browser.received).length];
      await talk(c, 20, 10);
      assert.equal(audio(c.phone.received).length, phoneBefore, 'nothing reaches the held phone');
      assert.equal(audio(c.browser.received).length, browserBefore, 'nor does the phone reach the browser');
      c.sip.createOffer('sendrecv');
      c.bridge.updateSip(c.sip.readAnswer(phoneSdp(c.phone.port, 3, 'sendrecv')));
      await talk(c, 20, 30);
      const atPhone = audio(c.phone.received);
      assert.ok(atPhone.length - phoneBefore >= 18, 'flows again after unhold');
      for (let i = 1; i < atPhone.length; i++) {
        assert.equal(atPhone[i]!.packet.sequenceNumber, (atPhone[i - 1]!.packet.sequenceNumber + 1) & 0xffff, 'no gap across the hold');
      }
    } finally {
      await hangup(c);
    }
  });

  it('is held by the phone (re-INVITE sendonly): music on hold reaches the browser, the browser does not reach the phone', async () => {
    const c = await outgoingCall();
    try {
      const { media } = c.sip.createAnswer(phoneSdp(c.phone.port, 2, 'sendonly'));
      assert.equal(media.direction, 'recvonly');
      c.bridge.updateSip(media);
      await talk(c, 20);
      assert.equal(audio(c.phone.received).length, 0);
      assert.ok(audio(c.browser.received).length >= 18);
    } finally {
      await hangup(c);
    }
  });

  it('answers the browser when callhook offers (incoming call) and relays both ways', async () => {
    const browser = new BrowserPeer();
    const leg = engine.createLeg({ codecs: ['PCMA'] });
    const offer = await leg.createOffer();
    // werift and the native engine are ICE-lite and say so at session level; libdatachannel is a full agent (and
    // controls as offerer).
    if (engineName !== 'libdatachannel') assert.match(offer, /^a=ice-lite\r$/m);
    else assert.doesNotMatch(offer, /ice-lite/);
    assert.match(offer, /^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 8 101\r$/m);
    await leg.setRemoteAnswer(await browser.answer(offer));
    await browser.connected();
    await legConnected(leg);
    assert.deepEqual(leg.media!.codec.encoding, 'PCMA');
    const phone = await UdpRtpPeer.open();
    const rtp = await RtpLeg.open({ localAddress: LOOPBACK, ports: rtpPorts });
    const sip = new SipSdpSession({ address: LOOPBACK, port: rtp.localPort, codecs: ['PCMA'] });
    const { media } = sip.createAnswer(phoneSdp(phone.port, 1, 'sendrecv', 'PCMA'));
    const bridge = new MediaBridge({ webrtc: leg, rtp, sip: media });
    try {
      await talk({ browser, phone, leg, rtp, sip, bridge, sent: { byBrowser: 0, byPhone: 0 } }, 50, 0, 8);
      assert.ok(audio(phone.received, 8).length >= 45, `phone got ${audio(phone.received, 8).length}/50`);
      assert.ok(audio(browser.received, 8).length >= 45, `browser got ${audio(browser.received, 8).length}/50`);
    } finally {
      await bridge.close();
      await browser.close();
      await phone.close();
    }
  });

  it('refuses to bridge legs that use different G.711 laws (No common codecs)', async () => {
    const browser = new BrowserPeer();
    const leg = engine.createLeg({ codecs: ['PCMU'] });
    await leg.setRemoteOffer(await browser.createOffer());
    const rtp = await RtpLeg.open({ localAddress: LOOPBACK, ports: rtpPorts });
    try {
      const sip: NegotiatedAudio = {
        codec: { payloadType: 8, encoding: 'PCMA', clockRate: 8000 }, receive: { codec: 8 }, rtcpMux: false, direction: 'sendrecv',
      };
      assert.throws(() => new MediaBridge({ webrtc: leg, rtp, sip }), (err: unknown) => err instanceof NoCommonCodecError && err.message === 'No common codecs');
    } finally {
      await leg.close();
      await rtp.close();
      await browser.close();
    }
  });

  it('writes publicAddress (1:1 NAT) in its candidate and c= line, while binding localAddress', async () => {
    const natEngine = await makeEngine({ localAddress: LOOPBACK, publicAddress: '192.0.2.10', ports: webrtcPorts });
    const browser = new BrowserPeer();
    const leg = natEngine.createLeg({ codecs: ['PCMU'] });
    try {
      const answer = parseSdp(await leg.setRemoteOffer(await browser.createOffer()));
      const audio = answer.media[0]!;
      const candidates = audio.attributes.filter((a) => a.name === 'candidate').map((a) => a.value ?? '');
      assert.ok(candidates.length > 0, 'a candidate');
      for (const c of candidates) assert.match(c, / 192\.0\.2\.10 \d+ typ host/);
      assert.equal(audio.connections[0]?.address, '192.0.2.10');
      assert.equal(audio.port, leg.localPort);
      assert.equal(await canBindUdp(leg.localPort!), false, 'the port is bound (on localAddress)');
    } finally {
      await leg.close();
      await browser.close();
    }
  });

  it('fails a browser offer without G.711 with No common codecs, taking no port', async () => {
    const opusOnly = new BrowserPeer({ audio: [{ mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 }] });
    const leg = engine.createLeg({ codecs: ['PCMU', 'PCMA'] });
    try {
      await assert.rejects(leg.setRemoteOffer(await opusOnly.createOffer()), NoCommonCodecError);
      assert.equal(webrtcPorts.inUse, 0);
      assert.equal(leg.localPort, undefined);
    } finally {
      await leg.close();
      await opusOnly.close();
    }
  });

  it('fails with Failed by ICE error when the browser never checks, and frees its port on close', async () => {
    const shortEngine = await makeEngine({ localAddress: LOOPBACK, ports: webrtcPorts, connectTimeoutMs: 300 });
    const silent = new BrowserPeer();
    const leg = shortEngine.createLeg({ codecs: ['PCMU'] });
    const states: string[] = [];
    leg.onStateChange((s, info) => states.push(info ? `${s}: ${info}` : s));
    await leg.setRemoteOffer(await silent.createOffer()); // the answer never reaches the browser
    const port = leg.localPort!;
    await eventually(() => leg.state === 'failed', WAIT_MS, 'the ICE failure');
    assert.deepEqual(states, ['connecting', `failed: ${FAILED_BY_ICE}`]);
    await leg.close();
    await silent.close();
    assert.equal(states.at(-1), 'closed');
    // The port can be bound again: the engine closed its socket (libdatachannel does so in its own thread, just
    // after close() returns).
    await eventually(() => canBindUdp(port), 2_000, `port ${port} to be free again`);
  });

  it('skips a port pair another process holds and connects on the next', async () => {
    const first = await freeUdpRange(4);
    const tiny = new PortPairAllocator('WebRTC ports', first, first + 3);
    const holders = await Promise.all([first, first + 1].map((port) => bindUdp(LOOPBACK, port)));
    const browser = new BrowserPeer();
    const leg = (await makeEngine({ localAddress: LOOPBACK, ports: tiny })).createLeg({ codecs: ['PCMU'] });
    try {
      await browser.setAnswer(await leg.setRemoteOffer(await browser.createOffer()));
      assert.ok(leg.localPort === first + 2 || leg.localPort === first + 3, `port ${leg.localPort} from the second pair`);
      assert.equal(tiny.inUse, 1);
      await browser.connected();
      await legConnected(leg);
    } finally {
      await leg.close();
      await browser.close();
      for (const s of holders) await closeSocket(s);
    }
    assert.equal(tiny.inUse, 0);
  });

  it('holds the port its offer names from the offer on while the call rings (no other process can take it), then connects', async () => {
    const first = await freeUdpRange(2);
    const pair = new PortPairAllocator('WebRTC ports', first, first + 1);
    const leg = (await makeEngine({ localAddress: LOOPBACK, ports: pair })).createLeg({ codecs: ['PCMU'] });
    const browser = new BrowserPeer();
    // Another process binding the pair's ports over and over while the call rings: the offered port's history must
    // read "free, then held". Held, then free again, then held is a gap in which any bind(0) could have taken it.
    // (Not while the answer is taken: libdatachannel binds the port in its own thread just after our socket lets go,
    // and a bind of ours then would make it abort the process.)
    const watch = await watchPorts(LOOPBACK, [first, first + 1]);
    try {
      const offer = await leg.createOffer();
      await sleep(RINGING_MS);
      const offered = (await watch.stop()).get(leg.localPort!)!;
      assert.deepEqual(offered, [true, false], `port ${leg.localPort}: free, then held while ringing (true: free, false: held)`);
      await leg.setRemoteAnswer(await browser.answer(offer));
      await browser.connected();
      await legConnected(leg);
    } finally {
      await watch.stop();
      await leg.close();
      await browser.close();
    }
  });

  it('rejects video in the answer with port 0 and still connects the audio', async () => {
    const browser = new BrowserPeer({ video: true });
    const leg = engine.createLeg({ codecs: ['PCMU'] });
    try {
      const offer = await browser.createOffer();
      assert.match(offer, /^m=video /m);
      const answer = await leg.setRemoteOffer(offer);
      assert.match(answer, /^m=video 0 /m);
      await browser.setAnswer(answer);
      await browser.connected();
      await legConnected(leg);
    } finally {
      await leg.close();
      await browser.close();
    }
  });

  it('leaves no socket open and no port allocated after the calls', async () => {
    // libdatachannel closes its sockets in its own thread, just after close() returns.
    await eventually(() => openUdpSockets() === udpBefore, 2_000, () => `${openUdpSockets()} open UDP sockets to be back to ${udpBefore}`);
  });
});

describe('media relay (libdatachannel): callbacks per call', () => {
  // Each callback set on a node-datachannel peer connection or track is a thread-safe function, whose libuv async
  // handle the event loop visits on every wake-up from libdatachannel's threads, for every call up: the leg sets only
  // the ones it cannot do without (docs/benchmarks.md "CPU per bridged call: what a wake-up costs").
  it('a connected call (outgoing and incoming) sets at most 4 callbacks on its peer connection and track, and relays', async () => {
    // node-datachannel's methods are read-only: the engine is handed a peer connection class that counts them (the
    // module's export object is what the engine reads its classes from).
    const set: string[] = [];
    const counted = (name: string) => name.startsWith('on') && name !== 'onRtp';
    const Original = nodeDataChannel.PeerConnection;
    class Counting extends Original {
      constructor(...a: ConstructorParameters<typeof Original>) {
        super(...a);
        return new Proxy(this, spy(this));
      }

      override addTrack(media: Parameters<InstanceType<typeof Original>['addTrack']>[0]) {
        const track = super.addTrack(media);
        return new Proxy(track, spy(track));
      }
    }
    function spy<T extends object>(target: T): ProxyHandler<T> {
      return {
        get(_, key) {
          const v = Reflect.get(target, key, target) as unknown;
          if (typeof v !== 'function') return v;
          return (...a: unknown[]) => {
            if (typeof key === 'string' && counted(key)) set.push(key);
            return (v as (...a: unknown[]) => unknown).apply(target, a);
          };
        },
      };
    }
    const exports = nodeDataChannel as { PeerConnection: typeof Original };
    exports.PeerConnection = Counting;
    const spied = [() => { exports.PeerConnection = Original; }];
    const ports = new PortPairAllocator('WebRTC ports', ...(await freeUdpRange(4).then((p) => [p, p + 3] as const)));
    const dc = await DataChannelEngine.load({ localAddress: LOOPBACK, ports, connectTimeoutMs: CONNECT_MS });
    const outgoing = dc.createLeg({ codecs: ['PCMU'] });
    const incoming = dc.createLeg({ codecs: ['PCMU'] });
    const browsers = [new BrowserPeer(), new BrowserPeer()];
    try {
      await browsers[0]!.setAnswer(await outgoing.setRemoteOffer(await browsers[0]!.createOffer()));
      await browsers[0]!.connected();
      await legConnected(outgoing);
      assert.deepEqual(set.sort(), ['onIceStateChange', 'onMessage', 'onClosed', 'onStateChange'].sort(), 'outgoing call');
      set.length = 0;
      const offer = await incoming.createOffer();
      set.length = 0; // the offer's own peer connection is closed as soon as the offer is written
      await incoming.setRemoteAnswer(await browsers[1]!.answer(offer));
      await browsers[1]!.connected();
      await legConnected(incoming);
      assert.deepEqual(set.sort(), ['onIceStateChange', 'onMessage', 'onClosed', 'onStateChange'].sort(), 'incoming call');
      const heard = new Promise<RtpPacket>((resolve) => outgoing.onRtp(resolve));
      browsers[0]!.send(0, 1, 160, Buffer.alloc(160, 0xd5));
      assert.equal((await heard).payload.length, 160);
    } finally {
      for (const restore of spied) restore();
      await Promise.all([outgoing.close(), incoming.close(), ...browsers.map((b) => b.close())]);
    }
    assert.equal(ports.inUse, 0);
  });
});

describe('media relay (libdatachannel): a browser that vanishes without closing its connection', { timeout: 60_000 }, () => {
  it('is noticed by ICE consent freshness (RFC 7675, ~30 s): Failed by DTLS error', async () => {
    const ports = new PortPairAllocator('WebRTC ports', 42960, 42999);
    const leg = (await DataChannelEngine.load({ localAddress: LOOPBACK, ports })).createLeg({ codecs: ['PCMU'] });
    const browser = new BrowserPeer();
    try {
      await browser.setAnswer(await leg.setRemoteOffer(await browser.createOffer()));
      await browser.connected();
      await legConnected(leg);
      const states: string[] = [];
      leg.onStateChange((s, info) => states.push(info ? `${s}: ${info}` : s));
      // werift's close sends no DTLS close_notify: to callhook the browser just goes silent.
      await browser.close();
      await sleep(5_000);
      assert.equal(leg.state, 'connected', 'a short silence is not a failure');
      await eventually(() => leg.state === 'failed', 45_000, 'consent to expire');
      assert.deepEqual(states, [`failed: ${FAILED_BY_DTLS}`]);
    } finally {
      await leg.close();
      await browser.close();
    }
    assert.equal(ports.inUse, 0);
  });
});

describe('media relay (libdatachannel): node-datachannel found at start but failing to load', () => {
  it('the engine starts; a leg fails MEDIA_ENGINE_UNAVAILABLE at its offer, and one closed before needs nothing', async () => {
    const first = await freeUdpRange(4);
    const media = new URL('../../src/media/index.ts', import.meta.url).href;
    const script = `
      import { DataChannelEngine, PortPairAllocator } from ${JSON.stringify(media)};
      const engine = await DataChannelEngine.load({ localAddress: '127.0.0.1', ports: new PortPairAllocator('WebRTC ports', ${first}, ${first + 3}) });
      await engine.createLeg({ codecs: ['PCMU'] }).close();
      const offered = await engine.createLeg({ codecs: ['PCMU'] }).createOffer().then(() => 'offered', (e) => e.code + ': ' + e.message);
      await new Promise((r) => setTimeout(r, 200));
      console.log(offered);`;
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [
        '--import', import.meta.resolve('tsx'), '--import', new URL('../support/libdatachannel-unloadable.mjs', import.meta.url).href,
        '--input-type=module', '-e', script,
      ], { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    assert.match(out, /^MEDIA_ENGINE_UNAVAILABLE: the libdatachannel WebRTC engine could not load node-datachannel \(.*native library failed to load \(test\)\); set webrtcEngine to "werift"$/m);
  });
});

/** What each side of each call sends in the tests of the shared port. */
const MUX_PACKETS = 50;

/**
 * One UDP port for every browser leg (config `webrtcPort`: libjuice's ICE UDP mux): concurrent calls, outgoing and
 * incoming, all on the one port and relayed each to its own peers; the port bound from the engine's start through
 * calls ending and starting; a port another process holds failing the engine's start with a MediaError naming it.
 */
describe('media relay (libdatachannel) on one UDP port for all browsers (webrtcPort: ICE UDP mux)', () => {
  let port: number;
  let muxEngine: DataChannelEngine;
  let muxRtpPorts: PortPairAllocator;
  /** The per-call WebRTC pairs, which legs on the shared port must not take. */
  let pairs: PortPairAllocator;

  before(async () => {
    port = await freePort('udp');
    const rtp = await freeUdpRange(8);
    muxRtpPorts = new PortPairAllocator('RTP ports', rtp, rtp + 7);
    const first = await freeUdpRange(8);
    pairs = new PortPairAllocator('WebRTC ports', first, first + 7);
    muxEngine = await DataChannelEngine.load({ localAddress: LOOPBACK, ports: pairs, udpMuxPort: port, connectTimeoutMs: CONNECT_MS });
  });
  after(() => muxEngine.close());

  /** A call connected both ways: the browser offers (outgoing) or callhook does (incoming). */
  async function muxCall(direction: 'outgoing' | 'incoming'): Promise<Call> {
    const browser = new BrowserPeer();
    const leg = muxEngine.createLeg({ codecs: ['PCMU'] });
    try {
      if (direction === 'outgoing') await browser.setAnswer(await leg.setRemoteOffer(await browser.createOffer()));
      else await leg.setRemoteAnswer(await browser.answer(await leg.createOffer()));
      await browser.connected(CONNECT_MS);
      await eventually(() => leg.state === 'connected', CONNECT_MS, 'the WebRTC leg to connect');
    } catch (err) {
      await Promise.all([leg.close(), browser.close()]);
      throw err;
    }
    const phone = await UdpRtpPeer.open();
    const rtp = await RtpLeg.open({ localAddress: LOOPBACK, ports: muxRtpPorts });
    const sip = new SipSdpSession({ address: LOOPBACK, port: rtp.localPort, codecs: ['PCMU'] });
    let media;
    if (direction === 'outgoing') {
      sip.createOffer();
      media = sip.readAnswer(phoneSdp(phone.port, 1, 'sendrecv'));
    } else {
      media = sip.createAnswer(phoneSdp(phone.port, 1, 'sendrecv')).media;
    }
    return { browser, phone, leg, rtp, sip, bridge: new MediaBridge({ webrtc: leg, rtp, sip: media }), sent: { byBrowser: 0, byPhone: 0 } };
  }

  /**
   * Each call's browser and phone send PACKETS packets whose payload bytes are the call's mark; each peer must get at
   * least 90 % of its own call's, and none of another's.
   */
  async function talkMarked(calls: readonly Call[]): Promise<void> {
    for (let i = 0; i < MUX_PACKETS; i++) {
      calls.forEach((c, mark) => {
        const payload = Buffer.alloc(160, mark + 1);
        c.browser.send(0, i, i * 160, payload);
        c.phone.send({ address: LOOPBACK, port: c.rtp.localPort }, g711Packet(0, i, 0x5eed + mark, payload));
      });
      await sleep(20);
    }
    const got = (c: Call) => [c.browser.received.filter((r) => r.packet.payloadType === 0), c.phone.received] as const;
    await eventually(() => calls.every((c) => got(c).every((rs) => rs.length >= MUX_PACKETS * 0.9)), 5_000,
      () => `each peer to get ≥ 90 % of its call's packets (${calls.map((c) => got(c).map((rs) => rs.length).join('/')).join(', ')})`);
    calls.forEach((c, mark) => {
      for (const rs of got(c)) {
        assert.ok(rs.length <= MUX_PACKETS, `call ${mark}: ${rs.length} packets for ${MUX_PACKETS} sent`);
        assert.ok(rs.every((r) => r.payload.every((b) => b === mark + 1)), `call ${mark}: a packet of another call`);
      }
    });
  }

  it('holds the port from the start, before any call', async () => {
    assert.equal(await canBindUdp(port), false, `port ${port} bound by the engine`);
  });

  it('runs three outgoing calls and an incoming one at once on the port, each relayed both ways to its own peers', async () => {
    const calls: Call[] = [];
    try {
      for (const direction of ['outgoing', 'incoming', 'outgoing', 'outgoing'] as const) calls.push(await muxCall(direction));
      assert.deepEqual(calls.map((c) => c.leg.localPort), calls.map(() => port), 'every leg on the shared port');
      assert.equal(pairs.inUse, 0, 'no per-call WebRTC pair taken');
      await talkMarked(calls);
    } finally {
      for (const c of calls) await hangup(c);
    }
  });

  it('keeps the port bound while a call ends and the next starts on it', async () => {
    const watch = await watchPorts(LOOPBACK, [port]);
    try {
      const first = await muxCall('incoming');
      await talkMarked([first]);
      await hangup(first);
      await sleep(200);
      const second = await muxCall('outgoing');
      try {
        await talkMarked([second]);
      } finally {
        await hangup(second);
      }
      await sleep(200);
    } finally {
      const history = (await watch.stop()).get(port);
      assert.deepEqual(history, [false], `port ${port} held throughout (true: free, false: held)`);
    }
  });

  it('fails to start with MEDIA_PORT_TAKEN naming the port when another socket holds it; the process goes on', async () => {
    const taken = await freePort('udp');
    const holder = await bindUdp(LOOPBACK, taken);
    try {
      await assert.rejects(
        DataChannelEngine.load({ localAddress: LOOPBACK, ports: pairs, udpMuxPort: taken }),
        (err: unknown) => err instanceof MediaError && err.code === 'MEDIA_PORT_TAKEN' &&
          err.message.includes(`webrtcPort ${taken}`) && err.message.includes('EADDRINUSE'),
      );
    } finally {
      await closeSocket(holder);
    }
    // The process is alive, and the failed start left nothing behind on the port: once free, an engine takes it.
    const again = await DataChannelEngine.load({ localAddress: LOOPBACK, ports: pairs, udpMuxPort: taken });
    assert.equal(await canBindUdp(taken), false, 'bound by the second engine');
    again.close();
  });
});
