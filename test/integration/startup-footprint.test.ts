/**
 * What a started server leaves unloaded (issue 18, idle RSS): libsamplerate's WebAssembly (about 17 MiB of RSS) is
 * loaded by the first sound that needs resampling, not at start. Its CommonJS module shows in `require.cache` once
 * anything has imported it.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../support/ws-client.ts';

const loaded = (): string[] => Object.keys(createRequire(import.meta.url).cache).filter((path) => path.includes('libsamplerate-js'));

describe('start-up footprint', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => {
    await ts?.stop();
  });

  it('a started server has not loaded libsamplerate; the first sound to resample loads it', async () => {
    assert.ok(ts.server.wsPort > 0);
    assert.deepEqual(loaded(), []);
    const { resampleTo8k } = await import('../../src/media/audio/resample.ts');
    const second = Int16Array.from({ length: 16_000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16_000)));
    const resampled = await resampleTo8k(second, 16_000);
    assert.ok(Math.abs(resampled.length - 8000) <= 2, `${resampled.length} samples`);
    assert.equal(loaded().length, 1);
  });
});
