/**
 * callhook's own audio (src/media/audio/): G.711 against the values of ITU-T G.711's tables, the WAV formats a
 * sound may have and the errors naming those it may not, resampling, and the recorder's file as it grows (on a
 * fake clock: a frame's place on the time line, pauses kept as silence, a valid WAV at every flush).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeG711, encodeG711 } from '../../src/media/codecs/g711.ts';
import { CallRecorder } from '../../src/media/audio/recorder.ts';
import { loadSound } from '../../src/media/audio/sound.ts';
import { readWav } from '../../src/media/audio/wav.ts';
import { createLogger } from '../../src/log.ts';
import { eventually } from '../support/eventually.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { correlation, pcmWav, readPcmWav, testSignal } from '../support/wav.ts';

const silent = createLogger('silent');

/** A WAV header with any format fields, and `data`. */
function wavWith(tag: number, channels: number, rate: number, bits: number, data: Buffer): Buffer {
  const h = pcmWav(new Int16Array(0), rate);
  h.writeUInt16LE(tag, 20);
  h.writeUInt16LE(channels, 22);
  h.writeUInt16LE(bits, 34);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

describe('G.711', () => {
  it('decodes the table values of both laws', () => {
    assert.deepEqual([...decodeG711('PCMU', Uint8Array.of(0xff, 0x7f, 0x00, 0x80, 0xef))], [0, 0, -32124, 32124, 132]);
    assert.deepEqual([...decodeG711('PCMA', Uint8Array.of(0xd5, 0x55, 0x2a, 0xaa))], [8, -8, -32256, 32256]);
  });

  it('encodes silence and full scale as the tables have them', () => {
    assert.deepEqual([...encodeG711('PCMU', Int16Array.of(0, 32767, -32768))], [0xff, 0x80, 0x00]);
    assert.deepEqual([...encodeG711('PCMA', Int16Array.of(0, 32767, -32768))], [0xd5, 0xaa, 0x2a]);
  });

  it('decode ∘ encode is the identity on every code word, and the error stays within one step', () => {
    for (const law of ['PCMU', 'PCMA'] as const) {
      const all = Uint8Array.from({ length: 256 }, (_, i) => i);
      const linear = decodeG711(law, all);
      assert.deepEqual([...decodeG711(law, encodeG711(law, linear))], [...linear], law);
      const ramp = Int16Array.from({ length: 4096 }, (_, i) => i * 16 - 32768);
      const back = decodeG711(law, encodeG711(law, ramp));
      for (let i = 0; i < ramp.length; i++) assert.ok(Math.abs(back[i]! - ramp[i]!) <= Math.max(16, Math.abs(ramp[i]!) / 16), `${law} ${ramp[i]} → ${back[i]}`);
    }
  });
});

describe('sound files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callhook-audio-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads PCM at 8, 16 and 48 kHz (resampled to 8 kHz, the same signal) and G.711 WAVs', async () => {
    const reference = testSignal(0.5, 8000);
    for (const rate of [8000, 16000, 48000]) {
      const path = join(dir, `pcm${rate}.wav`);
      await writeFile(path, pcmWav(testSignal(0.5, rate), rate));
      const { samples } = await loadSound(path);
      assert.ok(Math.abs(samples.length - 4000) <= 1, `${rate}: ${samples.length} samples`);
      assert.ok(correlation(samples, reference) > 0.99, `${rate}: correlation ${correlation(samples, reference)}`);
    }
    const ulaw = join(dir, 'ulaw.wav');
    await writeFile(ulaw, wavWith(7, 1, 8000, 8, encodeG711('PCMU', reference)));
    assert.ok(correlation((await loadSound(ulaw)).samples, reference) > 0.99);
    assert.equal(readWav(wavWith(6, 1, 8000, 8, Buffer.alloc(10))).encoding, 'PCMA');
  });

  it('converts a file once while it is unchanged, again once it changed', async () => {
    const path = join(dir, 'prompt.wav');
    await writeFile(path, pcmWav(testSignal(0.2, 16000), 16000));
    const first = await loadSound(path);
    assert.equal(await loadSound(path), first, 'the cached sound');
    await writeFile(path, pcmWav(testSignal(0.3, 16000), 16000));
    const changed = await loadSound(path);
    assert.notEqual(changed, first);
    assert.equal(changed.samples.length, 2400);
  });

  it('names what it cannot play', async () => {
    const cases: Array<[Buffer, RegExp]> = [
      [wavWith(1, 2, 8000, 16, Buffer.alloc(8)), /unsupported audio format: 2 channels/],
      [wavWith(1, 1, 44100, 16, Buffer.alloc(8)), /unsupported audio format: PCM at 44100 Hz/],
      [wavWith(1, 1, 8000, 8, Buffer.alloc(8)), /unsupported audio format: 8-bit PCM/],
      [wavWith(3, 1, 8000, 32, Buffer.alloc(8)), /unsupported audio format: WAV format IEEE float/],
      [wavWith(7, 1, 16000, 8, Buffer.alloc(8)), /unsupported audio format: µ-law at 16000 Hz/],
      [Buffer.from('OggS\u0000\u0002', 'latin1'), /unsupported audio format: an Ogg file/],
      [Buffer.from('hello'), /unsupported audio format: not a RIFF WAVE file/],
    ];
    for (const [bytes, message] of cases) assert.throws(() => readWav(bytes), message);
    await assert.rejects(loadSound(join(dir, 'missing.wav')), /sound file .*missing\.wav does not exist/);
    await assert.rejects(loadSound(dir), /is not a regular file/);
    const empty = join(dir, 'empty.wav');
    await writeFile(empty, pcmWav(new Int16Array(0), 8000));
    await assert.rejects(loadSound(empty), /holds no samples/);
  });
});

