/**
 * Call detail records in the store, on both engines (docs/admin.md "Call detail records"): open, answered, closed;
 * what a crash leaves open is closed at the next start; filters; retention by count and by age. PostgreSQL writes
 * records behind (src/store/postgres-cdr.ts): reads wait for `committed` first.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { CallRecordEnd, NewCallRecord } from '../../src/store/index.ts';
import { committed, freshStore, STORE_ENGINES, stopStoreEngines } from '../support/stores.ts';

after(stopStoreEngines);

function call(n: number, appKey = 'app', startedAt = Date.now()): NewCallRecord {
  return { callId: `c${n}`, sessionId: 's', appKey, direction: 'outgoing', caller: 'alice', callee: 'bob', startedAt };
}

function end(endedAt: number): CallRecordEnd {
  return {
    caller: 'alice', callee: 'bob2', sipCallId: 'sip-1', endedAt, status: 'FINISH', info: 'Normal call clearing', sipStatus: null,
    hangupSide: 'client', codec: 'PCMU', packetsToSip: 10, packetsToBrowser: 12, droppedToSip: 0, droppedToBrowser: 1,
    lostFromSip: 2, lostFromBrowser: 3, recording: 'c1.wav', hooks: [{ method: 'call', outcome: 'ok' }],
  };
}

for (const engine of STORE_ENGINES) describe(`call detail records on ${engine.name}`, () => {
  it('a call is open from its start, answered, then closed with its end; duration counts from the answer', async () => {
    const store = await freshStore(engine, { adminPort: 0 });
    try {
      const id = store.callRecords.open(call(1, 'app', 1_000));
      await committed(store);
      const [open] = await store.callRecords.query();
      assert.equal(open!.endedAt, null);
      assert.equal(open!.durationMs, null);
      store.callRecords.answered(id, 3_000);
      store.callRecords.close(id, end(10_000));
      store.callRecords.close(id, { ...end(20_000), status: 'FAILED' }); // a second end changes nothing
      await committed(store);
      const [r] = await store.callRecords.query();
      assert.deepEqual(r, {
        id, callId: 'c1', sessionId: 's', appKey: 'app', direction: 'outgoing', caller: 'alice', callee: 'bob2', sipCallId: 'sip-1',
        startedAt: 1_000, answeredAt: 3_000, endedAt: 10_000, durationMs: 7_000, status: 'FINISH', info: 'Normal call clearing',
        sipStatus: null, hangupSide: 'client', codec: 'PCMU', packetsToSip: 10, packetsToBrowser: 12, droppedToSip: 0,
        droppedToBrowser: 1, lostFromSip: 2, lostFromBrowser: 3, recording: 'c1.wav', hooks: [{ method: 'call', outcome: 'ok' }],
      });
    } finally {
      await store.close();
    }
  });

  it('what a crash left open is closed at the next start, once, as FINISH by callhook', async () => {
    const location = await engine.fresh();
    const first = await engine.open(location, { adminPort: 0 });
    const id = first.callRecords.open(call(1, 'app', 1_000));
    first.callRecords.answered(id, 2_000);
    first.callRecords.close(first.callRecords.open(call(2)), end(Date.now()));
    await first.close();
    const second = await engine.open(location, { adminPort: 0 });
    try {
      const closed = second.callRecords.closeOpen('Server restarted', 5_000);
      assert.equal(closed.length, 1);
      assert.equal(closed[0]!.callId, 'c1');
      assert.equal(closed[0]!.status, 'FINISH');
      assert.equal(closed[0]!.info, 'Server restarted');
      assert.equal(closed[0]!.hangupSide, 'callhook');
      assert.equal(closed[0]!.durationMs, 3_000);
      assert.deepEqual(second.callRecords.closeOpen('Server restarted', 6_000), []);
    } finally {
      await second.close();
    }
  });

  it('filters by start time and app, newest first, within the limit', async () => {
    const store = await freshStore(engine, { adminPort: 0 });
    try {
      const now = Date.now();
      store.callRecords.open(call(1, 'a', now - 10_000));
      store.callRecords.open(call(2, 'b', now - 5_000));
      store.callRecords.open(call(3, 'a', now));
      await committed(store);
      assert.deepEqual((await store.callRecords.query()).map((r) => r.callId), ['c3', 'c2', 'c1']);
      assert.deepEqual((await store.callRecords.query({ appKey: 'a' })).map((r) => r.callId), ['c3', 'c1']);
      assert.deepEqual((await store.callRecords.query({ since: now - 6_000 })).map((r) => r.callId), ['c3', 'c2']);
      assert.deepEqual((await store.callRecords.query({ limit: 1 })).map((r) => r.callId), ['c3']);
    } finally {
      await store.close();
    }
  });

  it('keeps the newest cdrMaxCount ended records and none older than cdrMaxAgeDays; live calls stay', async () => {
    const location = await engine.fresh();
    const now = Date.now();
    const first = await engine.open(location, { adminPort: 0, cdrRetention: { maxAgeMs: 86_400_000, maxCount: 50 } });
    const live = first.callRecords.open(call(0, 'app', now - 3 * 86_400_000));
    first.callRecords.close(first.callRecords.open(call(1, 'app', now - 2 * 86_400_000)), end(now));
    // 64 closes trigger retention: the old one by age, the first ones beyond 50 by count.
    for (let n = 2; n <= 64; n++) first.callRecords.close(first.callRecords.open(call(n)), end(now));
    await committed(first);
    const kept = (await first.callRecords.query({ limit: 1000 }));
    assert.equal(kept.filter((r) => r.endedAt !== null).length, 50);
    assert.ok(kept.some((r) => r.id === live), 'the live call is kept');
    assert.ok(!kept.some((r) => r.callId === 'c1'), 'the old one is gone');
    await first.close();
    // A lowered setting applies at the next start.
    const second = await engine.open(location, { adminPort: 0, cdrRetention: { maxAgeMs: 86_400_000, maxCount: 5 } });
    try {
      await committed(second);
      assert.equal((await (await second.callRecords.query({ limit: 1000 }))).filter((r) => r.endedAt !== null).length, 5);
    } finally {
      await second.close();
    }
  });
});
