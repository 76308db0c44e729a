/**
 * The RTP leg with SRTP (RFC 3711) on real sockets (127.0.0.1): once an exchange gives it SDES keys, what it sends is
 * SRTP the peer's context decrypts, what it receives is authenticated and decrypted before it is passed on, and a
 * replayed, forged or plain packet (RTP or RTCP) is dropped and counted, never passed on.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { g711Packet, LOOPBACK } from '../../bench/media-peers.ts';
import { PortPairAllocator, RtpLeg, type RtpPacket } from '../../src/media/index.ts';
import { serializeRtp } from '../../src/media/rtp/packet.ts';
import { SrtpContext, type SrtpKeys } from '../../src/media/srtp/index.ts';
import { eventually } from '../support/eventually.ts';

const ports = new PortPairAllocator('RTP ports', 43000, 43999);
const WAIT_MS = 3_000;

const keys = (): SrtpKeys => ({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: randomBytes(16), masterSalt: randomBytes(14) });

async function peerSocket(): Promise<{ socket: Socket; received: Buffer[] }> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  socket.on('message', (buf) => received.push(buf));
  await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
  return { socket, received };
}

describe('RtpLeg with SRTP', () => {
  it('sends SRTP, passes on what authenticates, drops replays, forgeries and plain packets', async () => {
    const peer = await peerSocket();
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports, inactivityMs: 0 });
    const got: RtpPacket[] = [];
    leg.onRtp((p) => got.push(p));
    const ours = keys();
    const theirs = keys();
    try {
      const port = peer.socket.address().port;
      leg.setRemote({ address: LOOPBACK, port, rtcpAddress: LOOPBACK, rtcpPort: port });
      leg.setDirection('sendrecv');
      leg.setSrtp({ send: ours, receive: theirs });

      // Out: SRTP that the peer decrypts with our key; the payload on the wire is not the plain one.
      const plain = serializeRtp(g711Packet(0, 1, 0xabc));
      assert.equal(leg.send(g711Packet(0, 1, 0xabc)), true);
      await eventually(() => peer.received.length === 1, WAIT_MS, 'our packet at the peer');
      const wire = peer.received[0]!;
      assert.equal(wire.length, plain.length + 10);
      assert.notDeepEqual(wire.subarray(12, plain.length), plain.subarray(12));
      assert.deepEqual(new SrtpContext(ours).unprotectRtp(wire), plain);

      // In: the peer's SRTP is passed on decrypted.
      const peerContext = new SrtpContext(theirs);
      const send = (buf: Buffer, toPort = leg.localPort) => peer.socket.send(buf, toPort, LOOPBACK);
      const genuine = peerContext.protectRtp(serializeRtp(g711Packet(0, 50, 0xdef, Buffer.alloc(160, 0x2a))));
      send(genuine);
      await eventually(() => got.length === 1, WAIT_MS, 'the peer packet passed on');
      assert.deepEqual(got[0]!.payload, Buffer.alloc(160, 0x2a));

      // A replay, a forgery and a plain packet: dropped and counted.
      send(genuine);
      const forged = Buffer.from(peerContext.protectRtp(serializeRtp(g711Packet(0, 51, 0xdef))));
      forged[20]! ^= 0xff;
      send(forged);
      send(serializeRtp(g711Packet(0, 52, 0xdef)));
      await eventually(() => leg.stats().srtpDropped === 3, WAIT_MS, () => `3 packets dropped (${leg.stats().srtpDropped})`);

      // RTCP: SRTCP is counted as RTCP, plain RTCP on either port is dropped.
      const rr = Buffer.from('80c9000100000def', 'hex');
      send(peerContext.protectRtcp(rr), leg.localPort + 1);
      send(rr, leg.localPort + 1);
      await eventually(() => leg.stats().rtcpIn === 1 && leg.stats().srtpDropped === 4, WAIT_MS, () => JSON.stringify(leg.stats()));

      // A genuine packet after all that still passes: the forgeries changed nothing.
      send(peerContext.protectRtp(serializeRtp(g711Packet(0, 53, 0xdef))));
      await eventually(() => got.length === 2, WAIT_MS, 'the next genuine packet');
      assert.equal(got[1]!.header.sequenceNumber, 53);
    } finally {
      await leg.close();
      peer.socket.close();
    }
  });

  it('a new receiving key (re-keying) starts a new context; the previous key still decrypts packets in flight', async () => {
    const peer = await peerSocket();
    const leg = await RtpLeg.open({ localAddress: LOOPBACK, ports, inactivityMs: 0 });
    const got: number[] = [];
    leg.onRtp((p) => got.push(p.header.sequenceNumber));
    const ours = keys();
    const first = keys();
    const second = keys();
    try {
      leg.setSrtp({ send: ours, receive: first });
      const old = new SrtpContext(first);
      const send = (buf: Buffer) => peer.socket.send(buf, leg.localPort, LOOPBACK);
      send(old.protectRtp(serializeRtp(g711Packet(0, 1, 7))));
      await eventually(() => got.length === 1, WAIT_MS, 'a packet with the first key');
      leg.setSrtp({ send: ours, receive: second });
      send(old.protectRtp(serializeRtp(g711Packet(0, 2, 7))));
      send(new SrtpContext(second).protectRtp(serializeRtp(g711Packet(0, 3, 7))));
      await eventually(() => got.length === 3, WAIT_MS, () => `packets with both keys (${got.join(', ')})`);
      assert.equal(leg.stats().srtpDropped, 0);
      leg.setSrtp(undefined);
      send(serializeRtp(g711Packet(0, 4, 7)));
      await eventually(() => got.includes(4), WAIT_MS, 'plain RTP once SRTP is off again');
    } finally {
      await leg.close();
      peer.socket.close();
    }
  });
});
