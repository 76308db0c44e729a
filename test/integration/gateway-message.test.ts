/**
 * SIP MESSAGE end to end (issue 4): between two callhook sessions through Kamailio, to a sipp UAS and from a sipp
 * UAC, with the sendMessage / MessageStatusEvent / OnMessageEvent hooks at a real recording backend. Asserts the
 * notifyMessage frames on the wire (SENT then ACCEPTED or FAILED, RECEIVED) and the SIP status at the far end.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { TestBackend, type RecordedRequest, type Responder } from '../support/backend.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { parseMessageTrace, runSipp, scenarioFile, type SippTransport } from '../support/sipp.ts';
import { eventually, startTestServer, TestClient, type Frame, type TestServer } from '../support/ws-client.ts';

const USERS = [
  { username: 'alice', password: 'alice-pw' },
  { username: 'bob', password: 'bob-pw' },
  { username: 'carol', password: 'carol-pw' },
];
const APP = 'backendApp';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const of = (backend: TestBackend, hook: string, sessionId?: string): RecordedRequest[] =>
  backend.requests.filter((r) => r.hook === hook && (sessionId === undefined || r.json?.['sessionId'] === sessionId));

/** notifyMessage's two arguments. */
async function notifyMessage(c: TestClient, timeoutMs = 5000): Promise<[Record<string, unknown>, Record<string, unknown>]> {
  const f: Frame = await c.next(timeoutMs);
  assert.equal(f.message, 'notifyMessage', `expected notifyMessage, got ${f.raw}`);
  assert.equal(f.data.length, 2);
  return f.data as [Record<string, unknown>, Record<string, unknown>];
}

