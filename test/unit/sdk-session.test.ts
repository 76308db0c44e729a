/**
 * The SDK's Session state machine against a WebSocket the test plays the server of (test/unit/sdk-fakes.ts):
 * connecting and being refused, ping/pong, registration events, SIP MESSAGE statuses, the routing of `fail`,
 * disconnecting, and the reconnect policy. The same behaviour against a real callhook: test/integration/sdk-node.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CallhookError, connect, type ConnectOptions, type Session, type SessionEvents } from '../../sdk/src/index.ts';
import { eventually } from '../support/eventually.ts';
import { FakeWebSocket } from './sdk-fakes.ts';

/** How long a fake may take to do what the test waits for. */
const WAIT_MS = 2000;
const USER_DATA = { status: 'ESTABLISHED', sessionId: '/127.0.0.1:5000/127.0.0.1:8080', authToken: 'a'.repeat(32), sipLogin: 'alice', appKey: 'defaultApp' };

function options(extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return { url: 'ws://callhook.test/', WebSocket: FakeWebSocket, sip: { login: 'alice', password: 'pw', domain: 'pbx.test', register: true }, ...extra };
}

/** The sessions a test connected; each is disconnected after the test (which also stops any reconnecting). */
const sessions: Session[] = [];

/** Connects through a FakeWebSocket that answers `connection` with getUserData. */
async function connected(extra: Partial<ConnectOptions> = {}): Promise<{ session: Session; ws: FakeWebSocket }> {
  const before = FakeWebSocket.all.length;
  const pending = connect(options(extra));
  await eventually(() => FakeWebSocket.all.length > before && FakeWebSocket.last.sent.length > 0, WAIT_MS, 'the connection frame');
  const ws = FakeWebSocket.last;
  ws.deliver('getUserData', USER_DATA);
  const session = await pending;
  sessions.push(session);
  return { session, ws };
}

/** Records every event of a session, in order, as [name, payload]. */
function record(session: Session): Array<[keyof SessionEvents, unknown]> {
  const events: Array<[keyof SessionEvents, unknown]> = [];
  const names: Array<keyof SessionEvents> = ['established', 'registered', 'registrationFailed', 'disconnected', 'failed', 'incomingCall', 'message', 'messageStatus', 'warning'];
  for (const name of names) session.on(name, (payload: unknown) => events.push([name, payload]));
  return events;
}

async function rejection(promise: Promise<unknown>): Promise<CallhookError> {
  const err = await promise.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof CallhookError, `expected a CallhookError, got ${String(err)}`);
  return err;
}

