/**
 * What the native engine (src/media/native-engine.ts, native/media-transport.c) does that the shared media relay suite
 * (media-relay.test.ts, which runs every engine) does not reach: the DTLS client role, and datagrams nobody should send
 * — garbage of every kind the port demultiplexes, and DTLS records from an address ICE never checked — which must be
 * dropped without failing the leg or the process. A werift peer plays the browser. And, at the transport itself, with
 * a second native transport as the DTLS peer: OpenSSL's per-connection state is let go once SRTP flows.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { BrowserPeer, g711Packet, LOOPBACK, type ReceivedRtp } from '../../bench/media-peers.ts';
import { PortPairAllocator, type WebRtcLeg } from '../../src/media/index.ts';
import { serializeRtp } from '../../src/media/rtp/packet.ts';
import { dtlsCertificate } from '../../src/media/dtls-certificate.ts';
import { NativeEngine } from '../../src/media/native-engine.ts';
import { closeTransport, nativeMedia, TRANSPORT_CONNECTED, type DtlsContext, type TransportHandle } from '../../src/media/native-transport.ts';
import { eventually } from '../support/eventually.ts';
import { freePort } from '../support/ports.ts';

const ports = new PortPairAllocator('WebRTC ports', 43000, 43099);
const CONNECT_MS = 10_000;
let engine: NativeEngine;
let attacker: Socket;

/** `count` datagrams of random bytes whose first byte is in [low, high] (RFC 7983's ranges), of random sizes. */
function garbage(count: number, low: number, high: number): Buffer[] {
  return Array.from({ length: count }, () => {
    const b = randomBytes(1 + Math.floor(Math.random() * 1400));
    b[0] = low + Math.floor(Math.random() * (high - low + 1));
    return b;
  });
}

async function spray(port: number, datagrams: Buffer[]): Promise<void> {
  for (const d of datagrams) await new Promise<void>((r) => attacker.send(d, port, LOOPBACK, () => r()));
}

/** Browser → leg and leg → browser: `count` PCMU packets each way, echoed by the test in place of a bridge. */
async function audioBothWays(browser: BrowserPeer, leg: WebRtcLeg, count: number): Promise<{ atLeg: number; atBrowser: number }> {
  let atLeg = 0;
  const off = leg.onRtp((p) => {
    atLeg++;
    leg.sendRtp(p);
  });
  const atBrowser: ReceivedRtp[] = [];
  browser.onRtp((r) => atBrowser.push(r));
  for (let i = 0; i < count; i++) {
    const p = g711Packet(0, i, 0);
    browser.send(0, i, i * 160, p.payload);
    await new Promise((r) => setTimeout(r, 5));
  }
  await eventually(() => atBrowser.length >= count * 0.9, 5_000, () => `the echoes (${atBrowser.length}/${count})`);
  off();
  return { atLeg, atBrowser: atBrowser.length };
}

async function connected(leg: WebRtcLeg): Promise<void> {
  await eventually(() => leg.state === 'connected', CONNECT_MS, () => `the leg connected (it is ${leg.state})`);
}

