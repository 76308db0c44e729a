/**
 * Connecting and registering end to end (issue 4): a raw WebSocket client, callhook in-process, the test Kamailio
 * as registrar and a real recording HTTP backend for the hooks. Asserts the exact frames on the wire, the exact
 * hooks at the backend, the bindings in Kamailio's location table and what `callhook show sessions` prints.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { runCli } from '../../src/admin/cli/main.ts';
import { TestBackend, type RecordedRequest } from '../support/backend.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { eventually, startTestServer, TestClient, type TestServer } from '../support/ws-client.ts';
import { sampleValue, scrapeMetrics } from '../support/metrics.ts';

const USERS = [
  { username: 'alice', password: 'alice-secret-1' },
  { username: 'bob', password: 'bob-secret-2' },
  { username: 'carol', password: 'carol-secret-3' },
];
const APP = 'backendApp';

/** The requests of one hook method, in arrival order. */
const of = (backend: TestBackend, hook: string): RecordedRequest[] => backend.requests.filter((r) => r.hook === hook);

describe('connect and register through a backend and Kamailio', () => {
  let kamailio: KamailioInstance;
  let backend: TestBackend;
  let ts: TestServer;
  const clients: TestClient[] = [];

  const sipFields = (username: string, password?: string) => ({
    sipLogin: username,
    sipPassword: password ?? USERS.find((u) => u.username === username)!.password,
    sipDomain: kamailio.domain,
    sipOutboundProxy: kamailio.host,
    sipPort: String(kamailio.port), // as SDK 2.0's demo sends it
    sipRegisterRequired: true,
  });
  const open = async () => {
    const c = await TestClient.open(ts.wsUrl);
    clients.push(c);
    return c;
  };
  const hooks = () => backend.requests.map((r) => [r.hook, r.json?.['status']]);
  const json = (r: RecordedRequest | undefined) => r?.json ?? {};
  const hasBinding = async (user: string) => (await kamailio.locations()).some((b) => b.aor === user);
  const sessionIdOf = (c: TestClient) => `/127.0.0.1:${c.localPort}/127.0.0.1:${ts.server.wsPort}`;
  const registrationOf = (c: TestClient) => ts.server.gateway.sessions().find((s) => s.sessionId === sessionIdOf(c))?.registration;

  before(async () => {
    kamailio = await startKamailio({ users: USERS });
    backend = await TestBackend.start();
    ts = await startTestServer();
    await ts.server.store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    await ts.server.store.apps.enableMethod(APP, '*');
  });
  /**
   * A session's end is complete once its Contact is released (after any unREGISTER) and every event it emitted has
   * been delivered: then nothing more of it can reach the backend.
   */
  const untilSessionEnded = (bindingsBefore: number): Promise<unknown> =>
    eventually(async () => ts.server.sip.bindingCount === bindingsBefore && (await ts.server.store.outbox.depth()).pending === 0, 5000, 'the session to end');

  beforeEach(() => {
    backend.requests.length = 0;
    backend.responder = () => ({ kind: 'echo' });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await ts?.stop();
    await backend?.stop();
    await kamailio?.stop();
  });

  it('connection → connect hook → getUserData → REGISTER → registered; disconnect unregisters', async () => {
    const c = await open();
    c.send('connection', { appKey: APP, ...sipFields('alice'), clientVersion: '2.0', custom: { room: 7 } });

    const user = await c.expect('getUserData');
    const sessionId = sessionIdOf(c);
    assert.equal(user['status'], 'ESTABLISHED');
    assert.equal(user['sessionId'], sessionId);
    assert.equal(user['appKey'], APP);
    assert.equal(user['sipLogin'], 'alice');
    assert.deepEqual(user['custom'], { room: 7 });
    assert.match(String(user['authToken']), /^[0-9a-f]{32}$/);
    assert.equal('sipPassword' in user, false, 'the password never goes to the client');
    assert.equal('nodeId' in user, false);

    const registered = await c.expect('registered');
    assert.deepEqual(Object.keys(registered).sort(), ['info', 'sipMessageRaw', 'status']);
    assert.equal(registered['status'], 'REGISTERED');
    assert.equal(registered['info'], 'SIP 200 OK');
    assert.match(String(registered['sipMessageRaw']), /^SIP\/2\.0 200 OK\r\n/);
    await c.expectQuiet(200);

    const bindings = await kamailio.waitForLocations((b) => b.some((x) => x.aor === 'alice'), 5000);
    assert.match(bindings.find((b) => b.aor === 'alice')!.contact, /^sip:[0-9a-f]{16}@127\.0\.0\.1:\d+$/);

    await backend.waitForRequests(3);
    assert.deepEqual(hooks(), [
      ['connect', undefined],
      ['ConnectionStatusEvent', 'ESTABLISHED'],
      ['RegistrationStatusEvent', 'REGISTERED'],
    ]);
    for (const r of backend.requests) {
      assert.equal(r.json?.['sessionId'], sessionId);
      assert.equal(r.json?.['appKey'], APP);
      assert.equal(r.json?.['nodeId'], ts.server.nodeId);
      assert.match(ts.server.nodeId, /^[A-Za-z0-9]{32}@127\.0\.0\.1$/);
    }
    assert.equal(json(backend.requests[0])['sipPassword'], USERS[0]!.password, 'connect gets what the client sent');
    assert.equal('sipPassword' in json(backend.requests[1]), false, 'events are stored: no password in them');
    assert.equal(json(backend.requests[1])['sipLogin'], 'alice');
    assert.match(String(json(backend.requests[2])['sipMessageRaw']), /^SIP\/2\.0 200 OK/);

    // callhook show sessions (the CLI against the admin API)
    const out: string[] = [];
    const env = { CALLHOOK_ADMIN_PORT: String(ts.server.adminPort), CALLHOOK_DATA_DIR: ts.server.config.dataDir };
    assert.equal(await runCli(['show', 'sessions'], { out: (t) => out.push(t), err: (t) => out.push(t), env }), 0);
    const table = out.join('\n');
    assert.match(table, /SESSION\s+APP\s+STATUS\s+SIP LOGIN\s+REGISTRATION\s+CONNECTED/);
    assert.ok(table.includes(sessionId) && table.includes('alice@callhook.test') && table.includes('REGISTERED'), table);
    out.length = 0;
    assert.equal(await runCli(['show', 'sessions', '--json'], { out: (t) => out.push(t), err: (t) => out.push(t), env }), 0);
    const [listed] = JSON.parse(out.join('\n')) as Array<Record<string, unknown>>;
    assert.deepEqual({ ...listed, connectedAt: undefined }, {
      sessionId, appKey: APP, status: 'ESTABLISHED', sipLogin: 'alice', sipDomain: kamailio.domain, registration: 'REGISTERED', connectedAt: undefined,
    });
    // Prometheus sees the registration by status (every status served, 0 when no session has it).
    const metrics = await scrapeMetrics(ts.server);
    assert.equal(sampleValue(metrics, 'callhook_registrations{status="REGISTERED"}'), 1, metrics);
    assert.equal(sampleValue(metrics, 'callhook_registrations{status="FAILED"}'), 0, metrics);

    await c.close();
    await kamailio.waitForLocations((b) => !b.some((x) => x.aor === 'alice'), 5000);
    await backend.waitForRequests(5);
    assert.deepEqual(hooks().slice(3), [
      ['ConnectionStatusEvent', 'DISCONNECTED'],
      ['RegistrationStatusEvent', 'UNREGISTERED'],
    ]);
    assert.equal(json(backend.requests[3])['info'], 'Disconnected by the client');
    assert.equal(json(backend.requests[4])['info'], 'SIP 200 OK');
    await eventually(() => ts.server.gateway.sessions().length === 0, 2000, 'the session to be gone');
  });

  it('sipDomain an IP address, no outbound proxy, a non-default sipPort: REGISTER names that port (sip:127.0.0.1:<port>)', async () => {
    // Kamailio listens on kamailio.port only, so `sip:127.0.0.1` (port 5060) is not itself: 403 Relaying Forbidden.
    const c = await open();
    const { sipOutboundProxy: _proxy, ...fields } = { ...sipFields('carol'), sipDomain: kamailio.host };
    c.send('connection', { appKey: APP, ...fields });
    await c.expect('getUserData');
    const registered = await c.expect('registered');
    assert.equal(registered['info'], 'SIP 200 OK');
    const binding = (await kamailio.waitForLocations((b) => b.some((x) => x.aor === 'carol'), 5000)).find((b) => b.aor === 'carol')!;
    assert.equal(binding.socket, `udp:${kamailio.host}:${kamailio.port}`);
    await c.close();
    await kamailio.waitForLocations((b) => !b.some((x) => x.aor === 'carol'), 5000);
  });

  it('credentials supplied only by the connect hook reach REGISTER, never the client; clientExclude hides fields', async () => {
    const secret = USERS[1]!.password;
    backend.responder = (req) =>
      req.hook === 'connect'
        ? {
            kind: 'json',
            body: {
              ...req.json,
              ...sipFields('bob'),
              sipAuthenticationName: 'bob',
              restClientConfig: { ConnectionStatusEvent: { clientExclude: 'sipAuthenticationName,sipOutboundProxy' } },
            },
          }
        : { kind: 'echo' };
    const bindingsBefore = ts.server.sip.bindingCount;
    const c = await open();
    c.send('connection', { appKey: APP, clientVersion: '2.0' });

    const user = await c.expect('getUserData');
    assert.equal(user['sipLogin'], 'bob');
    assert.equal(user['sipDomain'], kamailio.domain);
    for (const hidden of ['sipPassword', 'sipAuthenticationName', 'sipOutboundProxy', 'restClientConfig']) {
      assert.equal(hidden in user, false, `${hidden} is not sent to the client`);
    }
    assert.equal((await c.expect('registered'))['status'], 'REGISTERED');
    await kamailio.waitForLocations((b) => b.some((x) => x.aor === 'bob'), 5000);
    assert.equal(json(of(backend, 'connect')[0])['sipPassword'], undefined, 'the client sent no credentials');

    await c.close();
    await kamailio.waitForLocations((b) => !b.some((x) => x.aor === 'bob'), 5000);
    for (const f of c.frames) assert.equal(f.raw.includes(secret), false, `frame ${f.message} carries the password`);
    await backend.waitForRequests(5);
    // The UNREGISTERED may still be on its way: wait for the session's whole end, so none of its events reaches
    // the next test, and check them all.
    await untilSessionEnded(bindingsBefore);
    for (const r of backend.requests.slice(1)) assert.equal(r.rawBody.includes(secret), false, `${r.hook} event carries the password`);
  });

  it('a wrong password: fail (RegistrationStatusEvent) with the SIP reason at both ends; the session stays', async () => {
    const bindingsBefore = ts.server.sip.bindingCount;
    const c = await open();
    c.send('connection', { appKey: APP, ...sipFields('carol', 'not-the-password') });
    await c.expect('getUserData');
    const fail = await c.expect('fail');
    assert.deepEqual(Object.keys(fail).sort(), ['apiMethod', 'info', 'sipMessageRaw', 'status']);
    assert.equal(fail['status'], 'FAILED');
    assert.equal(fail['apiMethod'], 'RegistrationStatusEvent');
    const info = String(fail['info']);
    assert.match(info, /^SIP (401 Unauthorized|403 Forbidden)$/);
    assert.ok(String(fail['sipMessageRaw']).startsWith(`SIP/2.0 ${info.slice(4)}\r\n`));

    await backend.waitForRequests(3);
    const event = json(of(backend, 'RegistrationStatusEvent')[0]);
    assert.equal(event['status'], 'FAILED');
    assert.equal(event['info'], info);
    assert.equal(event['sipMessageRaw'], fail['sipMessageRaw']);
    assert.equal(await hasBinding('carol'), false);

    await c.expectQuiet(300);
    assert.ok(c.isOpen, 'a failed registration does not end the connection');
    assert.equal(registrationOf(c), 'FAILED');

    await c.close();
    await backend.waitForRequests(4);
    await untilSessionEnded(bindingsBefore);
    // Nothing was registered, so nothing is unregistered.
    assert.deepEqual(hooks(), [
      ['connect', undefined],
      ['ConnectionStatusEvent', 'ESTABLISHED'],
      ['RegistrationStatusEvent', 'FAILED'],
      ['ConnectionStatusEvent', 'DISCONNECTED'],
    ]);
  });

  it('a connect hook answering {"status":403,"reason":"Not allowed"}: fail with info "Not allowed", then the socket closes', async () => {
    backend.responder = (req) =>
      req.hook === 'connect' ? { kind: 'json', status: 403, body: { status: 403, reason: 'Not allowed' } } : { kind: 'echo' };
    const c = await open();
    c.send('connection', { appKey: APP, ...sipFields('alice') });
    assert.deepEqual(await c.expect('fail'), { status: 'FAILED', info: 'Not allowed', apiMethod: 'ConnectionStatusEvent' });
    assert.equal((await c.closed).code, 1008);
    assert.deepEqual(c.frames.map((f) => f.message), ['fail']);
    await backend.waitForRequests(2);
    assert.deepEqual(hooks(), [['connect', undefined], ['ConnectionStatusEvent', 'FAILED']]);
    assert.equal(json(backend.requests[1])['info'], 'Not allowed');
    assert.equal(await hasBinding('alice'), false, 'no REGISTER after a refused connect');
  });

  it('an unknown appKey is refused the same way', async () => {
    const c = await open();
    c.send('connection', { appKey: 'noSuchApp' });
    assert.deepEqual(await c.expect('fail'), { status: 'FAILED', info: 'unknown appKey "noSuchApp"', apiMethod: 'ConnectionStatusEvent' });
    assert.equal((await c.closed).code, 1008);
  });

  it('a connect hook answering a bad sipPort refuses the connect, naming the field', async () => {
    backend.responder = (req) => (req.hook === 'connect' ? { kind: 'json', body: { ...req.json, sipPort: 'eighty' } } : { kind: 'echo' });
    const c = await open();
    c.send('connection', { appKey: APP, ...sipFields('alice') });
    assert.deepEqual(await c.expect('fail'), {
      status: 'FAILED',
      info: 'sipPort must be a port number from 1 to 65535, got "eighty"',
      apiMethod: 'ConnectionStatusEvent',
    });
    assert.equal((await c.closed).code, 1008);
  });

  it('defaultApp + EchoApp: works with no backend at all', async () => {
    const c = await open();
    c.send('connection', sipFields('alice')); // no appKey: defaultApp
    const user = await c.expect('getUserData');
    assert.equal(user['appKey'], 'defaultApp');
    assert.equal('sipPassword' in user, false);
    assert.equal((await c.expect('registered'))['status'], 'REGISTERED');
    await kamailio.waitForLocations((b) => b.some((x) => x.aor === 'alice'), 5000);

    const log = () => ts.server.store.hookLog.query({ appKey: 'defaultApp' });
    await eventually(async () => (await log()).length >= 3, 5000, 'three hooks to EchoApp');
    const attempts = (await log()).reverse();
    assert.deepEqual(attempts.map((a) => [a.method, a.status]), [
      ['connect', 200],
      ['ConnectionStatusEvent', 200],
      ['RegistrationStatusEvent', 200],
    ]);
    assert.equal(attempts[0]!.url, `http://127.0.0.1:${ts.server.adminPort}/apps/EchoApp/connect`);
    assert.equal(backend.requests.length, 0);

    await c.close();
    await kamailio.waitForLocations((b) => !b.some((x) => x.aor === 'alice'), 5000);
  });

  it('sipRegisterRequired false: ESTABLISHED, no REGISTER', async () => {
    const c = await open();
    c.send('connection', { appKey: APP, ...sipFields('alice'), sipRegisterRequired: false });
    await c.expect('getUserData');
    await c.expectQuiet(300);
    assert.equal(await hasBinding('alice'), false);
    assert.ok(ts.server.gateway.sessions().some((s) => s.sessionId === sessionIdOf(c)));
    assert.equal(registrationOf(c), undefined);
    await c.close();
  });

  it('sipRegisterRequired without sipDomain: RegistrationStatusEvent FAILED naming what is missing', async () => {
    const c = await open();
    c.send('connection', { appKey: APP, sipLogin: 'alice', sipRegisterRequired: true });
    await c.expect('getUserData');
    assert.deepEqual(await c.expect('fail'), {
      status: 'FAILED',
      info: 'no SIP identity: sipDomain is not set',
      apiMethod: 'RegistrationStatusEvent',
    });
    await c.close();
  });
});

