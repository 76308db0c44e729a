/**
 * The RTP leg's inactivity watch on an injected clock (src/clock.ts; test/support/fake-clock.ts): the WCS default of
 * 60 s without RTP while sendrecv is checked to the second without waiting a minute. Real sockets, fake time.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { g711Packet, LOOPBACK, UdpRtpPeer } from '../../bench/media-peers.ts';
import { PortPairAllocator, RtpLeg } from '../../src/media/index.ts';
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
});
