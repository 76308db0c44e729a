/**
 * The outbox worker's scheduling (docs/hooks.md "Events") over a real store on each engine, with a scripted
 * delivery function in place of HTTP: one in flight per session and in order, per-app slots, read-ahead that
 * stays correct when a replay puts older events back in front, backoff and dead letters.
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import type { NewOutboxEvent, OutboxEvent, Store } from '../../src/store/index.ts';
import { OutboxWorker, type DeliveryResult } from '../../src/hooks/outbox-worker.ts';
import { WriteBehind } from '../../src/hooks/write-behind.ts';
import { createLogger } from '../../src/log.ts';
import { eventually } from '../support/eventually.ts';
import { appendEvent, freshStore, STORE_ENGINES, stopStoreEngines } from '../support/stores.ts';

const log = createLogger('silent');
let store: Store;
let worker: OutboxWorker | undefined;

after(stopStoreEngines);

function newEvent(sessionId: string, n: number, appKey = 'app', createdAt = Date.now()): NewOutboxEvent {
  return { eventId: `${sessionId}-${n}`, appKey, sessionId, method: 'CallStatusEvent', body: { n }, failNotify: false, createdAt };
}

function append(sessionId: string, n: number, appKey = 'app', createdAt = Date.now()): Promise<OutboxEvent> {
  return appendEvent(store, newEvent(sessionId, n, appKey, createdAt));
}

async function depth(): Promise<{ pending: number; dead: number }> {
  return store.outbox.depth();
}

function startWorker(deliver: (e: OutboxEvent) => Promise<DeliveryResult>, options: Partial<ConstructorParameters<typeof OutboxWorker>[3]> = {}): Promise<OutboxWorker> {
  const writes = new WriteBehind(store, log);
  worker = new OutboxWorker(store.outbox, deliver, writes, {
    backoffMinMs: 5, backoffMaxMs: 20, concurrencyPerApp: 8, maxAgeMs: 60_000, now: Date.now, log, abortInFlight: () => undefined, ...options,
  });
  return worker.start().then(() => worker!);
}

/** The store's outbox, with a count of its `pendingOf` reads (the worker's reads of a session's pending events). */
function countingReads(): { counted: Store['outbox']; reads: () => number } {
  let reads = 0;
  const outbox = store.outbox;
  const counted: typeof outbox = Object.create(outbox);
  counted.pendingOf = (sessionId, limit) => {
    reads++;
    return outbox.pendingOf(sessionId, limit);
  };
  return { counted, reads: () => reads };
}

const WAIT_MS = 3000;