describe('the native WebRTC engine: DTLS client role, and datagrams it must drop', () => {
  before(async () => {
    engine = NativeEngine.load({ localAddress: LOOPBACK, ports, connectTimeoutMs: CONNECT_MS });
    attacker = createSocket('udp4');
    await new Promise<void>((r) => attacker.bind(0, LOOPBACK, r));
  });
  after(() => {
    attacker.close();
    assert.equal(ports.inUse, 0, 'port pairs released');
  });

  it('is the DTLS client when the browser offers a=setup:passive (RFC 5763 §5), and relays both ways', async () => {
    const browser = new BrowserPeer();
    const leg = engine.createLeg({ codecs: ['PCMU'] });
    try {
      // werift offers actpass and takes the role our answer leaves it: shown passive, we answer active.
      const offer = await browser.createOffer();
      assert.match(offer, /^a=setup:actpass\r$/m);
      const answer = await leg.setRemoteOffer(offer.replace('a=setup:actpass', 'a=setup:passive'));
      assert.match(answer, /^a=setup:active\r$/m);
      await browser.setAnswer(answer);
      await browser.connected(CONNECT_MS);
      await connected(leg);
      const { atLeg, atBrowser } = await audioBothWays(browser, leg, 50);
      assert.ok(atLeg >= 45 && atBrowser >= 45, `leg got ${atLeg}/50, browser ${atBrowser}/50`);
    } finally {
      await leg.close();
      await browser.close();
    }
  });

  it('drops garbage of every kind, before and during a call, and forged DTLS from elsewhere, and the call still connects and relays', async () => {
    const browser = new BrowserPeer();
    const leg = engine.createLeg({ codecs: ['PCMU'] });
    try {
      const answer = await leg.setRemoteOffer(await browser.createOffer());
      const port = leg.localPort!;
      // Before ICE: STUN-looking (0–3), DTLS-looking (20–63), RTP-looking (128–191) and the rest (64–127, 192–255).
      await spray(port, [...garbage(300, 0, 3), ...garbage(300, 20, 63), ...garbage(300, 128, 191), ...garbage(100, 64, 127), ...garbage(100, 192, 255)]);
      await spray(port, [Buffer.alloc(0), Buffer.alloc(9000, 0x16)]);
      // During the handshake: forged DTLS records (content type 22, handshake) from an address ICE never checked.
      const forging = spray(port, garbage(500, 22, 22));
      await browser.setAnswer(answer);
      await forging;
      await browser.connected(CONNECT_MS);
      await connected(leg);
      // During the call: forged SRTP (fails authentication) and more DTLS from elsewhere.
      await spray(port, [...garbage(300, 128, 191), ...garbage(100, 21, 23)]);
      const { atLeg, atBrowser } = await audioBothWays(browser, leg, 50);
      assert.ok(atLeg >= 45 && atLeg <= 50, `leg got ${atLeg}/50 (no forged packet passed)`);
      assert.ok(atBrowser >= 45, `browser got ${atBrowser}/50`);
      assert.equal(leg.state, 'connected');
      assert.equal(leg.stats().packetsIn, atLeg, 'only the browser\'s packets were counted');
    } finally {
      await leg.close();
      await browser.close();
    }
  });

  it('says which SDP line is missing: a browser without a sha-256 fingerprint is refused before any port is taken', async () => {
    const browser = new BrowserPeer();
    const leg = engine.createLeg({ codecs: ['PCMU'] });
    try {
      const offer = (await browser.createOffer()).replace(/^a=fingerprint:sha-256 /m, 'a=fingerprint:sha-1 ');
      await assert.rejects(leg.setRemoteOffer(offer), /the browser SDP has no sha-256 a=fingerprint/);
      assert.equal(ports.inUse, 0);
    } finally {
      await leg.close();
      await browser.close();
    }
  });
});

