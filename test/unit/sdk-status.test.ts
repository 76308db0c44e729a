/**
 * The SDK session's two statuses as transition tables (sdk/src/session-status.ts, sdk/src/status-machine.ts): a
 * transition a table does not list is refused loudly, and a server report that would need one is a warning that
 * changes nothing.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { connect, type Session, type SessionEvents } from '../../sdk/src/index.ts';
import { CONNECTION_TRANSITIONS, REGISTRATION_TRANSITIONS } from '../../sdk/src/session-status.ts';
import { StatusMachine } from '../../sdk/src/status-machine.ts';
import { eventually } from '../support/ws-client.ts';
import { FakeWebSocket } from './sdk-fakes.ts';

describe('SDK status tables', () => {
  it('a listed transition is made; an unlisted one throws naming both statuses and leaves the status as it was', () => {
    const status = new StatusMachine('connection', 'PENDING', CONNECTION_TRANSITIONS);
    status.transition('ESTABLISHED');
    assert.equal(status.current, 'ESTABLISHED');
    assert.throws(() => status.transition('PENDING'), { message: 'connection status ESTABLISHED → PENDING is not allowed' });
    assert.equal(status.current, 'ESTABLISHED');
  });

  it('connection: ESTABLISHED only from PENDING (an attempt); a refused connection never reconnects', () => {
    const refused: Array<[keyof typeof CONNECTION_TRANSITIONS, keyof typeof CONNECTION_TRANSITIONS]> = [
      ['ESTABLISHED', 'ESTABLISHED'],
      ['ESTABLISHED', 'PENDING'],
      ['DISCONNECTED', 'ESTABLISHED'],
      ['FAILED', 'PENDING'],
      ['FAILED', 'ESTABLISHED'],
      ['FAILED', 'FAILED'],
      ['PENDING', 'PENDING'],
    ];
    for (const [from, to] of refused) {
      const status = new StatusMachine('connection', from, CONNECTION_TRANSITIONS);
      assert.throws(() => status.transition(to), { message: `connection status ${from} → ${to} is not allowed` });
    }
  });

  it('registration: each report is a change, and UNREGISTERED comes only from REGISTERED or FAILED', () => {
    for (const same of ['UNREGISTERED', 'REGISTERED', 'FAILED'] as const) {
      const status = new StatusMachine('registration', same, REGISTRATION_TRANSITIONS);
      assert.throws(() => status.transition(same), { message: `registration status ${same} → ${same} is not allowed` });
    }
  });
});

describe('SDK Session: server reports go through the tables', () => {
  let session: Session | undefined;
  let ws: FakeWebSocket;
  const events: Array<[keyof SessionEvents, unknown]> = [];

  beforeEach(async () => {
    FakeWebSocket.reset();
    events.length = 0;
    const pending = connect({ url: 'ws://callhook.test/', WebSocket: FakeWebSocket });
    await eventually(() => FakeWebSocket.all[0]?.sent.length === 1, 2000, 'the connection frame');
    ws = FakeWebSocket.last;
    ws.deliver('getUserData', { status: 'ESTABLISHED', sessionId: '/127.0.0.1:5000/127.0.0.1:8080' });
    session = await pending;
    for (const name of ['registered', 'registrationFailed', 'failed', 'warning'] as const) {
      session.on(name, (payload: unknown) => events.push([name, payload]));
    }
  });
  afterEach(async () => {
    await session?.disconnect();
  });

  it('a second `registered` while REGISTERED is a warning, not a second registered event', () => {
    ws.deliver('registered', { status: 'REGISTERED', info: 'SIP 200 OK' });
    ws.deliver('registered', { status: 'REGISTERED', info: 'SIP 200 OK' });
    assert.equal(session!.registration, 'REGISTERED');
    assert.deepEqual(events, [
      ['registered', { status: 'REGISTERED', info: 'SIP 200 OK' }],
      ['warning', { apiMethod: 'registered', info: 'SIP 200 OK (reported while the registration is REGISTERED: ignored)' }],
    ]);
  });

  it('a second registration failure while FAILED is a warning; a later `registered` is applied again', () => {
    ws.deliver('fail', { status: 'FAILED', info: 'SIP 403 Forbidden', apiMethod: 'RegistrationStatusEvent' });
    ws.deliver('fail', { status: 'FAILED', info: 'SIP 408 Request Timeout', apiMethod: 'RegistrationStatusEvent' });
    ws.deliver('registered', { status: 'REGISTERED', info: 'SIP 200 OK' });
    assert.deepEqual(events, [
      ['registrationFailed', { status: 'FAILED', info: 'SIP 403 Forbidden' }],
      ['warning', { apiMethod: 'RegistrationStatusEvent', info: 'SIP 408 Request Timeout (reported while the registration is FAILED: ignored)' }],
      ['registered', { status: 'REGISTERED', info: 'SIP 200 OK' }],
    ]);
  });

  it('a second refusal of the connection is a warning: `failed` is emitted once', () => {
    ws.deliver('fail', { status: 'FAILED', info: 'Too many refused frames', apiMethod: 'ConnectionStatusEvent' });
    ws.deliver('fail', { status: 'FAILED', info: 'Server stopping', apiMethod: 'ConnectionStatusEvent' });
    assert.equal(session!.status, 'FAILED');
    assert.deepEqual(events, [
      ['failed', { info: 'Too many refused frames' }],
      ['warning', { apiMethod: 'ConnectionStatusEvent', info: 'Server stopping (reported while the connection is FAILED: ignored)' }],
    ]);
  });
});
