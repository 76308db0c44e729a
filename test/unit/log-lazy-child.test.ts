/**
 * lazyChild (src/log.ts): a session's logger is made only when something is logged at an enabled level, and then
 * logs exactly as `parent.child(bindings)` would (its bindings, redaction, grandchildren).
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, lazyChild, type Logger } from '../../src/log.ts';

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const log = createLogger(level, stream);
  let children = 0;
  const child = log.child;
  // Children inherit this method (pino makes them with Object.create): each call counts, on its own receiver.
  log.child = function (this: Logger, ...args: Parameters<Logger['child']>) {
    children++;
    return child.apply(this, args);
  } as Logger['child'];
  return { lines, log, children: () => children };
}

const flushed = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('lazyChild', () => {
  it('makes no child for calls below the level, and logs with its bindings once one is enabled', async () => {
    const { lines, log, children } = capture('warn');
    const session = lazyChild(log, { sessionId: 's1', appKey: 'defaultApp' });
    session.info({ ip: '127.0.0.1' }, 'session connected');
    session.debug('nothing');
    assert.equal(children(), 0, 'no child for calls below warn');
    assert.equal(session.isLevelEnabled('info'), false);
    session.warn({ sipPassword: 'secret' }, 'refused');
    await flushed();
    assert.equal(children(), 1);
    assert.equal(lines.length, 1);
    assert.deepEqual([lines[0]!['sessionId'], lines[0]!['appKey'], lines[0]!['sipPassword'], lines[0]!['msg']], ['s1', 'defaultApp', '[redacted]', 'refused']);
  });

  it('passes grandchildren and enabled calls through to one child, as parent.child would', async () => {
    const { lines, log, children } = capture('info');
    const session = lazyChild(log, { sessionId: 's2' });
    session.info('session connected');
    session.child({ callId: 'c1' }).info('call placed');
    await flushed();
    assert.deepEqual(lines.map((l) => [l['sessionId'], l['callId'], l['msg']]), [['s2', undefined, 'session connected'], ['s2', 'c1', 'call placed']]);
    assert.equal(children(), 2, 'the session\'s child, made once, and its own child for the call');
  });
});