describe('a registration refresh that fails', () => {
  it('is reported to client and backend as RegistrationStatusEvent FAILED', async () => {
    const kamailio = await startKamailio({ users: USERS, minExpires: 1 });
    const backend = await TestBackend.start();
    // A 2 s registration is refreshed after 1 s; T1 = 50 ms makes a lost REGISTER time out in 3.2 s (Timer F).
    const ts = await startTestServer({ registerExpires: 2, sipT1Ms: 50, sipT2Ms: 400, sipT4Ms: 500 });
    const c = await TestClient.open(ts.wsUrl);
    try {
      await ts.server.store.apps.add({ name: APP, appKey: APP, url: backend.url() });
      await ts.server.store.apps.enableMethod(APP, '*');
      c.send('connection', {
        appKey: APP,
        sipLogin: 'alice',
        sipPassword: USERS[0]!.password,
        sipDomain: kamailio.domain,
        sipOutboundProxy: kamailio.host,
        sipPort: kamailio.port,
        sipRegisterRequired: true,
      });
      await c.expect('getUserData');
      assert.equal((await c.expect('registered'))['status'], 'REGISTERED');
      await kamailio.stop(); // the registrar goes away: the next refresh gets no answer

      const fail = await c.expect('fail', 10_000);
      assert.equal(fail['apiMethod'], 'RegistrationStatusEvent');
      assert.equal(fail['status'], 'FAILED');
      assert.equal(typeof fail['info'], 'string');
      await eventually(() => of(backend, 'RegistrationStatusEvent').length >= 2, 5000, 'the FAILED event at the backend');
      assert.deepEqual(of(backend, 'RegistrationStatusEvent').map((r) => r.json?.['status']), ['REGISTERED', 'FAILED']);
      assert.equal(of(backend, 'RegistrationStatusEvent')[1]!.json?.['info'], fail['info']);
      assert.ok(c.isOpen);
      assert.deepEqual(ts.server.gateway.sessions().map((s) => s.registration), ['FAILED']);
    } finally {
      await c.close();
      await ts.stop();
      await backend.stop();
      await kamailio.stop();
    }
  });
});
