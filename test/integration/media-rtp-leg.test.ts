/**
 * The RTP leg towards SIP on real sockets (127.0.0.1): symmetric RTP (RFC 4961), direction gating (RFC 3264 §6.1),
 * RTCP recognised on either port and never passed on (RFC 5761 §4), loss statistics, the inactivity watch and its
 * suspension on hold, skipping a taken port pair, and closing that frees both ports.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { g711Packet, LOOPBACK, UdpRtpPeer } from '../../bench/media-peers.ts';
import { MediaStateError, PortPairAllocator, RtpLeg, type RtpPacket } from '../../src/media/index.ts';

const ports = new PortPairAllocator('RTP ports', 44000, 44999);
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

async function until(what: string, check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function bindUdp(port: number): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((resolve, reject) => {
    s.once('error', (err) => {
      s.close();
      reject(err);
    });
    s.bind(port, LOOPBACK, () => resolve(s));
  });
}

const closeSocket = (s: Socket) => new Promise<void>((r) => s.close(() => r()));
const target = (peer: UdpRtpPeer) => ({ address: LOOPBACK, port: peer.port, rtcpAddress: LOOPBACK, rtcpPort: peer.port + 1 });

describe('RtpLeg', () => {
  after(() => assert.equal(ports.inUse, 0, 'every pair released'));

  it('binds an even RTP port and the odd RTCP port above it on the local address', async () => {
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports });
    try {
      assert.equal(leg.localPort % 2, 0);
      assert.ok(leg.localPort >= 44000 && leg.localPort <= 44998);
      await assert.rejects(bindUdp(leg.localPort), /EADDRINUSE/);
      await assert.rejects(bindUdp(leg.localPort + 1), /EADDRINUSE/);
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
      await until('the one packet sent', () => peer.received.length === 1);
      await sleep(50);
      assert.deepEqual(peer.received.map((r) => r.packet.sequenceNumber), [3]);
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
      await until('the packet at the SDP address', () => sdpPeer.received.length === 1);
      natPeer.send({ address: LOOPBACK, port: leg.localPort }, g711Packet(0, 100, 0xabc));
      await until('the packet from the NAT address', () => got.length === 1);
      leg.send(g711Packet(0, 2, 9));
      await until('the packet at the NAT address', () => natPeer.received.length === 1);
      assert.equal(sdpPeer.received.length, 1);
      assert.equal(leg.stats().remote, `${LOOPBACK}:${natPeer.port}`);
      assert.equal(got[0]!.header.ssrc, 0xabc);
      // A re-INVITE repeating the address (hold, session refresh) keeps the latched one…
      leg.setRemote(target(sdpPeer));
      leg.send(g711Packet(0, 3, 9));
      await until('the packet still at the NAT address', () => natPeer.received.length === 2);
      // …one with a new address replaces it.
      const movedPeer = await UdpRtpPeer.open();
      leg.setRemote(target(movedPeer));
      leg.send(g711Packet(0, 4, 9));
      await until('the packet at the new SDP address', () => movedPeer.received.length === 1);
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
    const peer = await bindUdp(0);
    const got: RtpPacket[] = [];
    leg.onRtp((p) => got.push(p));
    try {
      // RR from SSRC 0x12345678 about 0xdeadbeef: fraction lost 64/256.
      const rr = hex('81 c9 0007 12345678 deadbeef 40 000005 00010010 00000020 00000000 00000000');
      peer.send(rr, leg.localPort, LOOPBACK); // muxed on the RTP port
      peer.send(rr, leg.localPort + 1, LOOPBACK); // on the RTCP port
      peer.send(hex('80 c9 00'), leg.localPort + 1, LOOPBACK); // broken: ignored
      peer.send(hex('0102'), leg.localPort, LOOPBACK); // not RTP: ignored
      await until('both reports', () => leg.stats().rtcpIn === 2);
      await sleep(50);
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
      await until('five packets', () => leg.stats().packetsIn === 5);
      assert.deepEqual(leg.stats(), {
        packetsIn: 5, bytesIn: 5 * 172, packetsOut: 0, bytesOut: 0, rtcpIn: 0, packetsLost: 2, remote: `${LOOPBACK}:${peer.port}`,
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
      await until('inactivity', () => fired === 1);
      assert.ok(Date.now() - started >= 190, 'not before inactivityMs');
      await sleep(400);
      assert.equal(fired, 1, 'once per silence');
      peer.send({ address: LOOPBACK, port: leg.localPort }, g711Packet(0, 1, 5));
      await until('inactivity again', () => fired === 2);
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
      await until('inactivity after unhold', () => fired === 1);
    } finally {
      await leg.close();
    }
  });

  it('skips a port pair another process holds', async () => {
    const small = new PortPairAllocator('RTP ports', 44900, 44905);
    const squatter = await bindUdp(44901).catch(() => undefined);
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports: small });
    try {
      if (squatter) assert.notEqual(leg.localPort, 44900);
    } finally {
      await leg.close();
      if (squatter) await closeSocket(squatter);
    }
    assert.equal(small.inUse, 0);
  });

  it('closes both sockets and frees the pair; close twice is fine; send after close throws', async () => {
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports });
    const port = leg.localPort;
    await leg.close();
    await leg.close();
    assert.throws(() => leg.send(g711Packet(0, 1, 1)), MediaStateError);
    const again = [await bindUdp(port), await bindUdp(port + 1)];
    await Promise.all(again.map(closeSocket));
  });
});