describe('CallRecorder', () => {
  it('writes a stereo WAV as the call goes: frames on the time line, pauses as silence, valid at each flush', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'callhook-recorder-'));
    try {
      const clock = new FakeClock();
      const path = join(dir, 'sub', 'call.wav');
      const recorder = new CallRecorder({ path, logger: silent, clock, flushMs: 1000 });
      const frame = (v: number) => new Int16Array(160).fill(v);
      // 1 s of both sides, one frame each per 20 ms; the far end's frames come late and in pairs (jitter).
      for (let t = 0; t < 1000; t += 20) {
        recorder.write('local', frame(1000));
        if (t % 40 === 20) {
          recorder.write('remote', frame(-1000));
          recorder.write('remote', frame(-1000));
        }
        clock.advance(20);
      }
      // A flush happened at 1 s: the file is already a WAV with what both sides had up to 400 ms before.
      await eventually(async () => (await readFile(path).catch(() => Buffer.alloc(0))).length > 44, 5000, 'the first flush on disk');
      const partial = readPcmWav(await readFile(path));
      assert.equal(partial.channels, 2);
      assert.equal(partial.samples[0]!.length, 600 * 8);
      // Then the far end stops for 500 ms (a real pause: kept as silence) and sends one more frame.
      clock.advance(500);
      recorder.write('remote', frame(-2000));
      await recorder.close();
      const { rate, samples } = readPcmWav(await readFile(path));
      assert.equal(rate, 8000);
      const [left, right] = samples as [Int16Array, Int16Array];
      assert.equal(left.filter((s) => s === 1000).length, 50 * 160, 'every local frame');
      assert.equal(right.filter((s) => s === -1000).length, 50 * 160, 'every remote frame');
      // The jittered frames are contiguous; the frame after the pause sits at 1.5 s.
      assert.equal(right.indexOf(-2000), 1500 * 8);
      assert.equal(right.slice(20 * 8, 1000 * 8).every((s) => s === -1000), true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