describe('SIP MESSAGE through Kamailio between callhook sessions, and with sipp', () => {
  let kamailio: KamailioInstance;
  let backend: TestBackend;
  let ts: TestServer;
  const clients: TestClient[] = [];
  /** restClientConfig the connect hook returns, per sipLogin. */
  let restClientConfigFor: Record<string, unknown> = {};
  let hookResponder: Responder = () => ({ kind: 'echo' });

  /** A client connected as `user`; registered unless `register` is false. Returns it with its sessionId. */
  async function connectAs(user: string, extra: Record<string, unknown> = {}): Promise<{ c: TestClient; sessionId: string }> {
    const c = await TestClient.open(ts.wsUrl);
    clients.push(c);
    c.send('connection', {
      appKey: APP,
      sipLogin: user,
      sipPassword: USERS.find((u) => u.username === user)?.password ?? 'x',
      sipDomain: kamailio.domain,
      sipOutboundProxy: kamailio.host,
      sipPort: kamailio.port,
      sipRegisterRequired: true,
      ...extra,
    });
    const data = await c.expect('getUserData');
    if (extra['sipRegisterRequired'] !== false) assert.equal((await c.expect('registered'))['status'], 'REGISTERED');
    return { c, sessionId: String(data['sessionId']) };
  }

  before(async () => {
    kamailio = await startKamailio({ users: USERS });
    backend = await TestBackend.start({
      responder: (req) => {
        if (req.hook === 'connect') {
          const config = restClientConfigFor[String(req.json?.['sipLogin'])];
          return { kind: 'json', body: { ...req.json, ...(config !== undefined && { restClientConfig: config }) } };
        }
        return hookResponder(req);
      },
    });
    ts = await startTestServer();
    await ts.server.store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    await ts.server.store.apps.enableMethod(APP, '*');
  });
  beforeEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    // Sessions of the previous test unregister before the next one registers the same users.
    await eventually(() => ts.server.gateway.sessionCount === 0, 5000, 'the previous sessions to end');
    await kamailio.waitForLocations((b) => b.length === 0, 5000);
    backend.requests.length = 0;
    restClientConfigFor = {};
    hookResponder = () => ({ kind: 'echo' });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await ts?.stop();
    await backend?.stop();
    await kamailio?.stop();
  });

  it('alice → bob and back: SENT, ACCEPTED at the sender, RECEIVED at the receiver; the hooks of each session', async () => {
    const alice = await connectAs('alice');
    const bob = await connectAs('bob');

    alice.c.send('sendMessage', { id: 'm-1', to: 'bob', body: 'hello bob, ünïcode ✓', contentType: 'text/plain' });
    const [sent, sentResult] = await notifyMessage(alice.c);
    assert.deepEqual(sent, { id: 'm-1', from: 'alice', to: 'bob', body: 'hello bob, ünïcode ✓', contentType: 'text/plain', status: 'SENT' });
    assert.deepEqual(sentResult, { id: 'm-1' });
    const [accepted] = await notifyMessage(alice.c);
    assert.deepEqual(accepted, { ...sent, status: 'ACCEPTED', info: 'SIP 200 OK', sipStatus: 200 });

    const [received, receivedResult] = await notifyMessage(bob.c);
    assert.match(String(received['id']), UUID);
    assert.equal(received['from'], `sip:alice@${kamailio.domain}`);
    assert.equal(received['to'], `sip:bob@${kamailio.domain}`);
    assert.equal(received['body'], 'hello bob, ünïcode ✓');
    assert.equal(received['contentType'], 'text/plain');
    assert.equal(received['status'], 'RECEIVED');
    assert.match(String(received['sipMessageRaw']), /^MESSAGE sip:[0-9a-f]{16}@127\.0\.0\.1:\d+ SIP\/2\.0\r\n/);
    assert.deepEqual(receivedResult, { id: received['id'] });
    bob.c.send('notificationResult', { ...receivedResult, status: 'OK' });

    // bob answers to the address he got (a full URI is used as is)
    bob.c.send('sendMessage', { id: 'm-2', to: received['from'], body: 'hi alice' });
    assert.equal((await notifyMessage(bob.c))[0]['status'], 'SENT');
    const [bobAccepted] = await notifyMessage(bob.c);
    assert.equal(bobAccepted['status'], 'ACCEPTED');
    assert.equal(bobAccepted['contentType'], 'text/plain', 'the default content type');
    const [back] = await notifyMessage(alice.c);
    assert.equal(back['body'], 'hi alice');
    assert.equal(back['from'], `sip:bob@${kamailio.domain}`);
    await alice.c.expectQuiet(100);
    await bob.c.expectQuiet(100);

    await eventually(() => of(backend, 'MessageStatusEvent').length >= 4, 5000, 'four MessageStatusEvents');
    const sequence = (sessionId: string) =>
      backend.requests
        .filter((r) => r.json?.['sessionId'] === sessionId && /Message/.test(r.hook))
        .map((r) => [r.hook, r.json?.['id'] === received['id'] ? 'in' : r.json?.['id'], r.json?.['status']]);
    assert.deepEqual(sequence(alice.sessionId), [
      ['sendMessage', 'm-1', undefined],
      ['MessageStatusEvent', 'm-1', 'SENT'],
      ['MessageStatusEvent', 'm-1', 'ACCEPTED'],
      ['OnMessageEvent', of(backend, 'OnMessageEvent', alice.sessionId)[0]?.json?.['id'], 'RECEIVED'],
    ]);
    assert.deepEqual(sequence(bob.sessionId), [
      ['OnMessageEvent', 'in', 'RECEIVED'],
      ['sendMessage', 'm-2', undefined],
      ['MessageStatusEvent', 'm-2', 'SENT'],
      ['MessageStatusEvent', 'm-2', 'ACCEPTED'],
    ]);
    const onMessage = of(backend, 'OnMessageEvent', bob.sessionId)[0]!.json!;
    assert.equal(onMessage['from'], `sip:alice@${kamailio.domain}`);
    assert.equal(onMessage['body'], 'hello bob, ünïcode ✓');
    assert.match(String(onMessage['sipMessageRaw']), /^MESSAGE /);
    const accept = of(backend, 'MessageStatusEvent', alice.sessionId)[1]!.json!;
    assert.equal(accept['info'], 'SIP 200 OK');
    assert.equal(accept['sipStatus'], 200);
  });

  it('the sendMessage hook may redirect a message (OVERWRITE to) and OnMessageEvent may rewrite its body', async () => {
    restClientConfigFor = {
      alice: { sendMessage: { restPolicy: 'OVERWRITE', restOverwrite: 'to' } },
      carol: { OnMessageEvent: { restPolicy: 'OVERWRITE', restOverwrite: 'body' } },
    };
    hookResponder = (req) => {
      if (req.hook === 'sendMessage') return { kind: 'json', body: { ...req.json, to: 'carol' } };
      if (req.hook === 'OnMessageEvent') return { kind: 'json', body: { ...req.json, body: `${String(req.json?.['body'])} [checked]` } };
      return { kind: 'echo' };
    };
    const alice = await connectAs('alice');
    const carol = await connectAs('carol');
    alice.c.send('sendMessage', { id: 'm-3', to: 'bob', body: 'for whoever' });
    const [sent] = await notifyMessage(alice.c);
    assert.equal(sent['to'], 'carol');
    assert.equal((await notifyMessage(alice.c))[0]['status'], 'ACCEPTED');
    const [received] = await notifyMessage(carol.c);
    assert.equal(received['body'], 'for whoever [checked]');
    assert.equal(received['to'], `sip:carol@${kamailio.domain}`);
  });

  it('OnMessageEvent refused (restOnError FAIL): 403 to the sender, fail to the receiver', async () => {
    restClientConfigFor = { bob: { OnMessageEvent: { restOnError: 'FAIL' } } };
    hookResponder = (req) =>
      req.hook === 'OnMessageEvent' ? { kind: 'json', status: 403, body: { status: 403, reason: 'No messages now' } } : { kind: 'echo' };
    const alice = await connectAs('alice');
    const bob = await connectAs('bob');
    alice.c.send('sendMessage', { id: 'm-4', to: 'bob', body: 'spam' });
    assert.equal((await notifyMessage(alice.c))[0]['status'], 'SENT');
    const [failed] = await notifyMessage(alice.c);
    assert.equal(failed['status'], 'FAILED');
    assert.equal(failed['info'], 'SIP 403 Forbidden');
    assert.equal(failed['sipStatus'], 403);
    const fail = await bob.c.expect('fail');
    assert.equal(fail['apiMethod'], 'MessageStatusEvent');
    assert.equal(fail['info'], 'No messages now');
    assert.match(String(fail['id']), UUID);
    await bob.c.expectQuiet(200);
  });

  it('sendMessage refused by its hook (restOnError FAIL): fail with the id, nothing sent over SIP', async () => {
    restClientConfigFor = { alice: { sendMessage: { restOnError: 'FAIL' } } };
    hookResponder = (req) =>
      req.hook === 'sendMessage' ? { kind: 'json', status: 403, body: { status: 403, reason: 'Quota exceeded' } } : { kind: 'echo' };
    const alice = await connectAs('alice');
    const bob = await connectAs('bob');
    alice.c.send('sendMessage', { id: 'm-5', to: 'bob', body: 'one too many' });
    assert.deepEqual(await alice.c.expect('fail'), { id: 'm-5', status: 'FAILED', info: 'Quota exceeded', apiMethod: 'MessageStatusEvent' });
    await bob.c.expectQuiet(300);
    await alice.c.expectQuiet(0);
    await eventually(() => of(backend, 'MessageStatusEvent').length >= 1, 5000, 'MessageStatusEvent FAILED');
    assert.equal(of(backend, 'MessageStatusEvent')[0]!.json?.['status'], 'FAILED');
    assert.equal(of(backend, 'OnMessageEvent').length, 0);
  });

  it('a hook that overwrites contentType with header injection: FAILED, nothing sent', async () => {
    restClientConfigFor = { alice: { sendMessage: { restPolicy: 'OVERWRITE', restOverwrite: 'contentType' } } };
    hookResponder = (req) =>
      req.hook === 'sendMessage' ? { kind: 'json', body: { ...req.json, contentType: 'text/plain\r\nX-Injected: 1' } } : { kind: 'echo' };
    const alice = await connectAs('alice');
    const bob = await connectAs('bob');
    alice.c.send('sendMessage', { id: 'm-9', to: 'bob', body: 'x' });
    const [failed] = await notifyMessage(alice.c);
    assert.equal(failed['status'], 'FAILED', 'no SENT before it');
    assert.equal(failed['info'], 'the sendMessage hook answered a bad contentType: "text/plain\\r\\nX-Injected: 1"');
    await bob.c.expectQuiet(300);
  });

  it('a MESSAGE to someone not registered: SENT, then FAILED with the SIP status', async () => {
    const alice = await connectAs('alice');
    alice.c.send('sendMessage', { id: 'm-6', to: 'carol', body: 'anyone?' });
    assert.equal((await notifyMessage(alice.c))[0]['status'], 'SENT');
    const [failed] = await notifyMessage(alice.c);
    assert.deepEqual([failed['status'], failed['info'], failed['sipStatus']], ['FAILED', 'SIP 404 Not Found', 404]);
  });

  it('a MESSAGE that arrives while its session is detaching gets 480 Temporarily Unavailable', async () => {
    hookResponder = (req) => (req.hook === 'OnMessageEvent' ? { kind: 'delay', ms: 300, then: { kind: 'echo' } } : { kind: 'echo' });
    const alice = await connectAs('alice');
    const bob = await connectAs('bob');
    alice.c.send('sendMessage', { id: 'm-7', to: 'bob', body: 'are you there?' });
    assert.equal((await notifyMessage(alice.c))[0]['status'], 'SENT');
    await eventually(() => of(backend, 'OnMessageEvent').length === 1, 5000, 'the OnMessageEvent hook');
    await bob.c.close(); // while the hook runs
    const [failed] = await notifyMessage(alice.c);
    assert.deepEqual([failed['status'], failed['info'], failed['sipStatus']], ['FAILED', 'SIP 480 Temporarily Unavailable', 480]);
    assert.equal(bob.c.frames.some((f) => f.message === 'notifyMessage'), false);
  });

  for (const [transport, sipTransport] of [['u1', 'udp'], ['t1', 'tcp']] as Array<[SippTransport, string]>) {
    it(`to a sipp UAS over ${sipTransport}, without registration (next hop and address = sipDomain:sipPort)`, async () => {
      const uas = await runSipp({ scenarioFile: scenarioFile('uas-message'), mode: 'uas', transport, timeoutMs: 10_000 });
      try {
        const c = await TestClient.open(ts.wsUrl);
        clients.push(c);
        c.send('connection', { appKey: APP, sipLogin: 'alice', sipDomain: '127.0.0.1', sipPort: uas.port, sipTransport, sipVisibleName: 'Alice A.' });
        await c.expect('getUserData');
        c.send('sendMessage', { id: 'm-8', to: 'service', body: 'hello sipp', contentType: 'text/plain;charset=UTF-8' });
        assert.equal((await notifyMessage(c))[0]['status'], 'SENT');
        const [accepted] = await notifyMessage(c);
        assert.deepEqual([accepted['status'], accepted['info']], ['ACCEPTED', 'SIP 200 OK']);
        const result = await uas.done;
        assert.equal(result.code, 0, result.errors || result.stderr);
        const [message] = parseMessageTrace(result.messages).filter((m) => m.direction === 'received');
        assert.ok(message);
        assert.equal(message.transport, sipTransport.toUpperCase());
        // An IP-literal domain with no proxy: sipPort is part of the address (docs/client-protocol.md "SIP settings").
        assert.equal(message.firstLine, `MESSAGE sip:service@127.0.0.1:${uas.port} SIP/2.0`);
        assert.ok(message.text.includes(`\r\nFrom: "Alice A." <sip:alice@127.0.0.1:${uas.port}>;tag=`), message.text);
        assert.ok(message.text.includes(`\r\nTo: <sip:service@127.0.0.1:${uas.port}>\r\n`), message.text);
        assert.match(message.text, /^Content-Type: text\/plain;charset=UTF-8$/m);
        assert.match(message.text, /hello sipp$/);
      } finally {
        await uas.kill();
      }
    });
  }

  it('from a sipp UAC through Kamailio to a registered session: RECEIVED, and 200 back to sipp', async () => {
    const alice = await connectAs('alice');
    const uac = await runSipp({
      scenarioFile: scenarioFile('uac-message'),
      mode: 'uac',
      transport: 'u1',
      remote: kamailio,
      service: 'alice',
      auth: USERS[1]!,
      keys: { caller: 'bob', domain: kamailio.domain },
      extraArgs: ['-auth_uri', `sip:alice@${kamailio.domain}`],
      timeoutMs: 10_000,
    });
    const result = await uac.done;
    assert.equal(result.code, 0, result.errors || result.stderr);
    const statuses = parseMessageTrace(result.messages).filter((m) => m.direction === 'received').map((m) => m.firstLine);
    assert.deepEqual(statuses, ['SIP/2.0 407 Proxy Authentication Required', 'SIP/2.0 200 OK']);
    const [received] = await notifyMessage(alice.c);
    assert.equal(received['status'], 'RECEIVED');
    assert.equal(received['from'], `sip:bob@${kamailio.domain}`);
    assert.equal(received['body'], 'hello from bob\r\n', 'the body byte for byte (the scenario ends it with CRLF)');
    assert.equal(received['contentType'], 'text/plain');
    assert.doesNotMatch(String(received['sipMessageRaw']), /Authorization: Digest/, 'credentials are never passed on');
  });
});