describe('SDK Session', () => {
  beforeEach(() => FakeWebSocket.reset());
  afterEach(async () => {
    for (const session of sessions.splice(0)) await session.disconnect();
  });

  describe('connect', () => {
    it('sends `connection` as the first frame and resolves at getUserData with the server data', async () => {
      const { session, ws } = await connected({ appKey: 'shop', custom: { token: 'x' } });
      assert.equal(ws.url, 'ws://callhook.test/');
      assert.equal(ws.sent[0]?.message, 'connection');
      assert.equal(ws.sent.length, 1);
      const c = ws.sentNamed('connection')[0]!;
      assert.deepEqual([c['appKey'], c['sipLogin'], c['sipPassword'], c['sipRegisterRequired'], c['custom']], ['shop', 'alice', 'pw', true, { token: 'x' }]);
      assert.equal(session.status, 'ESTABLISHED');
      assert.equal(session.registration, 'UNREGISTERED');
      assert.deepEqual(session.userData, USER_DATA);
      assert.equal(session.sessionId, USER_DATA.sessionId);
    });

    it('rejects with CONNECT_REFUSED and the server reason on fail ConnectionStatusEvent, and closes', async () => {
      const pending = connect(options());
      await eventually(() => FakeWebSocket.all[0]?.sent.length === 1, WAIT_MS, 'the connection frame');
      FakeWebSocket.last.deliver('fail', { status: 'FAILED', info: 'Unknown token', apiMethod: 'ConnectionStatusEvent' });
      const err = await rejection(pending);
      assert.equal(err.code, 'CONNECT_REFUSED');
      assert.equal(err.info, 'Unknown token');
      assert.equal(err.apiMethod, 'ConnectionStatusEvent');
      await eventually(() => FakeWebSocket.last.readyState === 3, WAIT_MS, 'the socket to close');
    });

    it('rejects with CONNECTION_FAILED when the socket cannot open, and when the server closes first', async () => {
      FakeWebSocket.behaviour = 'refuse';
      const err = await rejection(connect(options()));
      assert.equal(err.code, 'CONNECTION_FAILED');
      assert.equal(err.info, 'cannot connect to ws://callhook.test/ (close code 1006)');

      FakeWebSocket.behaviour = 'open';
      const pending = connect(options());
      await eventually(() => FakeWebSocket.all[1]?.sent.length === 1, WAIT_MS, 'the connection frame');
      FakeWebSocket.last.serverClose(1011, 'internal error');
      const closed = await rejection(pending);
      assert.equal(closed.code, 'CONNECTION_FAILED');
      assert.equal(closed.info, 'the server closed the connection before accepting it (WebSocket close code 1011: internal error)');
    });

    it('rejects with TIMEOUT when the server does not answer within timeoutMs, and closes the socket', async () => {
      const err = await rejection(connect(options({ timeoutMs: 30 })));
      assert.equal(err.code, 'TIMEOUT');
      assert.equal(err.info, 'the server did not accept the connection within 30 ms');
      await eventually(() => FakeWebSocket.last.closedWith !== undefined, WAIT_MS, 'the socket to close');
    });

    it('refuses bad options with INVALID_ARGUMENT naming the option', async () => {
      const cases: Array<[Partial<ConnectOptions>, string]> = [
        [{ url: 'http://x/' }, 'connect: url must be a ws:// or wss:// URL, got "http://x/"'],
        [{ timeoutMs: 0 }, 'connect: timeoutMs must be a positive number'],
        [{ reconnect: { attempts: 0 } }, 'connect: reconnect.attempts must be an integer of at least 1'],
      ];
      for (const [extra, info] of cases) {
        const err = await rejection(connect(options(extra)));
        assert.deepEqual([err.code, err.info], ['INVALID_ARGUMENT', info]);
      }
      const noWs = await rejection(connect({ url: 'ws://x/' }));
      assert.equal(noWs.info, 'connect: there is no global WebSocket here: pass options.WebSocket (in Node, the ws package)');
      assert.equal(FakeWebSocket.all.length, 0, 'no socket was opened');
    });
  });

  it('answers ping with pong ({"message":"pong","data":[null]})', async () => {
    const { ws } = await connected();
    ws.deliver('ping');
    assert.deepEqual(ws.sent.at(-1), { message: 'pong', data: [null] });
  });

  it('registered and fail RegistrationStatusEvent become registered / registrationFailed with the SIP reason', async () => {
    const { session, ws } = await connected();
    const events = record(session);
    ws.deliver('registered', { status: 'REGISTERED', info: 'SIP 200 OK', sipMessageRaw: 'SIP/2.0 200 OK\r\n' });
    assert.equal(session.registration, 'REGISTERED');
    ws.deliver('fail', { status: 'FAILED', info: 'SIP 403 Forbidden', apiMethod: 'RegistrationStatusEvent' });
    assert.equal(session.registration, 'FAILED');
    assert.deepEqual(events, [
      ['registered', { status: 'REGISTERED', info: 'SIP 200 OK', sipMessageRaw: 'SIP/2.0 200 OK\r\n' }],
      ['registrationFailed', { status: 'FAILED', info: 'SIP 403 Forbidden' }],
    ]);
  });

  describe('sendMessage', () => {
    it('sends {id, to, body, contentType}; SENT is reported, ACCEPTED resolves', async () => {
      const { session, ws } = await connected();
      const events = record(session);
      const result = session.sendMessage({ to: 'bob', body: 'hi', contentType: 'text/plain', id: 'm-1' });
      assert.deepEqual(ws.sentNamed('sendMessage'), [{ id: 'm-1', to: 'bob', body: 'hi', contentType: 'text/plain' }]);
      const base = { id: 'm-1', from: 'alice', to: 'bob', body: 'hi', contentType: 'text/plain' };
      ws.deliver('notifyMessage', { ...base, status: 'SENT' }, { id: 'm-1' });
      ws.deliver('notifyMessage', { ...base, status: 'ACCEPTED', info: 'SIP 200 OK', sipStatus: 200 }, { id: 'm-1' });
      assert.deepEqual(await result, { id: 'm-1', status: 'ACCEPTED', info: 'SIP 200 OK', sipStatus: 200, message: { ...base, status: 'ACCEPTED', info: 'SIP 200 OK', sipStatus: 200 } });
      assert.deepEqual(
        events.map(([name, p]) => [name, (p as { status: string }).status]),
        [
          ['messageStatus', 'SENT'],
          ['messageStatus', 'ACCEPTED'],
        ],
      );
    });

    it('FAILED rejects with MESSAGE_FAILED, the server info and the SIP status', async () => {
      const { session, ws } = await connected();
      const result = session.sendMessage({ to: 'carol', body: 'x' });
      const id = String(ws.sentNamed('sendMessage')[0]?.['id']);
      assert.match(id, /^[0-9a-f-]{36}$/, 'an id is made when none is given');
      assert.equal(ws.sentNamed('sendMessage')[0]?.['contentType'], undefined, 'the server defaults it');
      ws.deliver('notifyMessage', { id, status: 'FAILED', info: 'SIP 404 Not Found', sipStatus: 404 }, { id });
      const err = await rejection(result);
      assert.deepEqual([err.code, err.info, err.sipStatus], ['MESSAGE_FAILED', 'SIP 404 Not Found', 404]);
    });

    it('a fail with the message id (a hook refused it) rejects with the hook reason', async () => {
      const { session, ws } = await connected();
      const result = session.sendMessage({ to: 'bob', body: 'x', id: 'm-5' });
      ws.deliver('fail', { id: 'm-5', status: 'FAILED', info: 'Quota exceeded', apiMethod: 'MessageStatusEvent' });
      const err = await rejection(result);
      assert.deepEqual([err.code, err.info], ['MESSAGE_FAILED', 'Quota exceeded']);
    });

    it('rejects bad arguments, a duplicate pending id, and times out after timeoutMs', async () => {
      const { session, ws } = await connected();
      assert.equal((await rejection(session.sendMessage({ to: '', body: 'x' }))).info, 'sendMessage: to must be a non-empty string');
      assert.equal((await rejection(session.sendMessage({ to: 'b', body: 1 as unknown as string }))).info, 'sendMessage: body must be a string');
      const first = rejection(session.sendMessage({ to: 'b', body: 'x', id: 'dup', timeoutMs: 20 }));
      assert.equal((await rejection(session.sendMessage({ to: 'b', body: 'y', id: 'dup' }))).info, 'sendMessage: a message with id "dup" is still waiting for its status');
      const late = await first;
      assert.deepEqual([late.code, late.info], ['TIMEOUT', 'sendMessage: no final status for message dup within 20 ms']);
      assert.equal(ws.sentNamed('sendMessage').length, 1);
    });
  });

  it('an incoming message (RECEIVED) is a `message` event and is acknowledged with notificationResult OK', async () => {
    const { session, ws } = await connected();
    const events = record(session);
    const m = { id: 'in-1', from: 'sip:bob@pbx.test', to: 'sip:alice@pbx.test', body: 'hello', contentType: 'text/plain', status: 'RECEIVED' };
    ws.deliver('notifyMessage', m, { id: 'in-1' });
    assert.deepEqual(events, [['message', m]]);
    assert.deepEqual(ws.sentNamed('notificationResult'), [{ id: 'in-1', status: 'OK' }]);
  });

  it('a fail about nothing of the session is a warning; frames that are not JSON are warnings too', async () => {
    const { session, ws } = await connected();
    const events = record(session);
    ws.deliver('fail', { status: 'FAILED', info: 'MessageStatusEvent: connect ECONNREFUSED', apiMethod: 'ErrorStatusEvent' });
    ws.deliverRaw('not json');
    ws.deliver('somethingNew', {});
    assert.deepEqual(events, [
      ['warning', { apiMethod: 'ErrorStatusEvent', info: 'MessageStatusEvent: connect ECONNREFUSED' }],
      ['warning', { apiMethod: 'unknown', info: 'the server sent a frame that is not {"message", "data"} JSON: not json' }],
    ]);
    assert.equal(session.status, 'ESTABLISHED');
  });

  describe('closing', () => {
    it('disconnect() closes with 1000, rejects waiting messages and emits disconnected once', async () => {
      const { session, ws } = await connected();
      ws.deliver('registered', { status: 'REGISTERED', info: 'SIP 200 OK' });
      const events = record(session);
      const message = rejection(session.sendMessage({ to: 'bob', body: 'x' }));
      await session.disconnect();
      await session.disconnect();
      assert.deepEqual(ws.closedWith, { code: 1000, reason: '' });
      assert.equal(session.status, 'DISCONNECTED');
      assert.equal(session.registration, 'UNREGISTERED');
      const err = await message;
      assert.equal(err.code, 'DISCONNECTED');
      assert.deepEqual(events, [['disconnected', { code: 1000, info: 'Disconnected by the client', byClient: true, willReconnect: false }]]);
      assert.throws(() => session.call({ callee: 'bob' }), (e: CallhookError) => e.code === 'NOT_CONNECTED');
    });

    it('the server closing is `disconnected` with the close code; no reconnect by default', async () => {
      const { session, ws } = await connected();
      const events = record(session);
      ws.serverClose(1001, 'Server stopping');
      assert.deepEqual(events, [['disconnected', { code: 1001, info: 'Connection lost (WebSocket close code 1001: Server stopping)', byClient: false, willReconnect: false }]]);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(FakeWebSocket.all.length, 1);
    });

    it('a refusal after connecting (fail ConnectionStatusEvent) is `failed`, and the close that follows adds nothing', async () => {
      const { session, ws } = await connected({ reconnect: { attempts: 3, delayMs: 5 } });
      const events = record(session);
      ws.deliver('fail', { status: 'FAILED', info: 'Too many refused frames', apiMethod: 'ConnectionStatusEvent' });
      ws.serverClose(1008, 'too many refused frames');
      assert.equal(session.status, 'FAILED');
      assert.deepEqual(events, [['failed', { info: 'Too many refused frames' }]]);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(FakeWebSocket.all.length, 1, 'no reconnect after a refusal');
    });
  });

  describe('reconnect policy', () => {
    it('after an unexpected close: waits, connects again with the same fields, and is established again', async () => {
      const { session, ws } = await connected({ reconnect: { attempts: 3, delayMs: 10 } });
      const events = record(session);
      ws.serverClose(1006);
      assert.equal(session.status, 'DISCONNECTED');
      await eventually(() => FakeWebSocket.all.length === 2 && FakeWebSocket.last.sent.length === 1, WAIT_MS, 'a second connection');
      assert.deepEqual(FakeWebSocket.last.sent[0], ws.sent[0], 'the same connection frame');
      FakeWebSocket.last.deliver('getUserData', { ...USER_DATA, sessionId: '/127.0.0.1:5001/127.0.0.1:8080' });
      await eventually(() => session.status === 'ESTABLISHED', WAIT_MS, 'ESTABLISHED again');
      assert.deepEqual(
        events.map(([name, p]) => [name, name === 'established' ? (p as { reconnected: boolean }).reconnected : (p as { willReconnect: boolean }).willReconnect]),
        [
          ['disconnected', true],
          ['established', true],
        ],
      );
      assert.equal(session.sessionId, '/127.0.0.1:5001/127.0.0.1:8080');
    });

    it('gives up after `attempts` failed attempts with `failed` naming the last reason', async () => {
      const { session, ws } = await connected({ reconnect: { attempts: 2, delayMs: 5 } });
      const events = record(session);
      FakeWebSocket.behaviour = 'refuse';
      ws.serverClose(1006);
      await eventually(() => session.status === 'FAILED', 3000, 'FAILED');
      assert.equal(FakeWebSocket.all.length, 3);
      assert.deepEqual(events.at(-1), ['failed', { info: 'cannot connect to ws://callhook.test/ (close code 1006) (gave up after 2 reconnect attempts)' }]);
    });

    it('stops at a refusal (CONNECT_REFUSED) with the server reason, and never reconnects after 1008', async () => {
      const { session, ws } = await connected({ reconnect: { attempts: 5, delayMs: 5 } });
      const events = record(session);
      ws.serverClose(1006);
      await eventually(() => FakeWebSocket.all.length === 2 && FakeWebSocket.last.sent.length === 1, WAIT_MS, 'a second connection');
      FakeWebSocket.last.deliver('fail', { status: 'FAILED', info: 'Not allowed now', apiMethod: 'ConnectionStatusEvent' });
      await eventually(() => session.status === 'FAILED', WAIT_MS, 'FAILED');
      assert.deepEqual(events.at(-1), ['failed', { info: 'Not allowed now' }]);

      FakeWebSocket.reset();
      const other = await connected({ reconnect: { attempts: 5, delayMs: 5 } });
      other.ws.serverClose(1008, 'too many sessions');
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(FakeWebSocket.all.length, 1);
      assert.equal(other.session.status, 'DISCONNECTED');
    });

    it('disconnect() during the wait stops reconnecting', async () => {
      const { session, ws } = await connected({ reconnect: { attempts: 5, delayMs: 50 } });
      const events = record(session);
      ws.serverClose(1006);
      await session.disconnect();
      await new Promise((r) => setTimeout(r, 80));
      assert.equal(FakeWebSocket.all.length, 1);
      assert.deepEqual(
        events.map(([name, p]) => [name, (p as { byClient: boolean }).byClient]),
        [
          ['disconnected', false],
          ['disconnected', true],
        ],
      );
    });
  });
});
