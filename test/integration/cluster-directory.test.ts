/**
 * Sessions and calls of the whole cluster (issue 17): two nodes share one PostgreSQL store (a throwaway server,
 * test/support/postgres.ts) and one admin token. The admin API and the REST API of node A list node B's sessions
 * with `node`, and a terminate on A of a session B holds is forwarded to B, which ends it. A node
 * that drains (a rolling restart's stop, stopCallsWaitMs) fails /healthz and refuses new WebSockets while its live
 * call goes on, and stops once the call has ended.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sharedPostgres, stopStoreEngines } from '../support/stores.ts';
import { eventually } from '../support/eventually.ts';
import { freePort } from '../support/ports.ts';
import { startTestServer, TestClient, type TestServer } from '../support/ws-client.ts';

const TOKEN_ENV = 'CALLHOOK_ADMIN_TOKEN';

interface Listed {
  sessionId: string;
  node?: string;
}

describe('the admin API of any node shows and ends the whole cluster\'s sessions', () => {
  let a: TestServer;
  let b: TestServer;
  let url: string;
  const tokenBefore = process.env[TOKEN_ENV];

  before(async () => {
    // The nodes of a cluster share one admin token (docs/scaling.md): a forwarded terminate carries the caller's.
    process.env[TOKEN_ENV] = randomBytes(16).toString('hex');
    url = await (await sharedPostgres()).newDatabase();
    a = await startTestServer({ store: 'postgres', postgresUrl: url, nodeName: 'node-a', nodeLeaseMs: 3000 });
    b = await startTestServer({ store: 'postgres', postgresUrl: url, nodeName: 'node-b', nodeLeaseMs: 3000 });
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    if (tokenBefore === undefined) delete process.env[TOKEN_ENV];
    else process.env[TOKEN_ENV] = tokenBefore;
    await stopStoreEngines();
  });

  const api = async (ts: TestServer, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
    const res = await fetch(`${ts.server.adminUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ts.server.adminToken}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: await res.json() };
  };

  const connect = async (ts: TestServer): Promise<{ client: TestClient; sessionId: string }> => {
    const client = await TestClient.open(ts.wsUrl);
    client.send('connection', { appKey: 'defaultApp', sipRegisterRequired: false });
    await client.expect('getUserData', 10_000);
    return { client, sessionId: `/127.0.0.1:${client.localPort}/127.0.0.1:${ts.server.wsPort}` };
  };

  it('node A lists node B\'s session with its node, and a DELETE on A ends it on B', async () => {
    const onA = await connect(a);
    const onB = await connect(b);
    try {
      const listed = await eventually(async () => {
        const r = (await api(a, 'GET', '/api/sessions')).json as Listed[];
        return r.length === 2 ? r : undefined;
      }, 5000, 'both sessions in A\'s list');
      assert.deepEqual(
        listed.map((s) => [s.sessionId, s.node]).sort(),
        [[onA.sessionId, 'node-a'], [onB.sessionId, 'node-b']].sort(),
      );
      const found = (await api(a, 'POST', '/rest-api/connection/find_all')).json as Listed[];
      assert.ok(found.some((s) => s.sessionId === onB.sessionId && s.node === 'node-b'), JSON.stringify(found));

      const ended = await api(a, 'DELETE', `/api/sessions/${encodeURIComponent(onB.sessionId)}`);
      assert.deepEqual(ended, { status: 200, json: { terminated: onB.sessionId } });
      const fail = await onB.client.expect('fail', 5000);
      assert.deepEqual([fail['apiMethod'], fail['info']], ['ConnectionStatusEvent', 'Terminated by the administrator']);
      await onB.client.closed;
      await eventually(async () => ((await api(a, 'GET', '/api/sessions')).json as Listed[]).length === 1, 5000, 'B\'s row to leave the directory');
    } finally {
      await onA.client.close();
      await onB.client.close();
    }
  });

  it('connection/terminate on A of a session B holds ends it on B; an unknown one is 404', async () => {
    const onB = await connect(b);
    try {
      await eventually(async () => ((await api(a, 'GET', '/api/sessions')).json as Listed[]).some((s) => s.sessionId === onB.sessionId), 5000, 'B\'s session in A\'s list');
      const ended = await api(a, 'POST', '/rest-api/connection/terminate', { sessionId: onB.sessionId });
      assert.deepEqual(ended, { status: 200, json: { result: 'ok' } });
      await onB.client.closed;
      await eventually(() => b.server.gateway.session(onB.sessionId) === undefined, 5000, 'B to end its session');
      const unknown = await api(a, 'POST', '/rest-api/connection/terminate', { sessionId: '/192.0.2.1:1/192.0.2.2:2' });
      assert.equal(unknown.status, 404);
      assert.equal((await api(a, 'DELETE', '/api/calls/nope')).status, 404);
    } finally {
      await onB.client.close();
    }
  });

  it('a draining node fails /healthz and refuses new clients while its call goes on, then stops', async () => {
    const c = await startTestServer({ store: 'postgres', postgresUrl: url, nodeName: 'node-c', nodeLeaseMs: 3000, stopCallsWaitMs: 60_000 });
    const health = async (): Promise<{ status: number; json: unknown }> => {
      const res = await fetch(`${c.server.adminUrl}/healthz`);
      return { status: res.status, json: await res.json() };
    };
    assert.equal((await health()).status, 200);
    const connected = await connect(c);
    // A call that stays up: its INVITE goes to a port nobody answers (timer B runs 32 s).
    const nobody = await freePort('udp');
    const started = await api(c, 'POST', '/rest-api/call/startup', { sipLogin: 'alice', sipDomain: `127.0.0.1:${nobody}`, callee: 'bob' });
    assert.equal(started.status, 200, JSON.stringify(started.json));
    const { callId } = started.json as { callId: string };
    let stopped = false;
    const stopping = c.stop().then(() => (stopped = true));
    try {
      const draining = await eventually(async () => {
        const h = await health();
        return h.status === 503 ? h : undefined;
      }, 5000, '/healthz to fail');
      assert.equal((draining.json as { status: string }).status, 'draining');
      await assert.rejects(TestClient.open(c.wsUrl), /503/);
      assert.ok(connected.client.isOpen, 'a connected client stays while the call goes on');
      assert.equal(stopped, false);
      assert.equal((await api(c, 'POST', '/rest-api/call/terminate', { callId })).status, 200);
      await stopping;
    } finally {
      await connected.client.close();
      await stopping;
    }
  });
});
