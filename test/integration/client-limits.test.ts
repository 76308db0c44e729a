/**
 * The client endpoint's keep-alive and limits (docs/client-protocol.md): `ping` every pingIntervalMs and a client
 * silent for 3 of them disconnected; floods over wsMessagesPerSecond refused, repeated abuse closed; sessions per
 * IP; the web phone page on the same port; wss with a configured certificate. A recording backend sees the
 * ConnectionStatusEvent DISCONNECTED each case ends with.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { TestBackend } from '../support/backend.ts';
import { eventually, startTestServer, TestClient, type TestServer } from '../support/ws-client.ts';

const APP = 'backendApp';
const PING_MS = 100;

describe('keep-alive and limits', () => {
  let backend: TestBackend;
  let ts: TestServer;

  before(async () => {
    backend = await TestBackend.start();
    ts = await startTestServer({ pingIntervalMs: PING_MS });
    await ts.server.store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    await ts.server.store.apps.enableMethod(APP, '*');
  });
  after(async () => {
    await ts?.stop();
    await backend?.stop();
  });

  async function connect(): Promise<TestClient> {
    const c = await TestClient.open(ts.wsUrl);
    c.send('connection', { appKey: APP });
    await c.expect('getUserData');
    return c;
  }
  const disconnectedInfo = (c: TestClient) =>
    backend.requests.find((r) => r.hook === 'ConnectionStatusEvent' && r.json?.['status'] === 'DISCONNECTED' && String(r.json?.['sessionId']).includes(`:${c.localPort}/`))?.json?.['info'];

  it('pings every pingIntervalMs with data []; a client answering pong stays connected', async () => {
    const c = await connect();
    // Six pings: twice the three a silent client may miss.
    const pingsSoFar = () => c.frames.filter((f) => f.message === 'ping').length;
    await eventually(() => pingsSoFar() >= 6 || !c.isOpen, PING_MS * 30, () => `six pings (${pingsSoFar()} came)`);
    const pings = c.frames.filter((f) => f.message === 'ping');
    assert.ok(pings.length >= 4, `${pings.length} pings`);
    for (const p of pings) assert.equal(p.raw, '{"message":"ping","data":[]}');
    assert.ok(c.isOpen);
    await c.close();
    await eventually(() => disconnectedInfo(c) !== undefined, 5000, 'DISCONNECTED');
    assert.equal(disconnectedInfo(c), 'Disconnected by the client');
  });

  it('a client that misses 3 pings is disconnected: ConnectionStatusEvent DISCONNECTED "Missed 3 pings"', async () => {
    const c = await connect();
    c.autoPong = false;
    const started = Date.now();
    const closed = await c.closed;
    const took = Date.now() - started;
    assert.equal(closed.code, 1006, 'dropped without a close handshake');
    assert.ok(took >= PING_MS * 2 && took < PING_MS * 10, `closed after ${took} ms`);
    assert.ok(c.frames.filter((f) => f.message === 'ping').length >= 3);
    await eventually(() => disconnectedInfo(c) !== undefined, 5000, 'DISCONNECTED');
    assert.equal(disconnectedInfo(c), 'Missed 3 pings');
  });

  it('a socket that never sends connection is closed after one ping interval', async () => {
    const c = await TestClient.open(ts.wsUrl); // answers pings, but says nothing else
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
    const fail = c.frames.find((f) => f.message === 'fail');
    assert.deepEqual(fail?.data, [{ status: 'FAILED', info: 'no "connection" message within one ping interval', apiMethod: 'unknown' }]);
  });

});

describe('rate and session limits', () => {
  let backend: TestBackend;
  let ts: TestServer;

  before(async () => {
    backend = await TestBackend.start();
    // The default ping interval: pongs, which count as frames too, stay out of these budgets.
    ts = await startTestServer({ wsMessagesPerSecond: 5, wsSessionsPerIp: 3 });
    await ts.server.store.apps.add({ name: APP, appKey: APP, url: backend.url() });
    await ts.server.store.apps.enableMethod(APP, '*');
  });
  after(async () => {
    await ts?.stop();
    await backend?.stop();
  });

  async function connect(): Promise<TestClient> {
    const c = await TestClient.open(ts.wsUrl);
    c.send('connection', { appKey: APP });
    await c.expect('getUserData');
    return c;
  }
  const disconnectedInfo = (c: TestClient) =>
    backend.requests.find((r) => r.hook === 'ConnectionStatusEvent' && r.json?.['status'] === 'DISCONNECTED' && String(r.json?.['sessionId']).includes(`:${c.localPort}/`))?.json?.['info'];

  it('frames over wsMessagesPerSecond are refused with fail; the connection stays and works again later', async () => {
    const c = await connect();
    await new Promise((r) => setTimeout(r, 1100)); // the bucket refills with time: a full one
    for (let i = 0; i < 8; i++) c.send('notificationResult', { id: `n${i}` });
    // A ninth frame, refused too (the bucket is empty): frames are answered in order, so its fail is the last.
    c.send('notificationResult', { id: 'n8' });
    await eventually(() => c.frames.filter((f) => f.message === 'fail').length >= 4, 2000, 'four refusals');
    const fails = c.frames.filter((f) => f.message === 'fail');
    assert.equal(fails.length, 4, '5 of 8 pass, 3 are refused, and the ninth');
    assert.deepEqual(fails[0]!.data, [{ status: 'FAILED', info: 'more than 5 messages per second: frame dropped', apiMethod: 'unknown' }]);
    assert.ok(c.isOpen);
    await new Promise((r) => setTimeout(r, 400));
    c.send('sendMessage', { id: 'after', to: 'x', body: 'y' });
    const f = c.frames.length;
    await eventually(() => c.frames.slice(f).some((x) => x.message === 'notifyMessage'), 2000, 'the session to answer');
    await c.close();
  });

  it('a client that keeps flooding is closed (1008) after repeated refusals', async () => {
    const c = await connect();
    for (let i = 0; i < 60; i++) c.send('notificationResult', { id: `n${i}` });
    const closed = await c.closed;
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, 'too many refused frames');
    await eventually(() => disconnectedInfo(c) !== undefined, 5000, 'DISCONNECTED');
    assert.equal(disconnectedInfo(c), 'Too many refused frames');
  });

  it('more sessions from one IP than wsSessionsPerIp: fail (ConnectionStatusEvent) and closed', async () => {
    const open = [await connect(), await connect(), await connect()];
    const extra = await TestClient.open(ts.wsUrl);
    const closed = await extra.closed;
    assert.equal(closed.code, 1008);
    assert.deepEqual(extra.frames.map((f) => [f.message, f.data]), [
      ['fail', [{ status: 'FAILED', info: 'too many sessions from 127.0.0.1 (the limit is 3)', apiMethod: 'ConnectionStatusEvent' }]],
    ]);
    await open[0]!.close();
    await eventually(async () => {
      const again = await TestClient.open(ts.wsUrl);
      again.send('connection', { appKey: APP });
      const f = await again.next();
      open.push(again);
      return f.message === 'getUserData';
    }, 2000, 'a free slot after one closed');
    for (const c of open) await c.close();
  });

  it('serves the web phone page at / on the WebSocket port', async () => {
    const base = `http://127.0.0.1:${ts.server.wsPort}`;
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await page.text(), /<h1>callhook web phone<\/h1>/);
    assert.equal((await fetch(`${base}/nothing-here`)).status, 404);
    assert.equal((await fetch(`${base}/`, { method: 'POST' })).status, 405);
  });
});

describe('wss with a configured certificate', () => {
  let dir: string;
  let ts: TestServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callhook-tls-'));
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    ts = await startTestServer({ wssPort: 0, tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') });
  });
  after(async () => {
    await ts?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('speaks the same protocol over wss, and serves the page over https', async () => {
    const port = ts.server.wssPort;
    assert.ok(port !== undefined && port > 0);
    const c = await TestClient.open(`wss://127.0.0.1:${port}/any/path`, { rejectUnauthorized: false });
    c.send('connection', {});
    const user = await c.expect('getUserData');
    assert.equal(user['sessionId'], `/127.0.0.1:${c.localPort}/127.0.0.1:${port}`);
    await c.close();
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/', rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(status, 200);
  });
});
