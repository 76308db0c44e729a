/**
 * The RTP leg towards SIP on real sockets (127.0.0.1): symmetric RTP (RFC 4961), direction gating (RFC 3264 §6.1),
 * RTCP recognised on either port and never passed on (RFC 5761 §4), loss statistics, the inactivity watch and its
 * suspension on hold, skipping a taken port pair, and closing that frees both ports.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { g711Packet, LOOPBACK, UdpRtpPeer } from '../../bench/media-peers.ts';
import { MediaError, PortPairAllocator, RtpLeg, type RtpPacket } from '../../src/media/index.ts';
import { bindUdp, closeSocket } from '../../src/media/udp.ts';
import { eventually } from '../support/eventually.ts';
import { freeUdpRange } from '../support/ports.ts';

const ports = new PortPairAllocator('RTP ports', 44000, 44999);
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const WAIT_MS = 3_000;
const target = (peer: UdpRtpPeer) => ({ address: LOOPBACK, port: peer.port, rtcpAddress: LOOPBACK, rtcpPort: peer.port + 1 });

describe('RtpLeg', () => {
  after(() => assert.equal(ports.inUse, 0, 'every pair released'));

  it('binds an even RTP port and the odd RTCP port above it on the local address', async () => {
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports });
    try {
      assert.equal(leg.localPort % 2, 0);
      assert.ok(leg.localPort >= 44000 && leg.localPort <= 44998);
      await assert.rejects(bindUdp(LOOPBACK, leg.localPort), /EADDRINUSE/);
      await assert.rejects(bindUdp(LOOPBACK, leg.localPort + 1), /EADDRINUSE/);
    } finally {
      await leg.close();
    }
  });

  it('sends nothing until a direction that sends is applied, and nothing while recvonly or inactive', async () => {
    const peer = await UdpRtpPeer.open();
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports });
    try {
      leg.setRemote(target(peer));
      assert.equal(leg.send(g711Packet(0, 1, 9)), false, 'inactive before any offer/answer');
      leg.setDirection('recvonly');
      assert.equal(leg.send(g711Packet(0, 2, 9)), false);
      leg.setDirection('sendonly');
      assert.equal(leg.send(g711Packet(0, 3, 9)), true);
      leg.setRemote(undefined); // c=0.0.0.0
      assert.equal(leg.send(g711Packet(0, 4, 9)), false);
      // A last packet sent again, to the same peer from the same socket, arrives after anything sent before it.
      leg.setRemote(target(peer));
      assert.equal(leg.send(g711Packet(0, 5, 9)), true);
      await eventually(() => peer.received.some((r) => r.packet.sequenceNumber === 5), WAIT_MS, 'the last packet');
      assert.deepEqual(peer.received.map((r) => r.packet.sequenceNumber), [3, 5]);
    } finally {
      await leg.close();
      await peer.close();
    }
  });

  it('sends to the SDP address first, then back to where RTP comes from (symmetric RTP, RFC 4961)', async () => {
    const sdpPeer = await UdpRtpPeer.open();
    const natPeer = await UdpRtpPeer.open(); // the same phone seen through a NAT: another port
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports });
    const got: RtpPacket[] = [];
    leg.onRtp((p) => got.push(p));
    try {
      leg.setRemote(target(sdpPeer));
      leg.setDirection('sendrecv');
      leg.send(g711Packet(0, 1, 9));
      await eventually(() => sdpPeer.received.length === 1, WAIT_MS, 'the packet at the SDP address');
      natPeer.send({ address: LOOPBACK, port: leg.localPort }, g711Packet(0, 100, 0xabc));
      await eventually(() => got.length === 1, WAIT_MS, 'the packet from the NAT address');
      leg.send(g711Packet(0, 2, 9));
      await eventually(() => natPeer.received.length === 1, WAIT_MS, 'the packet at the NAT address');
      assert.equal(sdpPeer.received.length, 1);
      assert.equal(leg.stats().remote, `${LOOPBACK}:${natPeer.port}`);
      assert.equal(got[0]!.header.ssrc, 0xabc);
      // A re-INVITE repeating the address (hold, session refresh) keeps the latched one…
      leg.setRemote(target(sdpPeer));
      leg.send(g711Packet(0, 3, 9));
      await eventually(() => natPeer.received.length === 2, WAIT_MS, 'the packet still at the NAT address');
      // …one with a new address replaces it.
      const movedPeer = await UdpRtpPeer.open();
      leg.setRemote(target(movedPeer));
      leg.send(g711Packet(0, 4, 9));
      await eventually(() => movedPeer.received.length === 1, WAIT_MS, 'the packet at the new SDP address');
      // The leg was latched (its socket connected) to the NAT address: the new address's packets are heard at once.
      movedPeer.send({ address: LOOPBACK, port: leg.localPort }, g711Packet(0, 101, 0xdef));
      await eventually(() => got.length === 2, WAIT_MS, 'the packet from the new address');
      assert.equal(got[1]!.header.ssrc, 0xdef);
      await movedPeer.close();
      assert.equal(sdpPeer.received.length, 1);
    } finally {
      await leg.close();
      await sdpPeer.close();
      await natPeer.close();
    }
  });

  it('counts RTCP on either port without passing it on as RTP, and reads the loss the peer reports', async () => {
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports });
    const peer = await bindUdp(LOOPBACK, 0);
    const got: RtpPacket[] = [];
    leg.onRtp((p) => got.push(p));
    try {
      // RR from SSRC 0x12345678 about 0xdeadbeef: fraction lost 64/256.
      const rr = hex('81 c9 0007 12345678 deadbeef 40 000005 00010010 00000020 00000000 00000000');
      peer.send(rr, leg.localPort, LOOPBACK); // muxed on the RTP port
      peer.send(rr, leg.localPort + 1, LOOPBACK); // on the RTCP port
      peer.send(hex('80 c9 00'), leg.localPort + 1, LOOPBACK); // broken: ignored
      peer.send(hex('0102'), leg.localPort, LOOPBACK); // not RTP: ignored
      // One more report on each port: once both are counted, every datagram sent before them was handled.
      peer.send(rr, leg.localPort, LOOPBACK);
      peer.send(rr, leg.localPort + 1, LOOPBACK);
      await eventually(() => leg.stats().rtcpIn === 4, WAIT_MS, 'the reports on both ports');
      assert.equal(got.length, 0);
      assert.equal(leg.stats().packetsIn, 0);
      assert.equal(leg.stats().remoteFractionLost, 0.25);
    } finally {
      await leg.close();
      await closeSocket(peer);
    }
  });

  it('counts packets, bytes and the loss seen in sequence gaps', async () => {
    const peer = await UdpRtpPeer.open();
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports });
    try {
      for (const seq of [1, 2, 3, 6, 7]) peer.send({ address: LOOPBACK, port: leg.localPort }, g711Packet(0, seq, 5));
      await eventually(() => leg.stats().packetsIn === 5, WAIT_MS, 'five packets');
      assert.deepEqual(leg.stats(), {
        packetsIn: 5, bytesIn: 5 * 172, packetsOut: 0, bytesOut: 0, rtcpIn: 0, srtpDropped: 0, packetsLost: 2, remote: `${LOOPBACK}:${peer.port}`,
      });
    } finally {
      await leg.close();
      await peer.close();
    }
  });

  it('fires onInactive once when RTP stops while sendrecv, again after RTP came back and stopped', async () => {
    const peer = await UdpRtpPeer.open();
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports, inactivityMs: 200 });
    let fired = 0;
    leg.onInactive(() => fired++);
    try {
      await sleep(400);
      assert.equal(fired, 0, 'not watched before a sendrecv offer/answer (a ringing call)');
      leg.setDirection('sendrecv');
      const started = Date.now();
      await eventually(() => fired === 1, WAIT_MS, 'inactivity');
      assert.ok(Date.now() - started >= 190, 'not before inactivityMs');
      await sleep(400);
      assert.equal(fired, 1, 'once per silence');
      peer.send({ address: LOOPBACK, port: leg.localPort }, g711Packet(0, 1, 5));
      await eventually(() => fired === 2, WAIT_MS, 'inactivity again');
    } finally {
      await leg.close();
      await peer.close();
    }
  });

  it('does not fire while on hold, and starts counting afresh on unhold', async () => {
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports, inactivityMs: 200 });
    let fired = 0;
    leg.onInactive(() => fired++);
    try {
      leg.setDirection('sendonly');
      await sleep(500);
      assert.equal(fired, 0);
      leg.setDirection('recvonly');
      await sleep(300);
      assert.equal(fired, 0);
      leg.setDirection('sendrecv');
      await sleep(100);
      assert.equal(fired, 0, 'the hold did not count');
      await eventually(() => fired === 1, WAIT_MS, 'inactivity after unhold');
    } finally {
      await leg.close();
    }
  });

  it('skips a port pair another process holds', async () => {
    const first = await freeUdpRange(4);
    const small = new PortPairAllocator('RTP ports', first, first + 3);
    // The RTCP port of the first pair: the leg must also let go of the RTP port it bound before it failed.
    const squatter = await bindUdp(LOOPBACK, first + 1);
    try {
      const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports: small });
      try {
        assert.equal(leg.localPort, first + 2, 'the second pair');
        await closeSocket(await bindUdp(LOOPBACK, first));
      } finally {
        await leg.close();
      }
    } finally {
      await closeSocket(squatter);
    }
    assert.equal(small.inUse, 0);
  });

  it('closes both sockets and frees the pair; close twice is fine; send after close throws', async () => {
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports });
    const port = leg.localPort;
    await leg.close();
    await leg.close();
    assert.throws(() => leg.send(g711Packet(0, 1, 1)), { name: 'MediaError', code: 'MEDIA_STATE' });
    const again = [await bindUdp(LOOPBACK, port), await bindUdp(LOOPBACK, port + 1)];
    await Promise.all(again.map(closeSocket));
  });
});
