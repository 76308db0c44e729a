/**
 * The libdatachannel engine with one UDP port for every browser leg (config `webrtcPort`: ICE UDP mux), end to end
 * on 127.0.0.1 with real peers as in media-relay.test.ts: werift browsers (no candidates, as the WCS SDK) and plain
 * UDP phones. Checks that concurrent calls, outgoing and incoming, all run on the one port and are relayed each to
 * its own peer; that the port stays bound from the engine's start through calls ending and starting until its
 * close; and that a port another process holds fails the engine's start with a MediaError naming it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrowserPeer, g711Packet, LOOPBACK, UdpRtpPeer } from '../../bench/media-peers.ts';
import {
  DataChannelEngine, MediaBridge, MediaError, parseSdp, PortPairAllocator, RtpLeg, SipSdpSession, type WebRtcLeg,
} from '../../src/media/index.ts';
import { bindUdp, closeSocket } from '../../src/media/udp.ts';
import { eventually } from '../support/eventually.ts';
import { watchPorts } from '../support/port-watch.ts';
import { freePort, freeUdpRange } from '../support/ports.ts';

const CONNECT_MS = 20_000;
const PACKETS = 50;

/** Whether a UDP socket can be bound to `port` on loopback (it is closed again at once). */
async function canBind(port: number): Promise<boolean> {
  return bindUdp(LOOPBACK, port).then(async (s) => { await closeSocket(s); return true; }, () => false);
}

function phoneSdp(port: number): ReturnType<typeof parseSdp> {
  return parseSdp([
    'v=0', `o=phone 77 1 IN IP4 ${LOOPBACK}`, 's=-', `c=IN IP4 ${LOOPBACK}`, 't=0 0',
    `m=audio ${port} RTP/AVP 0`, 'a=sendrecv',
  ].join('\r\n') + '\r\n');
}

interface Call {
  browser: BrowserPeer;
  phone: UdpRtpPeer;
  leg: WebRtcLeg;
  rtp: RtpLeg;
  bridge: MediaBridge;
}

describe('media relay (libdatachannel) on one UDP port for all browsers (webrtcPort: ICE UDP mux)', () => {
  let port: number;
  let engine: DataChannelEngine;
  let rtpPorts: PortPairAllocator;
  /** The per-call WebRTC pairs, which legs on the shared port must not take. */
  let webrtcPorts: PortPairAllocator;

  before(async () => {
    port = await freePort('udp');
    const rtp = await freeUdpRange(8);
    rtpPorts = new PortPairAllocator('RTP ports', rtp, rtp + 7);
    const pairs = await freeUdpRange(8);
    webrtcPorts = new PortPairAllocator('WebRTC ports', pairs, pairs + 7);
    engine = await DataChannelEngine.load({ localAddress: LOOPBACK, ports: webrtcPorts, udpMuxPort: port, connectTimeoutMs: CONNECT_MS });
  });
  after(() => engine.close());

  /** A call connected both ways: the browser offers (outgoing) or callhook does (incoming). */
  async function call(direction: 'outgoing' | 'incoming'): Promise<Call> {
    const browser = new BrowserPeer();
    const leg = engine.createLeg({ codecs: ['PCMU'] });
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
    const rtp = await RtpLeg.open({ localAddress: LOOPBACK, ports: rtpPorts });
    const sip = new SipSdpSession({ address: LOOPBACK, port: rtp.localPort, codecs: ['PCMU'] });
    let media;
    if (direction === 'outgoing') {
      sip.createOffer();
      media = sip.readAnswer(phoneSdp(phone.port));
    } else {
      media = sip.createAnswer(phoneSdp(phone.port)).media;
    }
    return { browser, phone, leg, rtp, bridge: new MediaBridge({ webrtc: leg, rtp, sip: media }) };
  }

  async function hangup(c: Call): Promise<void> {
    await c.bridge.close();
    await c.browser.close();
    await c.phone.close();
  }

  /**
   * Each call's browser and phone send PACKETS packets whose payload bytes are the call's mark; each peer must get at
   * least 90 % of its own call's, and none of another's.
   */
  async function talk(calls: readonly Call[]): Promise<void> {
    for (let i = 0; i < PACKETS; i++) {
      calls.forEach((c, mark) => {
        const payload = Buffer.alloc(160, mark + 1);
        c.browser.send(0, i, i * 160, payload);
        c.phone.send({ address: LOOPBACK, port: c.rtp.localPort }, g711Packet(0, i, 0x5eed + mark, payload));
      });
      await sleep(20);
    }
    const got = (c: Call) => [c.browser.received.filter((r) => r.packet.payloadType === 0), c.phone.received] as const;
    await eventually(() => calls.every((c) => got(c).every((rs) => rs.length >= PACKETS * 0.9)), 5_000,
      () => `each peer to get ≥ 90 % of its call's packets (${calls.map((c) => got(c).map((rs) => rs.length).join('/')).join(', ')})`);
    calls.forEach((c, mark) => {
      for (const rs of got(c)) {
        assert.ok(rs.length <= PACKETS, `call ${mark}: ${rs.length} packets for ${PACKETS} sent`);
        assert.ok(rs.every((r) => r.payload.every((b) => b === mark + 1)), `call ${mark}: a packet of another call`);
      }
    });
  }

  it('holds the port from the start, before any call', async () => {
    assert.equal(await canBind(port), false, `port ${port} bound by the engine`);
  });

  it('runs three outgoing calls and an incoming one at once on the port, each relayed both ways to its own peers', async () => {
    const calls: Call[] = [];
    try {
      for (const direction of ['outgoing', 'incoming', 'outgoing', 'outgoing'] as const) calls.push(await call(direction));
      assert.deepEqual(calls.map((c) => c.leg.localPort), calls.map(() => port), 'every leg on the shared port');
      assert.equal(webrtcPorts.inUse, 0, 'no per-call WebRTC pair taken');
      await talk(calls);
    } finally {
      for (const c of calls) await hangup(c);
    }
  });

  it('keeps the port bound while a call ends and the next starts on it', async () => {
    const watch = await watchPorts(LOOPBACK, [port]);
    try {
      const first = await call('incoming');
      await talk([first]);
      await hangup(first);
      await sleep(200);
      const second = await call('outgoing');
      try {
        await talk([second]);
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
        DataChannelEngine.load({ localAddress: LOOPBACK, ports: webrtcPorts, udpMuxPort: taken }),
        (err: unknown) => err instanceof MediaError && err.code === 'MEDIA_PORT_TAKEN' &&
          err.message.includes(`webrtcPort ${taken}`) && err.message.includes('EADDRINUSE'),
      );
    } finally {
      await closeSocket(holder);
    }
    // The process is alive, and the failed start left nothing behind on the port: once free, an engine takes it.
    const again = await DataChannelEngine.load({ localAddress: LOOPBACK, ports: webrtcPorts, udpMuxPort: taken });
    assert.equal(await canBind(taken), false, 'bound by the second engine');
    again.close();
  });
});
