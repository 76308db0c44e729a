/**
 * PortPairAllocator: even/odd pairs from a configured range (RFC 3550 §11), round-robin reuse, exhaustion, release,
 * binding that skips pairs another process holds, and the pressure it reports (warnings, refusals counted).
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:dgram';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { MediaError } from '../../src/media/errors.ts';
import { PortPairAllocator } from '../../src/media/ports.ts';
import { bindUdp, closeSocket } from '../../src/media/udp.ts';
import { freeUdpRange, LOOPBACK } from '../support/ports.ts';

/** Binds `port` on loopback, as the legs do. */
const bindLoopback = (port: number): Promise<Socket> => bindUdp(LOOPBACK, port);

describe('PortPairAllocator', () => {
  it('hands out even ports with the odd one above, starting at the first even port of the range', () => {
    const a = new PortPairAllocator('RTP ports', 30001, 30008);
    assert.equal(a.capacity, 3); // 30002/3, 30004/5, 30006/7 (30008 has no partner)
    assert.deepEqual([a.allocate(), a.allocate(), a.allocate()], [30002, 30004, 30006]);
    assert.equal(a.inUse, 3);
  });

  it('fails with MEDIA_PORTS_EXHAUSTED naming the range when every pair is in use, and recovers on release', () => {
    const a = new PortPairAllocator('RTP ports', 30000, 30003);
    a.allocate();
    a.allocate();
    assert.throws(() => a.allocate(), (err: unknown) => err instanceof MediaError && err.code === 'MEDIA_PORTS_EXHAUSTED' && /RTP ports 30000-30003/.test(err.message));
    a.release(30002);
    assert.equal(a.allocate(), 30002);
  });

  it('reuses a released pair last (round-robin), so late packets of an ended call go nowhere', () => {
    const a = new PortPairAllocator('WebRTC ports', 35000, 35007);
    const first = a.allocate();
    a.release(first);
    assert.deepEqual([a.allocate(), a.allocate(), a.allocate(), a.allocate()], [35002, 35004, 35006, 35000]);
  });

  it('ignores releasing a pair that is not allocated (every end path may release)', () => {
    const a = new PortPairAllocator('RTP ports', 30000, 30003);
    const p = a.allocate();
    a.release(p);
    a.release(p);
    a.release(12345);
    assert.equal(a.inUse, 0);
  });

  it('rejects a bad range', () => {
    assert.throws(() => new PortPairAllocator('RTP ports', 0, 10), RangeError);
    assert.throws(() => new PortPairAllocator('RTP ports', 40000, 30000), RangeError);
    assert.throws(() => new PortPairAllocator('RTP ports', 65535, 70000), RangeError);
  });

  it('skips a pair another process holds and binds the next one', async () => {
    const base = await freeUdpRange(6);
    const squatter = await bindLoopback(base + 1); // the RTCP port of the first pair
    const a = new PortPairAllocator('RTP ports', base, base + 5);
    const bound: Socket[] = [];
    try {
      const { port, value } = await a.bind(async (p) => {
        const rtp = await bindLoopback(p);
        bound.push(rtp);
        const rtcp = await bindLoopback(p + 1).catch(async (err: unknown) => {
          await closeSocket(rtp);
          bound.pop();
          throw err;
        });
        bound.push(rtcp);
        return [rtp, rtcp] as const;
      });
      assert.equal(port, base + 2);
      assert.equal(value[0].address().port, base + 2);
      assert.equal(a.inUse, 1, 'the pair that failed was released');
    } finally {
      await Promise.all([...bound, squatter].map(closeSocket));
    }
  });

  it('gives up with MEDIA_PORTS_EXHAUSTED carrying the bind error when no pair can be bound', async () => {
    const base = await freeUdpRange(4);
    const squatters = [await bindLoopback(base), await bindLoopback(base + 2)];
    const a = new PortPairAllocator('RTP ports', base, base + 3);
    try {
      await assert.rejects(a.bind(bindLoopback), (err: unknown) =>
        err instanceof MediaError && err.code === 'MEDIA_PORTS_EXHAUSTED' && (err.cause as NodeJS.ErrnoException).code === 'EADDRINUSE');
      assert.equal(a.inUse, 0);
    } finally {
      await Promise.all(squatters.map(closeSocket));
    }
  });

  it('passes other errors on at once, releasing the pair', async () => {
    const a = new PortPairAllocator('RTP ports', 30000, 30009);
    let attempts = 0;
    await assert.rejects(a.bind(async () => {
      attempts++;
      throw new TypeError('not a bind failure');
    }), TypeError);
    assert.equal(attempts, 1);
    assert.equal(a.inUse, 0);
  });

  it('warns once when 90 % of the pairs are in use, and again only after use fell to 80 %; logs when it no longer is', () => {
    const lines: Array<Record<string, unknown>> = [];
    const a = new PortPairAllocator('RTP ports', 30000, 30019, createLogger('info', { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) }));
    const ports = Array.from({ length: 9 }, () => a.allocate());
    const messages = () => lines.map((l) => `${String(l['level'])} ${String(l['msg'])} ${String(l['inUse'])}`);
    assert.deepEqual(messages(), ['40 RTP ports 30000-30019 nearly exhausted 9']);
    a.release(ports.pop()!);
    ports.push(a.allocate()); // 8 in use, then 9 again: not news while it is still nearly exhausted
    assert.equal(lines.length, 1);
    a.release(ports.pop()!);
    a.release(ports.pop()!);
    assert.deepEqual(messages().slice(1), ['30 RTP ports 30000-30019 no longer nearly exhausted 7']);
    a.allocate();
    a.allocate();
    assert.deepEqual(messages().slice(2), ['40 RTP ports 30000-30019 nearly exhausted 9']);
  });

  it('counts the pairs it refuses, and warns of the first refusal (repeats counted, not repeated)', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const a = new PortPairAllocator('RTP ports', 30000, 30003, createLogger('warn', { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) }));
    a.allocate();
    a.allocate();
    assert.equal(a.exhaustions, 0);
    for (let i = 0; i < 3; i++) assert.throws(() => a.allocate(), { name: 'MediaError', code: 'MEDIA_PORTS_EXHAUSTED' });
    await assert.rejects(a.bind(async () => undefined), { name: 'MediaError', code: 'MEDIA_PORTS_EXHAUSTED' });
    assert.equal(a.exhaustions, 4);
    assert.deepEqual(lines.map((l) => l['msg']).filter((m) => String(m).includes('exhausted:')), ['RTP ports 30000-30003 exhausted: a call could not get a port pair']);
  });
});
