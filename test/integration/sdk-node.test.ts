/**
 * The SDK's ESM bundle (built by sdk/build.ts) in Node, with `ws` as its WebSocket, against a real callhook
 * (in-process, `defaultApp` answered by EchoApp) and the test Kamailio: connect and register, a registration
 * refused with the SIP reason, SIP MESSAGE between two SDK sessions, refusals with the server's reason,
 * disconnect, and the reconnect policy across a callhook restart. Calls need WebRTC, which Node lacks: the SDK
 * must fail them locally with the reason (the browser tests place real ones).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Session } from '../../sdk/src/index.ts';
import { TestBackend } from '../support/backend.ts';
import { startKamailio, type KamailioInstance, type LocationBinding } from '../support/kamailio.ts';
import { eventually, startTestServer, type TestServer } from '../support/ws-client.ts';
import { buildAndLoadSdk, nextEvent, RecordingWebSocket, type BuiltSdk, type SdkModule } from './sdk-support.ts';

const USERS = [
  { username: 'alice', password: 'alice-pw' },
  { username: 'bob', password: 'bob-pw' },
];
const STEP_MS = 10_000;

const bound = (user: string) => (bindings: LocationBinding[]) => bindings.some((b) => b.aor === user);

describe('the SDK bundle in Node against callhook and Kamailio', { timeout: 120_000 }, () => {
  let built: BuiltSdk;
  let sdk: SdkModule;
  let kamailio: KamailioInstance;
  let ts: TestServer;
  const sessions: Session[] = [];

  function connectAs(user: string, extra: { password?: string; register?: boolean; appKey?: string } = {}): Promise<Session> {
    return sdk
      .connect({
        url: ts.wsUrl,
        WebSocket: RecordingWebSocket,
        ...(extra.appKey !== undefined && { appKey: extra.appKey }),
        sip: {
          login: user,
          password: extra.password ?? USERS.find((u) => u.username === user)!.password,
          domain: kamailio.domain,
          outboundProxy: kamailio.host,
          port: kamailio.port,
          register: extra.register ?? true,
        },
      })
      .then((s) => {
        sessions.push(s);
        return s;
      });
  }

  async function registered(user: string): Promise<Session> {
    const session = await connectAs(user);
    const event = await nextEvent(session, 'registered', STEP_MS);
    assert.equal(event.info, 'SIP 200 OK');
    return session;
  }

  before(async () => {
    built = await buildAndLoadSdk();
    sdk = built.sdk;
    kamailio = await startKamailio({ users: USERS });
    ts = await startTestServer();
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.disconnect();
    await eventually(() => ts.server.gateway.sessionCount === 0, 5000, 'the sessions to end');
    await kamailio.waitForLocations((b) => b.length === 0, 5000);
    RecordingWebSocket.opened = [];
  });
  after(async () => {
    for (const s of sessions) await s.disconnect();
    await ts?.stop();
    await kamailio?.stop();
    await built?.remove();
  });

  it('connects and registers: established, registered (SIP 200 OK), getUserData without the password', async () => {
    const session = await connectAs('alice');
    assert.equal(session.status, 'ESTABLISHED');
    assert.equal(session.userData?.sipLogin, 'alice');
    assert.match(session.sessionId ?? '', /^\/127\.0\.0\.1:\d+\/127\.0\.0\.1:\d+$/);
    assert.ok(!('sipPassword' in (session.userData ?? {})));
    const event = await nextEvent(session, 'registered', STEP_MS);
    assert.equal(event.status, 'REGISTERED');
    assert.equal(event.info, 'SIP 200 OK');
    assert.match(event.sipMessageRaw ?? '', /^SIP\/2\.0 200 OK\r\n/);
    assert.equal(session.registration, 'REGISTERED');
    await kamailio.waitForLocations(bound('alice'), STEP_MS);

    const ws = RecordingWebSocket.opened[0]!;
    assert.equal(ws.sentFrames[0]?.message, 'connection');
    assert.deepEqual(ws.receivedFrames.map((f) => f.message).filter((m) => m !== 'ping'), ['getUserData', 'registered']);
  });

  it('a wrong password: registrationFailed with the SIP reason; the session stays ESTABLISHED', async () => {
    const session = await connectAs('alice', { password: 'wrong' });
    const failed = await nextEvent(session, 'registrationFailed', STEP_MS);
    // test/support/kamailio.cfg challenges a wrong digest again: 401 is the final answer.
    assert.equal(failed.info, 'SIP 401 Unauthorized');
    assert.equal(failed.status, 'FAILED');
    assert.equal(session.registration, 'FAILED');
    assert.equal(session.status, 'ESTABLISHED');
  });

  it('SIP MESSAGE between two SDK sessions through Kamailio: SENT then ACCEPTED at alice, `message` at bob, and back', async () => {
    const alice = await registered('alice');
    const bob = await registered('bob');
    const statuses: string[] = [];
    alice.on('messageStatus', (e) => statuses.push(`${e.status} ${e.info ?? ''}`.trim()));
    const incoming = nextEvent(bob, 'message', STEP_MS);

    const result = await alice.sendMessage({ to: 'bob', body: 'hello bob ✓', contentType: 'text/plain' });
    assert.equal(result.status, 'ACCEPTED');
    assert.equal(result.info, 'SIP 200 OK');
    assert.equal(result.sipStatus, 200);
    assert.deepEqual(statuses, ['SENT', 'ACCEPTED SIP 200 OK']);

    const received = await incoming;
    assert.equal(received.status, 'RECEIVED');
    assert.equal(received.body, 'hello bob ✓');
    assert.equal(received.from, `sip:alice@${kamailio.domain}`);
    // The SDK acknowledged it.
    const bobWs = RecordingWebSocket.opened[1]!;
    await eventually(() => bobWs.sentFrames.some((f) => f.message === 'notificationResult'), 2000, 'notificationResult');
    assert.deepEqual(bobWs.sentFrames.find((f) => f.message === 'notificationResult')?.data, [{ id: received.id, status: 'OK' }]);

    const back = nextEvent(alice, 'message', STEP_MS);
    await bob.sendMessage({ to: String(received.from), body: 'hi alice' });
    assert.equal((await back).body, 'hi alice');
  });

  it('a message nobody can take rejects MESSAGE_FAILED with the SIP reason', async () => {
    const alice = await registered('alice');
    const err = await alice.sendMessage({ to: 'carol', body: 'anyone?' }).then(
      () => assert.fail('expected a rejection'),
      (e: InstanceType<SdkModule['CallhookError']>) => e,
    );
    assert.ok(err instanceof sdk.CallhookError);
    assert.deepEqual([err.code, err.info, err.sipStatus], ['MESSAGE_FAILED', 'SIP 404 Not Found', 404]);
  });

  it('connect refused: CONNECT_REFUSED with the server reason; nothing listening: CONNECTION_FAILED', async () => {
    await assert.rejects(connectAs('alice', { appKey: 'noSuchApp' }), (e: InstanceType<SdkModule['CallhookError']>) => {
      assert.deepEqual([e.code, e.info, e.apiMethod], ['CONNECT_REFUSED', 'unknown appKey "noSuchApp"', 'ConnectionStatusEvent']);
      return true;
    });
    const url = `ws://127.0.0.1:${await TestBackend.closedPort()}/`;
    await assert.rejects(sdk.connect({ url, WebSocket: RecordingWebSocket }), (e: InstanceType<SdkModule['CallhookError']>) => {
      assert.deepEqual([e.code, e.info], ['CONNECTION_FAILED', `cannot connect to ${url} (close code 1006)`]);
      return true;
    });
  });

  it('disconnect(): `disconnected` at once, and the server unregisters (the binding leaves Kamailio)', async () => {
    const alice = await registered('alice');
    await kamailio.waitForLocations(bound('alice'), STEP_MS);
    const events: unknown[] = [];
    alice.on('disconnected', (e) => events.push(e));
    await alice.disconnect();
    assert.deepEqual(events, [{ code: 1000, info: 'Disconnected by the client', byClient: true, willReconnect: false }]);
    assert.equal(alice.status, 'DISCONNECTED');
    await kamailio.waitForLocations((b) => !bound('alice')(b), STEP_MS);
    await eventually(() => ts.server.gateway.sessionCount === 0, STEP_MS, 'the server session to end');
  });

  it('a call from Node (no WebRTC) fails here with the reason, and no `call` frame is sent', async () => {
    const alice = await connectAs('alice', { register: false });
    const call = alice.call({ callee: 'bob' });
    const status = await nextEvent(call, 'status', STEP_MS);
    assert.deepEqual([status.status, status.info], ['FAILED', 'WebRTC is not available here (no RTCPeerConnection)']);
    assert.deepEqual(alice.calls, []);
    assert.ok(!RecordingWebSocket.opened[0]!.sentFrames.some((f) => f.message === 'call'));
  });

  it('reconnect policy: callhook restarts on the same port, the session is established and registered again', async () => {
    const own = await startTestServer();
    const wsPort = own.server.wsPort;
    let restarted: TestServer | undefined;
    try {
      const session = await sdk.connect({
        url: own.wsUrl,
        WebSocket: RecordingWebSocket,
        reconnect: { attempts: 20, delayMs: 100, maxDelayMs: 400 },
        sip: { login: 'alice', password: 'alice-pw', domain: kamailio.domain, outboundProxy: kamailio.host, port: kamailio.port, register: true },
      });
      sessions.push(session);
      await nextEvent(session, 'registered', STEP_MS);
      const firstSessionId = session.sessionId;

      const disconnected = nextEvent(session, 'disconnected', STEP_MS);
      await own.stop();
      const lost = await disconnected;
      assert.deepEqual([lost.code, lost.byClient, lost.willReconnect], [1001, false, true]);

      const established = nextEvent(session, 'established', STEP_MS);
      const registeredAgain = nextEvent(session, 'registered', STEP_MS);
      restarted = await startTestServer({ wsPort });
      assert.equal((await established).reconnected, true);
      assert.equal((await registeredAgain).info, 'SIP 200 OK');
      assert.equal(session.status, 'ESTABLISHED');
      assert.notEqual(session.sessionId, firstSessionId);
      await session.disconnect();
      await eventually(() => restarted!.server.gateway.sessionCount === 0, 5000, 'the session on the restarted server to end');
    } finally {
      await own.stop();
      await restarted?.stop();
    }
  });
});
