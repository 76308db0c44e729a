/**
 * The pieces of a transcoded call, each alone: G.711 against the code tables of ITU-T G.711 (table 1a for A-law,
 * table 2a for µ-law: each code's decision and reconstruction values), and the jitter buffer's ordering, loss,
 * bounded depth and skipping.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alawOf, decodeG711, encodeG711, mulawOf } from '../../src/media/codecs/g711.ts';
import { JitterBuffer, MAX_TARGET } from '../../src/media/jitter-buffer.ts';

describe('G.711 (ITU-T G.711 tables 1a, 2a)', () => {
  it('µ-law: zero is 0xFF, full scale 0x80/0x00, reconstruction values of the first and last segments', () => {
    assert.equal(mulawOf(0), 0xff);
    assert.equal(mulawOf(32767), 0x80);
    assert.equal(mulawOf(-32768), 0x00);
    // Segment 0 has steps of 2 in 14-bit units (8 in 16-bit PCM): code 0xFE decodes to 8, 0x7E to -8.
    assert.deepEqual([...decodeG711('PCMU', Uint8Array.of(0xfe, 0x7e, 0x80, 0x00))], [8, -8, 32124, -32124]);
  });

  it('A-law: the even bits are inverted (0x55): zero is 0xD5, full scale 0xAA/0x2A, first and last segments', () => {
    assert.equal(alawOf(0), 0xd5);
    assert.equal(alawOf(32767), 0xaa);
    assert.equal(alawOf(-32768), 0x2a);
    assert.deepEqual([...decodeG711('PCMA', Uint8Array.of(0xd5, 0x55, 0xaa, 0x2a))], [8, -8, 32256, -32256]);
  });

  it('every code decodes to a value that encodes back to it (µ-law 0x7F, negative zero, aside)', () => {
    for (const law of ['PCMU', 'PCMA'] as const) {
      for (let code = 0; code < 256; code++) {
        if (law === 'PCMU' && code === 0x7f) continue;
        assert.equal(encodeG711(law, decodeG711(law, Uint8Array.of(code)))[0], code, `${law} 0x${code.toString(16)}`);
      }
    }
  });

  it('is monotonic: a larger sample never gets a smaller reconstruction', () => {
    for (const law of ['PCMU', 'PCMA'] as const) {
      let last = -Infinity;
      for (let s = -32768; s < 32768; s += 7) {
        const v = decodeG711(law, encodeG711(law, Int16Array.of(s)))[0]!;
        assert.ok(v >= last, `${law} ${s}`);
        last = v;
      }
    }
  });
});

describe('JitterBuffer', () => {
  const at = (n: number) => n * 20;

  it('plays packets in sequence order whatever their arrival order', () => {
    const jb = new JitterBuffer<number>(48000);
    jb.put(11, 960, 11, at(0));
    jb.put(10, 0, 10, at(0));
    jb.put(12, 1920, 12, at(1));
    assert.deepEqual([jb.next(), jb.next(), jb.next()], [
      { kind: 'packet', value: 10 }, { kind: 'packet', value: 11 }, { kind: 'packet', value: 12 },
    ]);
    // Ran dry: the first turn is concealed (it may be a single loss), the next is silence.
    assert.deepEqual([jb.next(), jb.next()], [{ kind: 'lost' }, { kind: 'empty' }]);
  });

  it('reports a missing packet as lost when a later one is there (with the one right after it, for FEC), and drops one that comes after its turn', () => {
    const jb = new JitterBuffer<number>(48000);
    jb.put(1, 0, 1, at(0));
    jb.put(3, 1920, 3, at(2));
    assert.deepEqual([jb.next(), jb.next(), jb.next()], [{ kind: 'packet', value: 1 }, { kind: 'lost', following: 3 }, { kind: 'packet', value: 3 }]);
    jb.put(2, 960, 2, at(3));
    assert.deepEqual(jb.stats(), { dropped: 1, lost: 1, target: jb.stats().target });
  });

  it('reports a lost packet without `following` when the packet right after it is missing too', () => {
    const jb = new JitterBuffer<number>(48000);
    jb.put(1, 0, 1, at(0));
    jb.put(4, 2880, 4, at(3));
    assert.deepEqual([jb.next(), jb.next(), jb.next(), jb.next()], [{ kind: 'packet', value: 1 }, { kind: 'lost' }, { kind: 'lost', following: 4 }, { kind: 'packet', value: 4 }]);
  });

  it('a single loss in steady traffic (one packet buffered, none behind it) is concealed, and the next packet plays at its turn', () => {
    const jb = new JitterBuffer<number>(48000);
    const played: Array<ReturnType<typeof jb.next>> = [];
    for (let s = 0; s < 10; s++) {
      if (s !== 5) jb.put(s, s * 960, s, at(s));
      played.push(jb.next());
    }
    assert.deepEqual(played.slice(4, 7), [{ kind: 'packet', value: 4 }, { kind: 'lost' }, { kind: 'packet', value: 6 }]);
    assert.equal(jb.stats().lost, 1);
  });

  it('a DTX pause (timestamps jump, sequence numbers run on) costs at most its first 20 ms concealed and adds no delay', () => {
    const jb = new JitterBuffer<number>(48000);
    for (let s = 0; s < 5; s++) jb.put(s, s * 960, s, at(s));
    const played: Array<ReturnType<typeof jb.next>> = [];
    for (let tick = 0; tick < 5; tick++) played.push(jb.next());
    // 1 s of silence: the browser sends nothing, then resumes with the next sequence number.
    for (let tick = 5; tick < 55; tick++) played.push(jb.next());
    jb.put(5, 55 * 960, 5, at(55));
    const resumed = jb.next();
    assert.deepEqual(resumed, { kind: 'packet', value: 5 }, 'the first packet after the pause plays at the next tick');
    // The pause's first turn looks like a single loss (and is concealed); the rest is silence.
    assert.deepEqual(played.filter((p) => p.kind !== 'packet').slice(0, 2), [{ kind: 'lost' }, { kind: 'empty' }]);
    assert.equal(played.filter((p) => p.kind === 'lost').length, 1);
    assert.equal(jb.stats().target, 1, 'the pause raised no jitter estimate');
  });

  it('never holds more than its target plus a margin: a burst after a stall is cut, oldest first', () => {
    const jb = new JitterBuffer<number>(48000);
    for (let s = 0; s < 20; s++) jb.put(s, s * 960, s, at(0));
    const played: number[] = [];
    for (let r = jb.next(); r.kind !== 'empty'; r = jb.next()) if (r.kind === 'packet') played.push(r.value);
    assert.ok(played.length <= MAX_TARGET + 2, `played ${played.join(',')}`);
    assert.equal(played.at(-1), 19, 'the newest are kept');
  });

  it('raises its target with jitter, up to MAX_TARGET, and skip() drops the packets of missed turns', () => {
    const jb = new JitterBuffer<number>(48000);
    for (let s = 0; s < 50; s++) jb.put(s, s * 960, s, at(s) + (s % 2 === 0 ? 0 : 35));
    assert.equal(jb.stats().target, MAX_TARGET);
    const fresh = new JitterBuffer<number>(48000);
    for (let s = 0; s < 3; s++) fresh.put(s, s * 960, s, at(s));
    fresh.skip(2);
    assert.deepEqual(fresh.next(), { kind: 'packet', value: 2 });
  });
});
