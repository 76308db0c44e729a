/**
 * Bad input on the client WebSocket (docs/client-protocol.md "Bad input"): every malformed frame kind gets
 * its `fail` naming the message and the problem, and the session keeps working; a first frame that is not a valid
 * `connection` gets `fail` and the socket is closed. callhook runs in-process with defaultApp + EchoApp.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, TestClient, type TestServer } from '../support/ws-client.ts';

const NO_IDENTITY = 'no SIP identity: sipLogin and sipDomain are not set';

/** What JSON.parse says about `text` (its wording differs between Node versions). */
function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    return `frame is not JSON: ${(e as Error).message}`;
  }
  throw new Error(`${text} is JSON`);
}
const BIG = JSON.stringify({ message: 'sendMessage', data: [{ id: 'big', to: 'bob', body: 'x'.repeat(70_000) }] });

describe('malformed client frames', () => {
  let ts: TestServer;
  let c: TestClient;

  before(async () => {
    ts = await startTestServer();
    c = await TestClient.open(ts.wsUrl);
    c.send('connection', { clientVersion: '2.0' }); // defaultApp, no SIP identity
    await c.expect('getUserData');
  });
  after(async () => {
    await c?.close();
    await ts?.stop();
  });

  /** The session still answers: a valid sendMessage runs its hook and reports its status (FAILED: no identity). */
  async function stillWorks(id: string): Promise<void> {
    c.send('sendMessage', { id, to: 'bob', body: 'still there?' });
    const f = await c.next();
    assert.equal(f.message, 'notifyMessage', f.raw);
    assert.deepEqual(f.data[0], { id, from: '', to: 'bob', body: 'still there?', contentType: 'text/plain', status: 'FAILED', info: NO_IDENTITY });
    assert.ok(c.isOpen);
  }

  const cases: Array<{ kind: string; frame: string | Buffer; binary?: boolean; fail: Record<string, unknown> }> = [
    { kind: 'not JSON', frame: 'hello?', fail: { apiMethod: 'unknown', info: jsonError('hello?') } },
    { kind: 'JSON but not an object', frame: '[1,2]', fail: { apiMethod: 'unknown', info: 'frame must be a JSON object {"message": <name>, "data": [...]}' } },
    { kind: 'no message', frame: '{"data":[]}', fail: { apiMethod: 'unknown', info: 'frame has no "message" naming what it is' } },
    { kind: 'message not a string', frame: '{"message":5,"data":[]}', fail: { apiMethod: 'unknown', info: 'frame has no "message" naming what it is' } },
    { kind: 'data not an array', frame: '{"message":"sendMessage","data":{"id":"x"}}', fail: { apiMethod: 'sendMessage', info: 'sendMessage: "data" must be an array' } },
    { kind: 'unknown message', frame: '{"message":"dance","data":[]}', fail: { apiMethod: 'dance', info: 'unknown message "dance"' } },
    {
      kind: 'a call without its SDP offer',
      frame: JSON.stringify({ message: 'call', data: [{ callId: 'c1', callee: 'bob' }] }),
      fail: { apiMethod: 'call', info: 'call: sdp is required', callId: 'c1' },
    },
    {
      kind: 'a hangup for a call the session does not have',
      frame: JSON.stringify({ message: 'hangup', data: [{ callId: 'nope' }] }),
      fail: { apiMethod: 'hangup', info: 'hangup: no call nope in this session', callId: 'nope' },
    },
    {
      kind: 'sendMessage without data',
      frame: '{"message":"sendMessage","data":[null]}',
      fail: { apiMethod: 'sendMessage', info: 'sendMessage: data[0] must be an object' },
    },
    {
      kind: 'sendMessage missing a required field',
      frame: JSON.stringify({ message: 'sendMessage', data: [{ id: 'x1', body: 'hi' }] }),
      fail: { apiMethod: 'sendMessage', info: 'sendMessage: to is required', id: 'x1' },
    },
    {
      kind: 'sendMessage with a field of the wrong type',
      frame: JSON.stringify({ message: 'sendMessage', data: [{ id: 'x2', to: 42, body: 'hi' }] }),
      fail: { apiMethod: 'sendMessage', info: 'sendMessage: to must be a string', id: 'x2' },
    },
    {
      kind: 'sendMessage with several problems',
      frame: JSON.stringify({ message: 'sendMessage', data: [{ id: '', to: 'bob' }] }),
      fail: { apiMethod: 'sendMessage', info: 'sendMessage: id must not be empty; body is required' },
    },
    {
      kind: 'sendMessage with a content type that is no media type',
      frame: JSON.stringify({ message: 'sendMessage', data: [{ id: 'x3', to: 'bob', body: 'hi', contentType: 'text plain\r\nX: y' }] }),
      fail: { apiMethod: 'sendMessage', info: 'sendMessage: contentType must be a media type such as text/plain', id: 'x3' },
    },
    {
      kind: 'a second connection',
      frame: JSON.stringify({ message: 'connection', data: [{ appKey: 'defaultApp' }] }),
      fail: { apiMethod: 'connection', info: 'connection: this connection is already established' },
    },
    { kind: 'a binary frame', frame: Buffer.from([1, 2, 3]), binary: true, fail: { apiMethod: 'unknown', info: 'binary frames are not part of the protocol: send JSON text' } },
    {
      kind: 'a frame over 64 KiB',
      frame: BIG,
      fail: { apiMethod: 'unknown', info: `frame of ${Buffer.byteLength(BIG)} bytes is over the limit of 65536 bytes` },
    },
  ];

  for (const [i, t] of cases.entries()) {
    it(`${t.kind}: fail, and the session keeps working`, async () => {
      c.sendRaw(t.frame, t.binary);
      const f = await c.next();
      assert.equal(f.message, 'fail', f.raw);
      assert.deepEqual(f.data, [{ ...t.fail, status: 'FAILED' }]);
      await stillWorks(`ok-${i}`);
    });
  }

  it('pong and ping from the client are accepted quietly; notificationResult too', async () => {
    c.sendRaw('{"message":"pong","data":[null]}');
    c.sendRaw('{"message":"pong"}'); // SDK 1.x leaves data out
    c.send('ping', null);
    c.send('notificationResult', { id: 'whatever', status: 'OK' });
    await c.expectQuiet(200);
    await stillWorks('ok-quiet');
  });
});

