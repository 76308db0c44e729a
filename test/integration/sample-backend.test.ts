/**
 * The sample backend (examples/backend/) next to a real callhook and the test Kamailio, as its README sets it up:
 * an app pointing at it, every method enabled, signed with a restSecret. The page side is the SDK's ESM bundle in
 * Node with `ws`. What is checked: a token in `custom` gets the SIP account filled in and the page never sees it
 * (every frame it receives), a bad token is refused with the backend's reason, a page cannot redirect the
 * registration, `call` is normalised (hook engine) or refused with the backend's reason (end to end, to the page),
 * events are verified and stored once, the history endpoint lists calls, and `check app` passes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { createBackend, type Backend, type CallRecord } from '../../examples/backend/backend.ts';
import { parseBackendData } from '../../examples/backend/config.ts';
import { EventStore } from '../../examples/backend/event-store.ts';
import { signCallhook } from '../../sdk/src/node/index.ts';
import { REST_METHOD_NAMES } from '../../src/hooks/methods.ts';
import type { Session } from '../../sdk/src/index.ts';
import { TestBackend } from '../support/backend.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { eventually, startTestServer, type TestServer } from '../support/ws-client.ts';
import { FakePeerConnection, fakeGetUserMedia } from '../unit/sdk-fakes.ts';
import { buildAndLoadSdk, nextEvent, RecordingWebSocket, type BuiltSdk, type SdkModule } from './sdk-support.ts';

const SECRET = 'sample-backend-secret-1';
const APP = 'sampleApp';
const STEP_MS = 10_000;
/** SIP accounts only the backend knows; the pages know tokens. */
const ACCOUNTS = {
  'tok-A': { username: 'u7001', password: 'pw-7001-Zq' },
  'tok-B': { username: 'u7002', password: 'pw-7002-Xk' },
};

type CallhookError = InstanceType<SdkModule['CallhookError']>;

