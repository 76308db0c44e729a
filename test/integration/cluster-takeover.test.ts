/**
 * A node is lost (issue 17 "Outbox takeover"): two nodes share one PostgreSQL store (a throwaway server,
 * test/support/postgres.ts). Node A has sessions with undelivered events (its backend is down), a live connection
 * (a will) and a call up (an open call record); then it dies without a word — no more heartbeats, nothing settled.
 * Within its lease, node B takes it over: the backend, back up, gets every one of A's events, in order per session,
 * none missing; A's session is closed DISCONNECTED `Node lost`; A's call record is closed `Node lost` and pushed.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ClusterMembership, NODE_LOST, type MembershipOptions } from '../../src/cluster/membership.ts';
import { DirectorySync } from '../../src/cluster/directory-sync.ts';
import type { SessionInfo } from '../../src/gateway/info.ts';
import { createHookEngine, type HookEngine } from '../../src/hooks/index.ts';
import { createLogger } from '../../src/log.ts';
import type { Store } from '../../src/store/index.ts';
import { TestBackend } from '../support/backend.ts';
import { eventually } from '../support/eventually.ts';
import { committed, STORE_ENGINES, stopStoreEngines } from '../support/stores.ts';

const postgres = STORE_ENGINES.find((e) => e.name === 'postgres')!;
const LEASE_MS = 900;
const APP = 'clusterApp';
const log = createLogger('silent');

after(stopStoreEngines);

interface Node {
  store: Store;
  hooks: HookEngine;
  membership: ClusterMembership;
}

async function startNode(url: string, name: string, extra: Partial<MembershipOptions> = {}): Promise<Node> {
  const store = await postgres.open(url, { node: name, adminPort: 0 });
  const hooks = createHookEngine({
    store,
    config: { restRequestTimeoutMs: 1000, restRetryCount: 0, restEventMaxAgeMs: 60_000, disableRest: false, userAgent: 'callhook/test', hookLogMaxBodyBytes: 4096 },
    log,
    outbox: { backoffMinMs: 20, backoffMaxMs: 100 },
  });
  await hooks.start();
  const membership = new ClusterMembership({ registry: store.nodes!, hooks, nodeId: `${name}@192.0.2.1`, leaseMs: LEASE_MS, log, ...extra });
  await membership.start();
  return { store, hooks, membership };
}

describe('a lost node is taken over by a survivor', () => {
  it('its events arrive from the survivor within the lease, none missing; its session and call are closed "Node lost"', async () => {
    const url = await postgres.fresh();
    const port = await TestBackend.closedPort();
    const a = await startNode(url, 'node-a');
    await a.store.apps.add({ name: APP, appKey: APP, url: `http://127.0.0.1:${port}/rest` });
    await a.store.apps.enableMethod(APP, '*');

    const ctx = (s: number) => ({ appKey: APP, sessionId: `/198.51.100.${s}:40000/192.0.2.1:8443`, nodeId: 'node-a@192.0.2.1' });
    const emitted: string[] = [];
    const sequences: Array<Promise<number | undefined>> = [];
    const emit = (...args: Parameters<HookEngine['emit']>): void => {
      const r = a.hooks.emit(...args);
      emitted.push(r.eventId!);
      sequences.push(r.committed!);
    };
    emit('ConnectionStatusEvent', { status: 'ESTABLISHED' }, ctx(1), { subject: 'connection', owed: { status: 'DISCONNECTED', info: 'Server restarted' } });
    for (let n = 1; n <= 20; n++) for (const s of [1, 2]) emit('CallStatusEvent', { callId: `c${s}`, n }, ctx(s));
    const record = a.store.callRecords.open({ callId: 'c1', sessionId: ctx(1).sessionId, appKey: APP, direction: 'outgoing', caller: 'alice', callee: 'bob', startedAt: Date.now() });
    a.store.callRecords.answered(record, Date.now());
    assert.ok((await Promise.all(sequences)).every((s) => s !== undefined), 'every event committed');
    await committed(a.store);

    // Node A dies: its heartbeats stop and nothing it holds is settled (no endSession, no record closed).
    await a.membership.stop();
    await a.hooks.stop();
    await a.store.close();
    const diedAt = Date.now();

    const backend = await TestBackend.start({ port });
    const b = await startNode(url, 'node-b');
    try {
      const arrived = (): Set<string> => new Set(backend.requests.map((r) => String(r.json!['eventId'])));
      await eventually(() => emitted.every((id) => arrived().has(id)), LEASE_MS + 10_000, () => `A's ${emitted.length} events (${emitted.filter((id) => arrived().has(id)).length} arrived)`);
      const lost = await eventually(
        () => backend.requests.find((r) => r.hook === 'ConnectionStatusEvent' && r.json!['status'] === 'DISCONNECTED'),
        5000,
        'the lost session\'s DISCONNECTED',
      );
      const cdr = await eventually(() => backend.requests.find((r) => r.hook === 'CallDetailRecord'), 5000, 'the lost call\'s CallDetailRecord');
      const tookMs = Date.now() - diedAt;
      assert.ok(tookMs < LEASE_MS + 5000, `taken over ${tookMs} ms after the node died (lease ${LEASE_MS} ms)`);

      assert.equal(lost.json!['info'], NODE_LOST);
      assert.equal(lost.json!['sessionId'], ctx(1).sessionId);
      assert.equal(lost.json!['sequence'], 22, 'the session\'s next sequence, after its 21 events');
      assert.equal(cdr.json!['info'], NODE_LOST);
      assert.equal(cdr.json!['status'], 'FINISH');
      assert.equal(cdr.json!['callId'], 'c1');

      // In order per session, each event once (A never delivered any: its backend was down).
      for (const s of [1, 2]) {
        const seqs = backend.requests.filter((r) => r.json!['sessionId'] === ctx(s).sessionId).map((r) => Number(r.json!['sequence']));
        const first = seqs.filter((q, i) => seqs.indexOf(q) === i);
        assert.deepEqual(first, Array.from({ length: first.length }, (_, i) => i + 1), `order of session ${s}`);
      }
      await committed(b.store);
      const [closed] = await b.store.callRecords.query({ limit: 1 });
      assert.deepEqual([closed!.id, closed!.status, closed!.info, closed!.hangupSide], [record, 'FINISH', NODE_LOST, 'callhook']);
      // The backend has seen the last event before its answer reaches the survivor, which marks it delivered then.
      let depth = '';
      await eventually(async () => (depth = JSON.stringify(await b.store.outbox.depth())) === '{"pending":0,"dead":0}', 5000, () => `the outbox emptied (${depth})`);
    } finally {
      await b.membership.stop();
      await b.hooks.stop();
      await b.store.close();
      await backend.stop();
    }
  });

  it('a node taken over while it runs writes its live sessions into the directory again', async () => {
    const url = await postgres.fresh();
    // Node A's clock can be set back, so that it heart-beats into the past: to node B it looks silent.
    let behindMs = 0;
    const session: SessionInfo = { sessionId: '/198.51.100.9:40000/192.0.2.1:8443', appKey: APP, status: 'ESTABLISHED', connectedAt: new Date().toISOString() };
    let sync: DirectorySync | undefined;
    const a = await startNode(url, 'node-a', { now: () => Date.now() - behindMs, onTakenOver: () => sync?.republish() });
    sync = new DirectorySync({ directory: a.store.directory!, gateway: { sessions: () => [session], calls: () => [] }, node: 'node-a', log, intervalMs: 100 });
    await sync.start();
    const b = await startNode(url, 'node-b');
    const listed = async (): Promise<string[]> => (await b.store.directory!.list('session')).map((r) => `${r.node} ${r.id}`);
    try {
      assert.deepEqual(await listed(), [`node-a ${session.sessionId}`]);
      behindMs = 60_000;
      await eventually(async () => (await listed()).length === 0, LEASE_MS + 5000, 'B to take A over and remove its rows');
      behindMs = 0;
      await eventually(async () => (await listed()).length === 1, LEASE_MS + 5000, 'A to write its session again');
    } finally {
      await sync.stop();
      for (const n of [a, b]) {
        await n.membership.stop();
        await n.hooks.stop();
        await n.store.close();
      }
    }
  });
});
