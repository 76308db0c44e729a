/**
 * The built-in EchoApp answered in-process (issue 18): hooks of an app whose URL is this server's own EchoApp route
 * make no HTTP request (node:http's `http.client.request.start` diagnostics channel sees every one), and leave the
 * same trace as the same route reached over HTTP: the client's frames, the hook log rows and the delivered events.
 * The second app reaches the same route through `localhost`, which the in-process path does not take.
 * Real peers: callhook in-process, the test Kamailio (digest registration), a `ws` client.
 */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { eventually, startTestServer, TestClient, type TestServer } from '../support/ws-client.ts';

const USERS = [
  { username: 'alice', password: 'alice-pw' },
  { username: 'bob', password: 'bob-pw' },
];
const OVER_HTTP = 'echoOverHttp';
const STEP_MS = 10_000;
/** A session's hooks: connect, and connected, registered, disconnected, unregistered events. */
const SESSION_HOOKS = 5;

describe('EchoApp answered in-process', { timeout: 60_000 }, () => {
  let kamailio: KamailioInstance;
  let ts: TestServer;
  /** Paths of the HTTP requests this process made. */
  const requested: string[] = [];
  const onRequest = (message: unknown): void => {
    requested.push((message as { request: ClientRequest }).request.path);
  };

  before(async () => {
    kamailio = await startKamailio({ users: USERS });
    ts = await startTestServer();
    await ts.server.store.apps.add({ name: OVER_HTTP, appKey: OVER_HTTP, url: `http://localhost:${ts.server.adminPort}/apps/EchoApp` });
    await ts.server.store.apps.enableMethod(OVER_HTTP, '*');
    diagnostics.subscribe('http.client.request.start', onRequest);
  });

  after(async () => {
    diagnostics.unsubscribe('http.client.request.start', onRequest);
    await ts?.stop();
    await kamailio?.stop();
  });

  /** A session of `user` through `appKey`: connect, register with digest, disconnect; what the client and the hooks saw. */
  async function session(appKey: string, user: (typeof USERS)[number]) {
    const logged = (await ts.server.store.hookLog.query({ appKey, limit: 1000 })).length;
    const c = await TestClient.open(ts.wsUrl);
    c.send('connection', {
      appKey, sipLogin: user.username, sipPassword: user.password, sipDomain: kamailio.domain, sipOutboundProxy: kamailio.host,
      sipPort: String(kamailio.port), sipRegisterRequired: true, custom: { room: 7, tags: ['a', 'b'] },
    });
    await c.expect('getUserData', STEP_MS);
    await c.expect('registered', STEP_MS);
    await c.close();
    await eventually(() => ts.server.gateway.sessionCount === 0, STEP_MS, 'the session to end');
    await eventually(async () => (await ts.server.store.outbox.depth()).pending === 0, STEP_MS, 'the events to be delivered');
    // The last event (unregistered) may be appended just after the session is gone: wait for the whole session's hooks.
    await eventually(async () => (await ts.server.store.hookLog.query({ appKey, limit: 1000 })).length - logged >= SESSION_HOOKS, STEP_MS, 'every hook of the session logged');
    const all = await ts.server.store.hookLog.query({ appKey, limit: 1000 }); // newest first
    const hooks = all.slice(0, all.length - logged).reverse();
    const frames = c.frames.filter((f) => f.message !== 'ping').map((f) => f.message);
    return { frames, hooks, user: c.frames.find((f) => f.message === 'getUserData')!.data[0] as Record<string, unknown> };
  }

  it('makes no HTTP request to EchoApp, and leaves the frames, hook log and events that HTTP leaves', async () => {
    requested.length = 0;
    const inProcess = await session('defaultApp', USERS[0]!);
    assert.deepEqual(requested.filter((p) => p.startsWith('/apps/EchoApp/')), [], 'hooks to the built-in EchoApp went over HTTP');

    const overHttp = await session(OVER_HTTP, USERS[1]!);
    // The channel does see hooks that go over HTTP: the assertion above cannot pass for want of a subscriber.
    assert.deepEqual(requested.filter((p) => p.startsWith('/apps/EchoApp/')), overHttp.hooks.map((h) => `/apps/EchoApp/${h.method}`));

    assert.deepEqual(inProcess.frames, overHttp.frames);
    const rows = (r: typeof inProcess) => r.hooks.map((h) => [h.method, h.status, h.error, new URL(h.url).pathname]);
    assert.deepEqual(rows(inProcess), rows(overHttp));
    assert.deepEqual(rows(inProcess).map(([method]) => method), [
      'connect', 'ConnectionStatusEvent', 'RegistrationStatusEvent', 'ConnectionStatusEvent', 'RegistrationStatusEvent',
    ]);
    assert.equal(inProcess.hooks[0]!.url, `http://127.0.0.1:${ts.server.adminPort}/apps/EchoApp/connect`);
    // The connect answer replaced the session's fields with the echo of what was sent, in both.
    const fields = (u: Record<string, unknown>) => [u['sipLogin'], u['custom'], u['status']];
    assert.deepEqual(fields(inProcess.user), ['alice', { room: 7, tags: ['a', 'b'] }, 'ESTABLISHED']);
    assert.deepEqual(fields(overHttp.user), ['bob', { room: 7, tags: ['a', 'b'] }, 'ESTABLISHED']);
    assert.deepEqual(await ts.server.store.outbox.depth(), { pending: 0, dead: 0 });
  });
});