describe('the sample backend with callhook and Kamailio', { timeout: 120_000 }, () => {
  let built: BuiltSdk;
  let kamailio: KamailioInstance;
  let ts: TestServer;
  let backend: Backend;
  let backendUrl: string;
  let events: EventStore;
  let dir: string;
  const sessions: Session[] = [];

  async function connectWithToken(token: string, sip?: Parameters<SdkModule['connect']>[0]['sip']): Promise<Session> {
    const session = await built.sdk.connect({ url: ts.wsUrl, appKey: APP, custom: { token }, WebSocket: RecordingWebSocket, ...(sip && { sip }) });
    sessions.push(session);
    return session;
  }

  const stored = (method: string, sessionId?: string) =>
    events.list(method).filter((e) => sessionId === undefined || e.body['sessionId'] === sessionId);

  before(async () => {
    built = await buildAndLoadSdk();
    kamailio = await startKamailio({ users: Object.values(ACCOUNTS) });
    dir = await mkdtemp(join(tmpdir(), 'callhook-sample-backend-'));
    events = await EventStore.open(join(dir, 'events.jsonl'));
    const data = parseBackendData(
      {
        users: Object.entries(ACCOUNTS).map(([token, a]) => ({
          token,
          sipLogin: a.username,
          // test/support/kamailio.cfg wants the digest user to be the To user.
          sipAuthenticationName: a.username,
          sipPassword: a.password,
          sipDomain: kamailio.domain,
          sipOutboundProxy: kamailio.host,
          sipPort: kamailio.port,
          sipRegisterRequired: true,
        })),
        allowedCallees: ['u7002', '100*', '+4930*'],
      },
      'test data',
    );
    backend = createBackend({ secret: SECRET, data, events, log: () => undefined });
    const address = await backend.listen(0, '127.0.0.1');
    backendUrl = `http://127.0.0.1:${address.port}`;
    ts = await startTestServer();
    await ts.server.store.apps.add({ name: 'sample', appKey: APP, url: `${backendUrl}/rest`, restSecret: SECRET });
    await ts.server.store.apps.enableMethod(APP, '*');
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
    await backend?.close();
    await kamailio?.stop();
    await built?.remove();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('a token in custom: the backend fills in the SIP account, callhook registers, and no frame to the page carries it', async () => {
    const alice = await connectWithToken('tok-A');
    assert.equal((await nextEvent(alice, 'registered', STEP_MS)).info, 'SIP 200 OK');
    const bob = await connectWithToken('tok-B');
    await nextEvent(bob, 'registered', STEP_MS);
    const bindings = await kamailio.waitForLocations((b) => b.length === 2, STEP_MS);
    assert.deepEqual(bindings.map((b) => b.aor).sort(), ['u7001', 'u7002']);

    // Messages both ways, so message frames are among those checked.
    const atBob = nextEvent(bob, 'message', STEP_MS);
    await alice.sendMessage({ to: 'u7002', body: 'hello' });
    const received = await atBob;
    assert.equal(received.body, 'hello');
    const atAlice = nextEvent(alice, 'message', STEP_MS);
    await bob.sendMessage({ to: String(received.from), body: 'hi' });
    await atAlice;

    const [aliceWs, bobWs] = RecordingWebSocket.opened;
    for (const [ws, account] of [
      [aliceWs!, ACCOUNTS['tok-A']],
      [bobWs!, ACCOUNTS['tok-B']],
    ] as const) {
      const connection = ws.sentFrames[0]!;
      assert.equal(connection.message, 'connection');
      assert.deepEqual(Object.keys(connection.data[0] as object).filter((k) => k.startsWith('sip')), [], 'the page sends no SIP field');
      assert.ok(ws.receivedFrames.some((f) => f.message === 'registered'));
      for (const frame of ws.receivedFrames) {
        // Message frames name the other user's address (sip:u7002@<domain>), which the page is meant to see; no
        // other frame may even name the domain.
        const secrets = frame.message === 'notifyMessage' ? [account.password, account.username] : [account.password, account.username, kamailio.domain];
        for (const secret of secrets) assert.ok(!frame.raw.includes(secret), `a ${frame.message} frame carries ${secret}: ${frame.raw}`);
      }
    }
    assert.deepEqual(Object.keys(alice.userData ?? {}).filter((k) => k.startsWith('sip')), ['sipRegisterRequired'], 'no account field in getUserData');

    // The events callhook reported were verified and stored.
    await eventually(() => stored('RegistrationStatusEvent', alice.sessionId).length === 1, 5000, 'RegistrationStatusEvent stored');
    assert.equal(stored('RegistrationStatusEvent', alice.sessionId)[0]!.body['status'], 'REGISTERED');
    assert.equal(stored('ConnectionStatusEvent', alice.sessionId)[0]!.body['status'], 'ESTABLISHED');
    await eventually(() => stored('MessageStatusEvent', alice.sessionId).length === 2, 5000, 'SENT and ACCEPTED stored');
  });

  it('a bad or missing token is refused with the backend reason', async () => {
    for (const custom of [{ token: 'stolen' }, undefined]) {
      await assert.rejects(
        built.sdk.connect({ url: ts.wsUrl, appKey: APP, WebSocket: RecordingWebSocket, ...(custom && { custom }) }),
        (e: CallhookError) => {
          assert.deepEqual([e.code, e.info], ['CONNECT_REFUSED', 'Unknown or missing token']);
          return true;
        },
      );
    }
  });

  it('a page cannot point the registration elsewhere: the backend answers every SIP field', async () => {
    const alice = await connectWithToken('tok-A', { outboundProxy: '127.0.0.1', port: await TestBackend.closedPort(), login: 'mallory', register: false });
    assert.equal((await nextEvent(alice, 'registered', STEP_MS)).info, 'SIP 200 OK');
    await kamailio.waitForLocations((b) => b.some((x) => x.aor === 'u7001'), STEP_MS);
  });

  it('call: the backend normalises an allowed callee and refuses others with its reason (hook engine)', async () => {
    const ctx = { appKey: APP, sessionId: '/192.0.2.1:5000/127.0.0.1:8080', nodeId: ts.server.nodeId };
    const connected = await ts.server.hooks.invoke('connect', { custom: { token: 'tok-A' } }, ctx);
    assert.ok(connected.ok);
    assert.equal(connected.body['sipLogin'], 'u7001');
    const session = { ...ctx, restClientConfig: connected.restClientConfig };
    const callBody = { callId: 'c-1', incoming: false, status: 'PENDING', hasAudio: true, hasVideo: false, sdp: 'v=0\r\n' };

    const allowed = await ts.server.hooks.invoke('call', { ...callBody, callee: '0049 30 123-45' }, session);
    assert.ok(allowed.ok);
    assert.equal(allowed.body['callee'], '+493012345', 'OVERWRITE took the normalised callee');

    const refused = await ts.server.hooks.invoke('call', { ...callBody, callee: '999' }, session);
    assert.equal(refused.ok, false);
    assert.ok(!refused.ok && refused.refuse, 'restOnError FAIL stops the call');
    assert.equal(!refused.ok && refused.info, 'Calls to 999 are not allowed');
  });

  it('a call to a callee outside the allow-list fails at the page with the backend reason, and is in the history', async () => {
    // The browser's media is stood in for (Node has no WebRTC): the call hook decides before any media is set up.
    const { getUserMedia } = fakeGetUserMedia();
    const session = await built.sdk.connect({
      url: ts.wsUrl,
      appKey: APP,
      custom: { token: 'tok-A' },
      WebSocket: RecordingWebSocket,
      media: { getUserMedia, RTCPeerConnection: FakePeerConnection as unknown as typeof RTCPeerConnection },
    });
    sessions.push(session);
    const call = session.call({ callee: '555 0100' });
    const final = await nextEvent(call, 'status', STEP_MS);
    assert.deepEqual([final.status, final.info], ['FAILED', 'Calls to 5550100 are not allowed']);
    const fail = RecordingWebSocket.opened[0]!.receivedFrames.find((f) => f.message === 'fail');
    assert.deepEqual(fail?.data[0], { status: 'FAILED', info: 'Calls to 5550100 are not allowed', apiMethod: 'CallStatusEvent', callId: call.id });

    await eventually(() => stored('CallStatusEvent', session.sessionId).length === 1, 5000, 'the CallStatusEvent stored');
    const history = (await (await fetch(`${backendUrl}/history`)).json()) as { calls: CallRecord[] };
    const record = history.calls.find((c) => c.callId === call.id);
    assert.deepEqual([record?.status, record?.info, record?.callee, record?.caller], ['FAILED', 'Calls to 5550100 are not allowed', '555 0100', 'u7001']);
  });

  it('hooks without a valid signature are refused (403) and nothing is stored', async () => {
    const body = JSON.stringify({ eventId: 'forged-1', callId: 'x', status: 'FINISH', sessionId: '/1.1.1.1:1/2.2.2.2:2', appKey: APP, nodeId: 'n' });
    const post = (headers: Record<string, string>) =>
      fetch(`${backendUrl}/rest/CallStatusEvent`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
    const unsigned = await post({});
    assert.equal(unsigned.status, 403);
    assert.deepEqual(await unsigned.json(), { status: 403, reason: 'bad X-Callhook-Signature: missing' });
    const wrongKey = await post({ 'X-Callhook-Signature': signCallhook(body, 'not-the-secret', Math.floor(Date.now() / 1000)) });
    assert.deepEqual(await wrongKey.json(), { status: 403, reason: 'bad X-Callhook-Signature: mismatch' });
    const stale = await post({ 'X-Callhook-Signature': signCallhook(body, SECRET, Math.floor(Date.now() / 1000) - 3600) });
    assert.deepEqual(await stale.json(), { status: 403, reason: 'bad X-Callhook-Signature: expired' });
    assert.equal(events.list().filter((e) => e.eventId === 'forged-1').length, 0);
    const connect = await fetch(`${backendUrl}/rest/connect`, { method: 'POST', body: JSON.stringify({ custom: { token: 'tok-A' } }) });
    assert.equal(connect.status, 403, 'no SIP password for an unsigned connect');
  });

  it('call history: CallStatusEvents from callhook are stored once and listed by GET /history', async () => {
    const ctx = { appKey: APP, sessionId: '/192.0.2.7:5000/127.0.0.1:8080', nodeId: ts.server.nodeId };
    const call = { callId: 'hist-1', incoming: false, caller: 'u7001', callee: '1001' };
    for (const [status, info] of [['TRYING', 'SIP 100 Trying'], ['RING', 'SIP 180 Ringing'], ['ESTABLISHED', undefined], ['FINISH', 'Normal call clearing']] as const) {
      ts.server.hooks.emit('CallStatusEvent', { ...call, status, ...(info !== undefined && { info }) }, ctx);
    }
    await eventually(() => stored('CallStatusEvent', ctx.sessionId).length === 4, 10_000, 'four CallStatusEvents stored');

    // callhook delivers at least once: a redelivery is answered 200 and stored once.
    const first = stored('CallStatusEvent', ctx.sessionId)[0]!;
    const raw = JSON.stringify(first.body);
    const again = await fetch(`${backendUrl}/rest/CallStatusEvent`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Callhook-Signature': signCallhook(raw, SECRET, Math.floor(Date.now() / 1000)) },
      body: raw,
    });
    assert.equal(again.status, 200);
    assert.equal(stored('CallStatusEvent', ctx.sessionId).length, 4);

    const history = (await (await fetch(`${backendUrl}/history`)).json()) as { calls: CallRecord[] };
    const record = history.calls.find((c) => c.callId === 'hist-1');
    assert.ok(record, JSON.stringify(history));
    assert.deepEqual(
      record.statuses.map((s) => [s.status, s.info]),
      [
        ['TRYING', 'SIP 100 Trying'],
        ['RING', 'SIP 180 Ringing'],
        ['ESTABLISHED', undefined],
        ['FINISH', 'Normal call clearing'],
      ],
    );
    assert.deepEqual(
      [record.sessionId, record.caller, record.callee, record.incoming, record.status, record.info],
      [ctx.sessionId, 'u7001', '1001', false, 'FINISH', 'Normal call clearing'],
    );
    assert.ok(record.answeredAt !== undefined && record.endedAt !== undefined && record.answeredAt <= record.endedAt);

    // The events file holds them too (what a restarted backend reads back).
    const reopened = await EventStore.open(join(dir, 'events.jsonl'));
    assert.equal(reopened.list('CallStatusEvent').filter((e) => e.body['callId'] === 'hist-1').length, 4);
  });

  it('`check app` passes against it (the probes are signed and approved)', async () => {
    const res = await fetch(`${ts.server.adminUrl}/api/apps/${APP}/check`, { method: 'POST', headers: { Authorization: `Bearer ${ts.server.adminToken}` } });
    const report = (await res.json()) as { ok: boolean; steps: Array<{ step: string; method?: string; ok: boolean; detail: string }> };
    assert.equal(report.ok, true, JSON.stringify(report.steps.filter((s) => !s.ok)));
    assert.equal(report.steps.filter((s) => s.step === 'probe').length, REST_METHOD_NAMES.length, 'one probe per REST method');
  });
});
