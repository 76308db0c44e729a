import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, RepeatedWarnings } from '../../src/log.ts';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: createLogger('warn', stream) };
}

describe('RepeatedWarnings', () => {
  it('logs the first of 20,000 identical warnings, then one line with the count', async () => {
    const { lines, log } = capture();
    const warnings = new RepeatedWarnings(log);
    for (let i = 0; i < 20_000; i++) warnings.warn('oversized', { connection: 'c1' }, 'frame refused');
    warnings.flush();
    await new Promise((r) => setImmediate(r));
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.msg, 'frame refused');
    assert.equal(lines[1]!.repeated, 19_999);
  });

  it('keeps different kinds of warning apart and starts again after a flush', async () => {
    const { lines, log } = capture();
    const warnings = new RepeatedWarnings(log);
    warnings.warn('a', {}, 'A');
    warnings.warn('b', {}, 'B');
    warnings.flush();
    warnings.warn('a', {}, 'A');
    warnings.flush();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(lines.map((l) => l.msg), ['A', 'B', 'A']);
  });
});