describe('the native transport: OpenSSL\'s DTLS state goes once the browser\'s SRTP authenticates', () => {
  const media = nativeMedia();
  const rssAnonKiB = () => Number(/^RssAnon:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  let context: DtlsContext;
  let fingerprint: Buffer;
  const open: TransportHandle[] = [];
  before(async () => {
    const certificate = await dtlsCertificate();
    context = media.context(certificate.certificate, certificate.key);
    fingerprint = Buffer.from(new X509Certificate(certificate.certificate).fingerprint256.replaceAll(':', ''), 'hex');
  });
  after(async () => {
    await Promise.all(open.splice(0).map((t) => closeTransport(media, t)));
  });

  /** Two transports, DTLS server and client of each other, up, with one SRTP packet received by each. */
  async function pairWithSrtp(): Promise<[TransportHandle, TransportHandle]> {
    const rtp = serializeRtp(g711Packet(0, 1, 0));
    let up = 0;
    let received = 0;
    let failure: string | undefined;
    const onEvent = (kind: number, detail: string) => {
      if (kind !== TRANSPORT_CONNECTED) failure = `DTLS failed: ${detail}`;
      else if (++up === 2) for (const t of [a, b]) assert.equal(media.sendRtp(t, rtp), true);
    };
    const onRtp = () => received++;
    const a = media.open(LOOPBACK, 0, () => {}, onRtp, onEvent);
    const b = media.open(LOOPBACK, 0, () => {}, onRtp, onEvent);
    open.push(a, b);
    media.setRemote(a, LOOPBACK, media.localPort(b));
    media.setRemote(b, LOOPBACK, media.localPort(a));
    media.startDtls(a, context, true, fingerprint);
    media.startDtls(b, context, false, fingerprint);
    await eventually(() => {
      if (failure !== undefined) throw new Error(failure);
      return received === 2 || undefined;
    }, CONNECT_MS, 'DTLS up and one SRTP packet each way');
    return [a, b];
  }

  it('drops DTLS records from the checked address afterwards, and holds a few KiB per transport instead of ~50', async (t) => {
    const [a, b] = await pairWithSrtp();
    // A DTLS-looking record from the very address ICE checked: OpenSSL would have taken it; now it is dropped.
    const dropped = media.dropped(b);
    media.sendTo(a, Buffer.from([23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0, 4, 1, 2, 3, 4]), LOOPBACK, media.localPort(b));
    await eventually(() => media.dropped(b) === dropped + 1 || undefined, 2000, 'the record to be dropped');

    const PAIRS = 100;
    const before = rssAnonKiB();
    for (let i = 0; i < PAIRS; i++) await pairWithSrtp();
    const perTransport = (rssAnonKiB() - before) / (2 * PAIRS);
    t.diagnostic(`${perTransport.toFixed(1)} KiB of anonymous memory per transport up, ${PAIRS} pairs`);
    // With OpenSSL's state kept for the call's life each transport held 52–53 KiB more (measured).
    assert.ok(perTransport < 20, `${perTransport.toFixed(1)} KiB of anonymous memory per transport`);
  });
});

describe('the native transport: one epoll set for every socket, and a latched socket\'s datagrams', () => {
  const media = nativeMedia();
  const open: TransportHandle[] = [];
  after(async () => {
    await Promise.all(open.splice(0).map((t) => closeTransport(media, t)));
  });

  it('reads every socket ready in a wake-up; one closed by another\'s callback in that wake-up hears nothing more', async () => {
    const SOCKETS = 20;
    const heard: number[] = [];
    const closed: Array<Promise<void>> = [];
    const receivers = Array.from({ length: SOCKETS }, (_, i) => media.openUdp(LOOPBACK, 0, () => {
      heard.push(i);
      // The first callback closes every other receiver, whose datagram is already waiting in the same wake-up.
      if (heard.length === 1) for (const [j, r] of receivers.entries()) if (j !== i) closed.push(closeTransport(media, r));
    }));
    const sender = media.openUdp(LOOPBACK, 0, () => {});
    open.push(sender);
    // sendTo is a synchronous sendto(2): all twenty are queued on loopback before the loop polls again.
    for (const r of receivers) media.sendTo(sender, Buffer.from('x'), LOOPBACK, media.localPort(r));
    await eventually(() => heard.length >= 1 || undefined, 2000, 'a datagram to be heard');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(heard.length, 1, `heard by ${heard.join(', ')}`);
    open.push(receivers[heard[0]!]!);
    await Promise.all(closed);
    // The closed ones are closed: their external says so, not freed memory.
    assert.throws(() => media.localPort(receivers.find((_, j) => j !== heard[0])!), /closed/);
  });

  it('hands datagrams up as views of receive chunks that are never written twice: kept views stay as they came', async () => {
    const COUNT = 600; // 600 × 200 bytes: the views span two 64 KiB chunks and part of a third
    const kept: Buffer[] = [];
    const chunks = new Set<ArrayBufferLike>();
    const rtp = media.openUdp(LOOPBACK, 0, (chunk, offset, length) => {
      chunks.add(chunk.buffer);
      kept.push(chunk.subarray(offset, offset + length));
    });
    const peer = media.openUdp(LOOPBACK, 0, () => {});
    open.push(rtp, peer);
    const datagram = (i: number) => Buffer.alloc(200, i % 251);
    for (let i = 0; i < COUNT; i++) {
      media.sendTo(peer, datagram(i), LOOPBACK, media.localPort(rtp));
      // Bursts of 50 at most: the socket's receive buffer holds no more of them at once.
      if (i % 50 === 49) await eventually(() => kept.length === i + 1 || undefined, 2000, `datagram ${i + 1}`);
    }
    assert.ok(chunks.size >= 2, `${chunks.size} chunk(s) for ${COUNT} datagrams of 200 bytes`);
    for (const [i, view] of kept.entries()) assert.deepEqual(view, datagram(i), `datagram ${i} as it came`);
  });

  it('hands a datagram up with its source, and without it while connected to that source (the RTP leg\'s latch)', async () => {
    const heard: Array<[string | undefined, number | undefined]> = [];
    // A port of its own, as the RTP leg binds: a socket bound to port 0 loses its port when disconnected (Linux).
    const rtp = media.openUdp(LOOPBACK, await freePort('udp'), (_chunk, _offset, _length, address, port) => heard.push([address, port]));
    const peer = media.openUdp(LOOPBACK, 0, () => {});
    open.push(rtp, peer);
    const peerPort = media.localPort(peer);
    const hear = async (count: number) => {
      media.sendTo(peer, Buffer.from([0x80, 0, 0, 1]), LOOPBACK, media.localPort(rtp));
      await eventually(() => heard.length === count || undefined, 2000, `datagram ${count}`);
    };
    await hear(1);
    media.connect(rtp, LOOPBACK, peerPort);
    await hear(2);
    media.disconnect(rtp);
    await hear(3);
    assert.deepEqual(heard, [[LOOPBACK, peerPort], [undefined, undefined], [LOOPBACK, peerPort]]);
  });
});
