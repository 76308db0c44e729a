/**
 * The outbox worker's backoff timers on an injected clock (src/clock.ts): a failed delivery is tried again exactly
 * when its backoff has passed on the worker's clock — 30 s here, checked without waiting them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OutboxWorker } from '../../src/hooks/outbox-worker.ts';
import { WriteBehind } from '../../src/hooks/write-behind.ts';
import { createLogger } from '../../src/log.ts';
import { openStore } from '../../src/store/index.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { appendEvent } from '../support/stores.ts';
import { eventually } from '../support/ws-client.ts';

describe('outbox worker on a fake clock', () => {
  it('tries a failed event again when its backoff has passed on the worker\'s clock, not before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'callhook-worker-clock-'));
    const store = openStore({ dataDir: dir, adminPort: 8081 });
    const log = createLogger('silent');
    const clock = new FakeClock();
    // The store's attempt times are wall-clock ms; here they move with the fake clock.
    const epoch = Date.now();
    const now = (): number => epoch + clock.now();
    let attempts = 0;
    const worker = new OutboxWorker(store.outbox, async () => {
      attempts++;
      return attempts === 1 ? { delivered: false, error: 'connect ECONNREFUSED', permanent: false } : { delivered: true };
    }, new WriteBehind(store, log), {
      backoffMinMs: 30_000, backoffMaxMs: 60_000, concurrencyPerApp: 1, maxAgeMs: 3_600_000, now, clock, log,
      abortInFlight: () => undefined,
    });
    try {
      await appendEvent(store, { eventId: 'e1', appKey: 'app', sessionId: 'S', method: 'CallStatusEvent', body: {}, failNotify: false, createdAt: now() });
      await worker.start();
      await eventually(() => attempts === 1, 3000, 'the first attempt');
      // Two timers on the clock: the hourly prune and this lane's backoff.
      await eventually(() => clock.pendingCount === 2, 3000, 'the backoff timer');
      clock.advance(29_999);
      // The timer's delivery would start on the next turn of the event loop: give it one.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(attempts, 1, 'no second attempt before 30 s');
      clock.advance(1);
      await eventually(() => attempts === 2, 3000, 'the second attempt at 30 s');
      await eventually(async () => (await store.outbox.depth()).pending === 0, 3000, 'the event to be delivered');
    } finally {
      await worker.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
