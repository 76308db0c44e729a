/**
 * MediaBridge rules with a stand-in WebRTC leg (the media-engine seam: any engine will do) and a real RTP leg on
 * 127.0.0.1: what flows in each SIP direction (RFC 3264 §6.1, §8.4), payload type mapping between the two
 * negotiations, DTMF refusals and queueing, and that close() closes both legs.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { g711Packet, LOOPBACK, UdpRtpPeer } from '../../bench/media-peers.ts';
import {
  Listeners, MediaBridge, MediaError, PortPairAllocator, RtpLeg, type Direction, type NegotiatedAudio,
  type RtpPacket, type WebRtcLeg, type WebRtcLegState, type WebRtcMedia,
} from '../../src/media/index.ts';
import { decodeTelephoneEvent, encodeTelephoneEvent } from '../../src/media/rtp/index.ts';
import { eventually } from '../support/eventually.ts';
import { dominantFrequency, tone } from '../support/audio-analysis.ts';
import { readPcmWav } from '../support/wav.ts';
import { CallRecorder } from '../../src/media/audio/recorder.ts';
import { G722Decoder, G722Encoder } from '../../src/media/codecs/g722.ts';
import { createLogger } from '../../src/log.ts';

const ports = new PortPairAllocator('RTP ports', 45000, 45999);

/** A connected WebRTC leg that hands its packets to the test. Browser payload types: PCMU 0, telephone-event 126. */
class FakeWebRtcLeg implements WebRtcLeg {
  readonly sent: RtpPacket[] = [];
  readonly rtp = new Listeners<[RtpPacket]>();
  state: WebRtcLegState = 'connected';
  readonly localPort = 35000;
  readonly localSdp = 'v=0';
  media: WebRtcMedia = {
    codec: { payloadType: 0, encoding: 'PCMU', clockRate: 8000 },
    telephoneEvent: { payloadType: 126, encoding: 'telephone-event', clockRate: 8000 },
  };
  async setRemoteOffer(): Promise<string> { return ''; }
  async createOffer(): Promise<string> { return ''; }
  async setRemoteAnswer(): Promise<void> {}
  onRtp(fn: (p: RtpPacket) => void): () => void { return this.rtp.on(fn); }
  onStateChange(): () => void { return () => undefined; }
  sendRtp(p: RtpPacket): void { this.sent.push(p); }
  stats() { return { packetsIn: 0, bytesIn: 0, packetsOut: this.sent.length, bytesOut: 0, packetsLost: 0 }; }
  async close(): Promise<void> { this.state = 'closed'; }
  /** A packet from the browser. */
  deliver(pt: number, seq: number, payload: Buffer = Buffer.alloc(160, 1)): void {
    this.rtp.emit((err) => { throw err; }, { header: { marker: false, payloadType: pt, sequenceNumber: seq, timestamp: seq * 160, ssrc: 0xb0, csrcs: [] }, payload, paddingSize: 0 });
  }
}

function negotiated(phone: UdpRtpPeer, direction: Direction, telephoneEvent = true): NegotiatedAudio {
  const n: NegotiatedAudio = {
    codec: { payloadType: 0, encoding: 'PCMU', clockRate: 8000 },
    receive: { codec: 0 },
    remote: { address: LOOPBACK, port: phone.port, rtcpAddress: LOOPBACK, rtcpPort: phone.port + 1 },
    rtcpMux: false,
    direction,
  };
  if (telephoneEvent) {
    n.telephoneEvent = { payloadType: 96, encoding: 'telephone-event', clockRate: 8000 };
    n.receive.telephoneEvent = 101;
  }
  return n;
}

const WAIT_MS = 3_000;

/** Resolves once the bridge has handled `fromPhone` packets from the phone and the phone has every packet the RTP leg sent. */
async function settled(t: { bridge: MediaBridge; phone: UdpRtpPeer; rtp: RtpLeg }, fromPhone: number): Promise<void> {
  const counts = () => {
    const s = t.bridge.stats();
    return { handled: s.toWebrtc.forwarded + s.toWebrtc.dropped, sent: t.rtp.stats().packetsOut, received: t.phone.received.length };
  };
  await eventually(() => {
    const n = counts();
    return n.handled === fromPhone && n.received === n.sent;
  }, WAIT_MS, () => `the packets in flight (${JSON.stringify(counts())}, ${fromPhone} from the phone)`);
}

async function setUp(direction: Direction, telephoneEvent = true) {
  const phone = await UdpRtpPeer.open();
  const rtp = await RtpLeg.open({ localAddress: LOOPBACK, ports });
  const webrtc = new FakeWebRtcLeg();
  const bridge = new MediaBridge({ webrtc, rtp, sip: negotiated(phone, direction, telephoneEvent) });
  const toLeg = { address: LOOPBACK, port: rtp.localPort };
  return { phone, rtp, webrtc, bridge, toLeg, done: async () => { await bridge.close(); await phone.close(); } };
}

