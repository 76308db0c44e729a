/**
 * The RTP leg's watches on an injected clock (src/clock.ts; test/support/fake-clock.ts): the WCS default of 60 s
 * without RTP while sendrecv is checked to the second without waiting a minute, and the latched source's quiet second
 * after which another source may latch. Real sockets, fake time.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { g711Packet, LOOPBACK, UdpRtpPeer } from '../../bench/media-peers.ts';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLogger } from '../../src/log.ts';
import { PortPairAllocator, RtpLeg, type RtpPacket } from '../../src/media/index.ts';
import { RELATCH_AFTER_MS } from '../../src/media/rtp-leg.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { eventually } from '../support/ws-client.ts';

const ports = new PortPairAllocator('RTP ports', 45000, 45999);

describe('RtpLeg inactivity on a fake clock', () => {
  after(() => assert.equal(ports.inUse, 0, 'every pair released'));

  it('fires onInactive 60 s (the default) after the last RTP while sendrecv, not before, and not on hold', async () => {
    const clock = new FakeClock();
    const peer = await UdpRtpPeer.open();
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports, clock });
    let fired = 0;
    leg.onInactive(() => fired++);
    try {
      leg.setDirection('sendonly');
      clock.advance(120_000);
      assert.equal(fired, 0, 'on hold nothing is watched');
      leg.setDirection('sendrecv');
      clock.advance(30_000);
      // RTP at 30 s: the minute counts from here.
      peer.send({ address: LOOPBACK, port: leg.localPort }, g711Packet(0, 1, 5));
      await eventually(() => leg.stats().packetsIn === 1, 3000, 'the RTP packet');
      clock.advance(59_000);
      assert.equal(fired, 0, '59 s after the last packet');
      clock.advance(1_000);
      assert.equal(fired, 1, '60 s after the last packet');
      clock.advance(120_000);
      assert.equal(fired, 1, 'once per silence');
    } finally {
      await leg.close();
      await peer.close();
    }
    assert.equal(clock.pendingCount, 0, 'close stops the watch');
  });

  it('hears only the latched source until it has been quiet for a second, then latches to the next one', async () => {
    const clock = new FakeClock();
    const phone = await UdpRtpPeer.open();
    const stranger = await UdpRtpPeer.open();
    const logLines: string[] = [];
    const logger = createLogger('warn', new Writable({ write: (chunk, _enc, done) => done(void logLines.push(String(chunk))) }));
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports, clock, logger });
    const got: RtpPacket[] = [];
    leg.onRtp((p) => got.push(p));
    const to = { address: LOOPBACK, port: leg.localPort };
    const fromPhone = (seq: number) => g711Packet(0, seq, 0x1111);
    const fromStranger = (seq: number) => g711Packet(0, seq, 0x2222);
    try {
      leg.setRemote({ address: LOOPBACK, port: phone.port, rtcpAddress: LOOPBACK, rtcpPort: phone.port + 1 });
      leg.setDirection('sendrecv');
      phone.send(to, fromPhone(1));
      await eventually(() => got.length === 1, 3000, 'the phone latches');
      // The stranger's packet is sent first, so it would be read first: only the phone's may arrive.
      stranger.send(to, fromStranger(1));
      phone.send(to, fromPhone(2));
      await eventually(() => got.some((p) => p.header.sequenceNumber === 2), 3000, "the phone's second packet");
      assert.deepEqual(got.map((p) => p.header.ssrc), [0x1111, 0x1111], "the stranger's packet is not heard");
      leg.send(g711Packet(0, 10, 9));
      await eventually(() => phone.received.length === 1, 3000, 'our packet at the phone');
      assert.equal(leg.stats().remote, `${LOOPBACK}:${phone.port}`);

      // The phone goes quiet (and away: its port answers ICMP unreachable, which is no error of ours).
      await phone.close();
      leg.send(g711Packet(0, 11, 9));
      clock.advance(RELATCH_AFTER_MS - 500);
      stranger.send(to, fromStranger(2));
      await sleep(100); // sent (and refused) before the quiet second is over
      clock.advance(500);
      stranger.send(to, fromStranger(3));
      await eventually(() => got.some((p) => p.header.ssrc === 0x2222), 3000, "the stranger's packet after the quiet second");
      assert.deepEqual(got.filter((p) => p.header.ssrc === 0x2222).map((p) => p.header.sequenceNumber), [3]);
      leg.send(g711Packet(0, 12, 9));
      await eventually(() => stranger.received.length === 1, 3000, 'our packet at the new source');
      assert.equal(leg.stats().remote, `${LOOPBACK}:${stranger.port}`);
      assert.deepEqual(logLines, [], 'nothing logged');
    } finally {
      await leg.close();
      await stranger.close();
    }
  });
});