describe('the first frame', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => ts?.stop());

  const firstFrames: Array<{ kind: string; frame: string; fail: Record<string, unknown> }> = [
    {
      kind: 'not connection',
      frame: JSON.stringify({ message: 'sendMessage', data: [{ id: 'a', to: 'b', body: 'c' }] }),
      fail: { apiMethod: 'sendMessage', info: 'the first message must be "connection", not "sendMessage"' },
    },
    { kind: 'not JSON', frame: '{', fail: { apiMethod: 'unknown', info: jsonError('{') } },
    {
      kind: 'a connection with a bad field',
      frame: JSON.stringify({ message: 'connection', data: [{ sipLogin: 5, sipPort: 'five' }] }),
      fail: { apiMethod: 'connection', info: 'connection: sipLogin must be a string; sipPort must be a port number (1-65535)' },
    },
  ];
  for (const t of firstFrames) {
    it(`${t.kind}: fail, then the socket is closed (1008)`, async () => {
      const c = await TestClient.open(ts.wsUrl);
      c.sendRaw(t.frame);
      const f = await c.next();
      assert.deepEqual([f.message, f.data], ['fail', [{ ...t.fail, status: 'FAILED' }]]);
      assert.equal((await c.closed).code, 1008);
      assert.equal(ts.server.gateway.sessionCount, 0);
    });
  }

  it('a connection with null and blank fields is fine: null means absent, "" means not given', async () => {
    const c = await TestClient.open(ts.wsUrl);
    c.send('connection', { appKey: null, sipLogin: '', sipPort: '', sipPassword: null, sipRegisterRequired: false });
    const user = await c.expect('getUserData');
    assert.equal(user['appKey'], 'defaultApp');
    assert.equal(user['sipLogin'], '');
    assert.equal('sipPassword' in user, false);
    await c.close();
  });
});
