/**
 * Sessions alive at a crash (issue 10, item 10): the real server process with ~30 live sessions — some registered
 * on Kamailio, some only connected, some with a ringing call to sipp — is killed with SIGKILL and started again
 * on the same dataDir. The backend must then get, exactly once each and with info `Server restarted`,
 * ConnectionStatusEvent DISCONNECTED for every session, RegistrationStatusEvent UNREGISTERED for every
 * registration and CallStatusEvent FINISH for every call, carrying the session's own context fields, and each
 * call's CallDetailRecord closed the same way; a second restart emits nothing more. On both store engines: SQLite
 * in the same dataDir, PostgreSQL in the same database under the same nodeName.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestBackend, type RecordedRequest } from '../support/backend.ts';
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { LOOPBACK } from '../support/ports.ts';
import { runSipp, scenarioFile, type SippProcess } from '../support/sipp.ts';
import { STORE_ENGINES, stopStoreEngines } from '../support/stores.ts';
import { WebRtcClient } from '../support/webrtc-client.ts';
import { eventually } from '../support/ws-client.ts';

const APP = 'crashApp';
const REGISTERED = 10;
const CONNECTED = 20;
const CALLING = 3;
const USERS = Array.from({ length: REGISTERED }, (_, i) => ({ username: `user${i}`, password: `secret-${i}` }));
const RESTARTED = 'Server restarted';

after(stopStoreEngines);

for (const engine of STORE_ENGINES) describe(`sessions alive at a crash are closed for the backend at the next start (${engine.name})`, { timeout: 240_000 }, () => {
  let location: string;
  let backend: TestBackend;
  let kamailio: KamailioInstance;
  let sipp: SippProcess;
  const servers: CallhookProcess[] = [];
  const clients: WebRtcClient[] = [];

  const hooks = (hook: string, status?: string): RecordedRequest[] =>
    backend.requests.filter((r) => r.hook === hook && (status === undefined || r.json?.['status'] === status));
  const restartEvents = (hook: string): RecordedRequest[] => hooks(hook).filter((r) => r.json?.['info'] === RESTARTED);

  async function start(): Promise<CallhookProcess> {
    const store = engine.name === 'sqlite' ? { dataDir: location } : { store: 'postgres', postgresUrl: location, nodeName: 'crash-node' };
    const server = await startCallhookProcess({ ...store, rtpPortMin: 41000, rtpPortMax: 41999, webrtcPortMin: 42000, webrtcPortMax: 42999 });
    servers.push(server);
    return server;
  }

  before(async () => {
    backend = await TestBackend.start();
    kamailio = await startKamailio({ users: USERS });
    sipp = await runSipp({ scenarioFile: scenarioFile('uas-ring-no-answer'), mode: 'uas', transport: 'u1', calls: CALLING, timeoutMs: 200_000 });
    location = await engine.fresh();
    const store = await engine.open(location, { adminPort: 0, node: 'crash-node' });
    await store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    await store.apps.enableMethod(APP, '*');
    await store.close();
  });

  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const s of servers) await s.kill('SIGKILL');
    await sipp?.kill();
    await kamailio?.stop();
    await backend?.stop();
  });

  it('kill -9 with 30 live sessions, restart: DISCONNECTED, UNREGISTERED and FINISH once each; a second restart adds nothing', async () => {
    const first = await start();
    const connect = async (fields: Record<string, unknown>): Promise<WebRtcClient> => {
      const client = await WebRtcClient.connect(first.wsUrl, { appKey: APP, ...fields });
      clients.push(client);
      return client;
    };
    const registered = await Promise.all(USERS.map((u) => connect({
      sipLogin: u.username, sipPassword: u.password, sipDomain: kamailio.domain, sipOutboundProxy: kamailio.host, sipPort: kamailio.port, sipRegisterRequired: true,
    })));
    const connected = await Promise.all(Array.from({ length: CONNECTED }, (_, i) => connect({ sipLogin: `guest${i}`, sipDomain: LOOPBACK, sipPort: sipp.port, sipRegisterRequired: false })));
    const callers = connected.slice(0, CALLING);
    const calls = await Promise.all(callers.map((c) => c.call('bob')));
    await Promise.all(calls.map((call) => call.waitStatus('RING', 20_000)));
    const sessions = [...registered, ...connected];
    await eventually(() => hooks('ConnectionStatusEvent', 'ESTABLISHED').length >= sessions.length && hooks('RegistrationStatusEvent', 'REGISTERED').length >= REGISTERED && hooks('CallStatusEvent', 'RING').length >= CALLING, 20_000, 'the backend to hear of every session, registration and call');
    // The backend's view before the crash: what each session's closing events must match.
    const established = new Map(sessions.map((c) => [c.sessionId, hooks('ConnectionStatusEvent', 'ESTABLISHED').find((r) => r.json?.['sessionId'] === c.sessionId)!.json!]));

    const crash = await first.kill('SIGKILL');
    assert.equal(crash, 'killed by SIGKILL');
    const second = await start();
    await eventually(
      () => restartEvents('ConnectionStatusEvent').length >= sessions.length && restartEvents('RegistrationStatusEvent').length >= REGISTERED && restartEvents('CallStatusEvent').length >= CALLING,
      30_000,
      `the closing events (so far ${restartEvents('ConnectionStatusEvent').length} DISCONNECTED, ${restartEvents('RegistrationStatusEvent').length} UNREGISTERED, ${restartEvents('CallStatusEvent').length} FINISH)`,
    );

    assert.match(second.process.log, new RegExp(`"sessions":${sessions.length},"events":${sessions.length + REGISTERED + CALLING},"msg":"the previous run ended without closing its sessions`));
    for (const client of sessions) {
      const before = established.get(client.sessionId)!;
      const mine = (hook: string) => restartEvents(hook).filter((r) => r.json?.['sessionId'] === client.sessionId).map((r) => r.json!);
      const [disconnected, ...again] = mine('ConnectionStatusEvent');
      assert.deepEqual(again, [], `one DISCONNECTED for ${client.sessionId}`);
      assert.equal(disconnected?.['status'], 'DISCONNECTED');
      // the session's context and fields, as in its ESTABLISHED, and never the password
      for (const f of ['nodeId', 'appKey', 'sessionId', 'sipLogin', 'sipDomain', 'sipPort']) assert.deepEqual(disconnected[f], before[f], f);
      assert.equal(Object.hasOwn(disconnected, 'sipPassword'), false);
      assert.ok(Number(disconnected['sequence']) > Number(before['sequence']), 'the session\'s sequence goes on');
      const unregistered = mine('RegistrationStatusEvent');
      const isRegistered = registered.includes(client);
      assert.deepEqual(unregistered.map((e) => e['status']), isRegistered ? ['UNREGISTERED'] : [], `UNREGISTERED for ${client.sessionId}`);
      const call = calls[callers.indexOf(client)];
      const finished = mine('CallStatusEvent');
      assert.deepEqual(finished.map((e) => [e['status'], e['callId'], e['caller'], e['callee']]), call ? [['FINISH', call.callId, client.userData['sipLogin'], 'bob']] : []);
    }
    const closing = (r: RecordedRequest) => r.hook !== 'CallDetailRecord' && ['DISCONNECTED', 'UNREGISTERED', 'FINISH'].includes(String(r.json?.['status']));
    assert.equal(backend.requests.filter(closing).length, sessions.length + REGISTERED + CALLING, 'no closing event besides these');
    // Each ringing call's detail record is closed too, and pushed once (docs/admin.md "Call detail records").
    await eventually(() => restartEvents('CallDetailRecord').length >= CALLING, 10_000, 'the CallDetailRecord events');
    assert.deepEqual(
      restartEvents('CallDetailRecord').map((r) => [r.json!['callId'], r.json!['status'], r.json!['hangupSide'], r.json!['answeredAt']]).sort(),
      calls.map((call) => [call.callId, 'FINISH', 'callhook', null]).sort(),
    );

    // A clean stop and another start: nothing is owed any more.
    assert.equal(await second.kill('SIGTERM'), 'exited with code 0');
    const third = await start();
    assert.doesNotMatch(third.process.log, /the previous run ended without closing its sessions/);
    assert.equal(await third.kill('SIGTERM'), 'exited with code 0');
    assert.equal(backend.requests.filter(closing).length, sessions.length + REGISTERED + CALLING, 'no closing event from the third run');
    assert.equal(hooks('CallDetailRecord').length, CALLING, 'no record pushed again');
    const store = await engine.open(location, { adminPort: 0, node: 'crash-node' });
    assert.deepEqual(await store.wills.all(), []);
    await store.close();
  });
});