const tick = (ms = 1): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const engine of STORE_ENGINES) describe(`outbox worker on ${engine.name}`, () => {
  beforeEach(async () => {
    store = await freshStore(engine);
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await store.close();
  });

  it('delivers each session in order with one in flight, sessions in parallel', async () => {
    const events: NewOutboxEvent[] = [];
    for (let n = 1; n <= 40; n++) for (const s of ['A', 'B', 'C']) events.push(newEvent(s, n));
    await store.write(events.map((event) => ({ kind: 'appendEvent', event })));
    const seen: string[] = [];
    const inFlight = new Map<string, number>();
    let maxParallel = 0;
    await startWorker(async (e) => {
      const now = (inFlight.get(e.sessionId) ?? 0) + 1;
      assert.equal(now, 1, `two deliveries in flight for session ${e.sessionId}`);
      inFlight.set(e.sessionId, now);
      maxParallel = Math.max(maxParallel, [...inFlight.values()].reduce((a, b) => a + b, 0));
      await tick();
      inFlight.set(e.sessionId, 0);
      seen.push(e.eventId);
      return { delivered: true };
    });
    await eventually(() => seen.length === 120, WAIT_MS, 'all deliveries');
    for (const s of ['A', 'B', 'C']) {
      assert.deepEqual(seen.filter((id) => id.startsWith(`${s}-`)), Array.from({ length: 40 }, (_, i) => `${s}-${i + 1}`));
    }
    assert.ok(maxParallel > 1, 'sessions went in parallel');
    await eventually(async () => (await depth()).pending === 0, WAIT_MS, 'the delivered rows to go');
  });

  it('an app never has more than concurrencyPerApp deliveries in flight; other apps have their own slots', async () => {
    for (let s = 0; s < 6; s++) await append(`slow-${s}`, 1, 'slow');
    await append('fast-0', 1, 'fast');
    let slowInFlight = 0;
    let maxSlowInFlight = 0;
    let slowDone = 0;
    let slowDoneBeforeFast: number | undefined;
    // The slow app's deliveries hold their slots until the fast app's event is through (or 2 s pass): only if the
    // fast app has slots of its own does it get through while they are all held. Order, not wall time, so a loaded
    // machine cannot fail it.
    let fastDelivered!: () => void;
    const fastThrough = new Promise<void>((resolve) => { fastDelivered = resolve; });
    // And until both of the slow app's slots are taken, so that its limit is what keeps a third one out.
    let slotsFull!: () => void;
    const bothSlotsTaken = new Promise<void>((resolve) => { slotsFull = resolve; });
    await startWorker(async (e) => {
      if (e.appKey === 'fast') {
        slowDoneBeforeFast = slowDone;
        fastDelivered();
        return { delivered: true };
      }
      slowInFlight++;
      maxSlowInFlight = Math.max(maxSlowInFlight, slowInFlight);
      if (slowInFlight === 2) slotsFull();
      await Promise.race([Promise.all([fastThrough, bothSlotsTaken]), tick(2000)]);
      slowInFlight--;
      slowDone++;
      return { delivered: true };
    }, { concurrencyPerApp: 2 });
    await eventually(async () => (await depth()).pending === 0, WAIT_MS, 'both apps to drain');
    assert.equal(maxSlowInFlight, 2);
    assert.equal(slowDoneBeforeFast, 0, `the fast app waited behind ${slowDoneBeforeFast} of the slow app's deliveries`);
  });

  it('a replay puts older events in front of what the lane had read ahead', async () => {
    const old = await append('S', 1);
    await store.write([{ kind: 'markDead', id: old.id, error: 'expired' }]);
    for (let n = 2; n <= 5; n++) await append('S', n);
    const seen: number[] = [];
    let releaseFirst!: () => void;
    const first = new Promise<void>((r) => (releaseFirst = r));
    let secondInFlight = false;
    const w = await startWorker(async (e) => {
      if (e.sequence === 2) {
        secondInFlight = true;
        await first;
      }
      seen.push(e.sequence);
      return { delivered: true };
    });
    await eventually(() => secondInFlight, WAIT_MS, 'the delivery of 2'); // the lane has read 2..5 ahead
    assert.equal(await store.outbox.replay({}), 1);
    await w.resync();
    releaseFirst();
    await eventually(() => seen.length === 5, WAIT_MS, 'all five');
    assert.deepEqual(seen, [2, 1, 3, 4, 5], 'after the one in flight, the replayed older event goes first');
  });

  it('reads the store once for events that fit its read-ahead, and again only after a new event is committed', async () => {
    for (let n = 1; n <= 3; n++) await append('S', n);
    const { counted, reads } = countingReads();
    const seen: number[] = [];
    worker = new OutboxWorker(counted, async (e) => {
      seen.push(e.sequence);
      return { delivered: true };
    }, new WriteBehind(store, log), { backoffMinMs: 5, backoffMaxMs: 20, concurrencyPerApp: 8, maxAgeMs: 60_000, now: Date.now, log, abortInFlight: () => undefined });
    await worker.start();
    await worker.idle();
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(reads(), 1, 'one read for three events, none to find the lane empty');
    await append('S', 4);
    worker.notify('S', 'app');
    await eventually(() => seen.length === 4, WAIT_MS, 'the fourth event');
    await worker.idle();
    assert.equal(reads(), 2);
  });

  it('reads nothing for a session\'s first event, nor for events committed while its lane holds all the session has pending', async () => {
    const { counted, reads } = countingReads();
    const seen: number[] = [];
    let releaseFirst!: () => void;
    const first = new Promise<void>((r) => (releaseFirst = r));
    let firstInFlight = false;
    worker = new OutboxWorker(counted, async (e) => {
      if (e.sequence === 1) {
        firstInFlight = true;
        await first;
      }
      seen.push(e.sequence);
      return { delivered: true };
    }, new WriteBehind(store, log), { backoffMinMs: 5, backoffMaxMs: 20, concurrencyPerApp: 8, maxAgeMs: 60_000, now: Date.now, log, abortInFlight: () => undefined });
    await worker.start();
    const committed = async (n: number): Promise<void> => worker!.notify('S', 'app', await append('S', n));
    await committed(1);
    await eventually(() => firstInFlight, WAIT_MS, 'the delivery of 1');
    await committed(2);
    await committed(3);
    releaseFirst();
    await eventually(() => seen.length === 3, WAIT_MS, 'three events');
    await worker.idle();
    assert.deepEqual(seen, [1, 2, 3]);
    assert.equal(reads(), 0, 'the first event and the two behind it were taken as committed');
    await committed(4);
    await eventually(() => seen.length === 4, WAIT_MS, 'the fourth event');
    assert.equal(reads(), 1, 'a later event of a session whose lane has gone is read from the store');
  });

  it('backs off on failure, then succeeds; the attempts are counted in the store', async () => {
    await append('S', 1);
    let calls = 0;
    await startWorker(async () => (++calls < 3 ? { delivered: false, error: 'HTTP 503 Service Unavailable', permanent: false } : { delivered: true }));
    await eventually(() => calls === 3, WAIT_MS, 'the third attempt');
    await eventually(async () => (await depth()).pending === 0, WAIT_MS, 'delivery');
  });

  it('past maxAgeMs an event goes dead and the next one of the session goes on', async () => {
    await append('S', 1, 'app', Date.now() - 10_000);
    await append('S', 2);
    const seen: number[] = [];
    await startWorker(async (e) => {
      seen.push(e.sequence);
      return e.sequence === 1 ? { delivered: false, error: 'connect ECONNREFUSED 127.0.0.1:1', permanent: false } : { delivered: true };
    }, { maxAgeMs: 5000 });
    await eventually(() => seen.includes(2), WAIT_MS, 'the second event');
    await eventually(async () => (await depth()).dead === 1, WAIT_MS, 'the dead letter');
    const [dead] = await store.outbox.list({ dead: true });
    assert.deepEqual([dead!.sequence, dead!.attempts, dead!.lastError], [1, 1, 'connect ECONNREFUSED 127.0.0.1:1']);
  });

  it('a permanent failure (app removed) is dead at once', async () => {
    await append('S', 1);
    await startWorker(async () => ({ delivered: false, error: 'app "app" no longer exists', permanent: true }));
    await eventually(async () => (await depth()).dead === 1, WAIT_MS, 'the dead letter');
  });

  it('idle() resolves once every session is delivered or waits out a failed delivery\'s backoff', async () => {
    await append('ok', 1);
    await append('ok', 2);
    await append('down', 1, 'other');
    const delivered: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const w = await startWorker(async (e) => {
      if (e.sessionId === 'down') return { delivered: false, error: 'connection refused', permanent: false };
      await held;
      delivered.push(e.eventId);
      return { delivered: true };
    }, { backoffMinMs: 60_000, backoffMaxMs: 60_000 });
    let idle = false;
    const waiting = w.idle().then(() => (idle = true));
    await tick(20);
    assert.equal(idle, false, 'a delivery is in flight');
    release();
    await waiting;
    assert.deepEqual(delivered, ['ok-1', 'ok-2']);
    assert.equal((await depth()).pending, 1, 'the failed event stays pending (its backoff is a minute)');
  });
});