describe('MediaBridge', () => {
  after(() => assert.equal(ports.inUse, 0));

  const matrix: Array<[Direction, boolean, boolean]> = [
    // SIP direction, browser → SIP, SIP → browser
    ['sendrecv', true, true],
    ['sendonly', false, false],
    ['recvonly', false, true],
    ['inactive', false, false],
  ];
  for (const [direction, toSip, toBrowser] of matrix) {
    it(`relays ${toSip ? '' : 'no '}browser audio and ${toBrowser ? '' : 'no '}phone audio when the SIP leg is ${direction}`, async () => {
      const t = await setUp(direction);
      try {
        for (let i = 0; i < 5; i++) {
          t.webrtc.deliver(0, i);
          t.phone.send(t.toLeg, g711Packet(0, i, 0x77));
        }
        await settled(t, 5);
        assert.equal(t.phone.received.length, toSip ? 5 : 0);
        assert.equal(t.webrtc.sent.length, toBrowser ? 5 : 0);
        const s = t.bridge.stats();
        assert.equal(s.toSip.forwarded + s.toSip.dropped, 5);
        assert.equal(s.toWebrtc.forwarded + s.toWebrtc.dropped, 5);
      } finally {
        await t.done();
      }
    });
  }

  it("maps payload types: the browser's telephone-event 126 goes out as the peer's 96; the peer's events reach the browser as 126", async () => {
    const t = await setUp('sendrecv');
    try {
      t.webrtc.deliver(126, 1, encodeTelephoneEvent({ event: 3, end: true, volume: 10, duration: 800 }));
      // The peer sends with our number (101) once and with its own (96) once: both are its events.
      t.phone.send(t.toLeg, { header: { marker: true, payloadType: 101, sequenceNumber: 1, timestamp: 100, ssrc: 7, csrcs: [] }, payload: encodeTelephoneEvent({ event: 4, end: true, volume: 10, duration: 800 }), paddingSize: 0 });
      t.phone.send(t.toLeg, { header: { marker: true, payloadType: 96, sequenceNumber: 2, timestamp: 900, ssrc: 7, csrcs: [] }, payload: encodeTelephoneEvent({ event: 5, end: true, volume: 10, duration: 800 }), paddingSize: 0 });
      // Comfort noise (13) was not negotiated: dropped.
      t.phone.send(t.toLeg, { header: { marker: false, payloadType: 13, sequenceNumber: 3, timestamp: 1000, ssrc: 7, csrcs: [] }, payload: Buffer.from([40]), paddingSize: 0 });
      const digits: string[] = [];
      t.bridge.onDtmf((e) => digits.push(e.digit!));
      await settled(t, 3);
      assert.deepEqual(t.phone.received.map((r) => [r.packet.payloadType, decodeTelephoneEvent(r.payload).event]), [[96, 3]]);
      assert.deepEqual(t.webrtc.sent.map((p) => p.header.payloadType), [126, 126]);
      assert.deepEqual(digits, ['4', '5']);
      assert.equal(t.bridge.stats().toWebrtc.dropped, 1);
      assert.equal(t.bridge.stats().dtmfReceived, 2);
    } finally {
      await t.done();
    }
  });

  it('refuses DTMF without telephone-event, with a bad digit, with bad timing, and once closed', async () => {
    const plain = await setUp('sendrecv', false);
    await assert.rejects(plain.bridge.sendDtmf('1'), (err: unknown) => err instanceof MediaError && err.code === 'MEDIA_STATE' && /telephone-event/.test(err.message));
    await plain.done();
    const t = await setUp('sendrecv');
    await assert.rejects(t.bridge.sendDtmf('1x'), { name: 'MediaError', code: 'MEDIA_DTMF_DIGIT' });
    await assert.rejects(t.bridge.sendDtmf('1', { durationMs: 0 }), RangeError);
    await t.done();
    await assert.rejects(t.bridge.sendDtmf('1'), { name: 'MediaError', code: 'MEDIA_STATE' });
  });

  it('plays queued sendDtmf calls one after the other, on the peer payload type', async () => {
    const t = await setUp('sendrecv');
    try {
      await Promise.all([t.bridge.sendDtmf('1', { durationMs: 40, gapMs: 10 }), t.bridge.sendDtmf('2', { durationMs: 40, gapMs: 10 })]);
      await settled(t, 0);
      const events = t.phone.received.map((r) => [r.packet.payloadType, decodeTelephoneEvent(r.payload).event]);
      assert.deepEqual(events, [[96, 1], [96, 1], [96, 1], [96, 1], [96, 2], [96, 2], [96, 2], [96, 2]]);
      assert.equal(t.bridge.stats().dtmfSent, 2);
    } finally {
      await t.done();
    }
  });

  it('drops browser audio while a digit is on the wire', async () => {
    const t = await setUp('sendrecv');
    try {
      const dtmf = t.bridge.sendDtmf('7', { durationMs: 100 });
      await eventually(() => t.rtp.stats().packetsOut > 0, WAIT_MS, 'the digit on the wire');
      t.webrtc.deliver(0, 1);
      await dtmf;
      await settled(t, 0);
      assert.equal(t.phone.received.filter((r) => r.packet.payloadType === 0).length, 0);
      assert.equal(t.bridge.stats().toSip.dropped, 1);
    } finally {
      await t.done();
    }
  });

  it('a played sound whose timer fires late sends a few frames to catch up, not all it missed; its timestamps keep its time', async () => {
    const t = await setUp('sendrecv');
    try {
      const playing = t.bridge.playSound({ samples: new Int16Array(8000 * 10).fill(1000), path: 'ten seconds' });
      await eventually(() => t.phone.received.length >= 5, WAIT_MS, 'the sound on the wire');
      // The event loop blocked for a second, as on a server short of CPU.
      const blockedUntil = performance.now() + 1000;
      while (performance.now() < blockedUntil);
      const before = t.rtp.stats().packetsOut;
      // The sound's overdue timer fires first, and what it sends goes out before this one's turn.
      const burst = await new Promise<number>((resolve) => setTimeout(() => resolve(t.rtp.stats().packetsOut - before), 0));
      assert.ok(burst >= 1 && burst <= 6, `${burst} frames back to back after a 1 s delay`);
      t.bridge.stopSound();
      assert.equal(await playing, 'stopped');
      await settled(t, 0);
      // Across the delay the timestamps advance by the second that passed (8000 ticks), give or take the frames sent.
      const stamps = t.phone.received.map((r) => r.packet.timestamp);
      const jump = Math.max(...stamps.slice(1).map((s, i) => (s - stamps[i]! + 2 ** 32) % 2 ** 32));
      assert.ok(jump >= 7000 && jump <= 8800, `the largest timestamp step is ${jump}`);
    } finally {
      await t.done();
    }
  });

  it('a G.722 call plays a sound and records both directions: each converted through its own 16 kHz codec', async () => {
    const g722 = { payloadType: 9, encoding: 'G722', clockRate: 8000 };
    const phone = await UdpRtpPeer.open();
    const rtp = await RtpLeg.open({ localAddress: LOOPBACK, ports });
    const webrtc = new FakeWebRtcLeg();
    webrtc.media = { codec: g722 };
    const dir = await mkdtemp(join(tmpdir(), 'callhook-g722-'));
    const recorder = new CallRecorder({ path: join(dir, 'call.wav'), logger: createLogger('silent') });
    const sip = negotiated(phone, 'sendrecv', false);
    sip.codec = g722;
    sip.receive = { codec: 9 };
    const bridge = new MediaBridge({ webrtc, rtp, sip, recorder });
    try {
      // The phone sends 500 Hz; callhook plays 1 kHz towards it.
      const encoder = new G722Encoder();
      const from = tone(500, 16000, 1);
      for (let i = 0; i < 50; i++) phone.send({ address: LOOPBACK, port: rtp.localPort }, g711Packet(9, i, 0xfe, Buffer.from(encoder.encode(from.subarray(i * 320, (i + 1) * 320)))));
      assert.equal(await bridge.playSound({ samples: tone(1000, 8000, 0.6), path: '1 kHz' }), 'played');
      await eventually(() => phone.received.length >= 30, WAIT_MS, 'the sound on the wire');
      const decoder = new G722Decoder();
      const heard = Int16Array.from(phone.received.flatMap((r) => [...decoder.decode(r.payload)]));
      assert.ok(Math.abs(dominantFrequency({ sampleRate: 16000, samples: heard }) - 1000) < 20, 'the phone hears the sound');
      await bridge.close();
      await recorder.close();
      const wav = readPcmWav(await readFile(join(dir, 'call.wav')));
      assert.deepEqual([wav.channels, wav.rate], [2, 8000]);
      assert.ok(Math.abs(dominantFrequency({ sampleRate: 8000, samples: wav.samples[0]! }) - 1000) < 20, 'left: the sound we sent');
      assert.ok(Math.abs(dominantFrequency({ sampleRate: 8000, samples: wav.samples[1]! }) - 500) < 20, 'right: the phone');
    } finally {
      await bridge.close();
      await phone.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('closes both legs and stops relaying', async () => {
    const t = await setUp('sendrecv');
    await t.bridge.close();
    await t.bridge.close();
    assert.equal(t.webrtc.state, 'closed');
    assert.throws(() => t.rtp.send(g711Packet(0, 1, 1)), { name: 'MediaError', code: 'MEDIA_STATE' });
    t.webrtc.deliver(0, 1); // no listener left: nothing happens
    await settled(t, 0);
    assert.equal(t.phone.received.length, 0);
    await t.phone.close();
  });
});
