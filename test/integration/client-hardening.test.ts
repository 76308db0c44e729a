/**
 * Attacks on the client WebSocket port (issue 10), each run against `callhook start` in a child process, which
 * must survive them all: deeply nested JSON, clients that never read, connections that never speak or only trickle,
 * pages from other origins, a flood from one address, and floods of refused frames that must not flood the log.
 * Clients come from two loopback addresses (127.0.0.1 and 127.0.0.2) where a limit is per IP.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { launchChromium } from '../support/browser.ts';
import { freePort } from '../support/ports.ts';
import { eventually, startServerProcess, TestClient, type ServerProcess } from '../support/ws-client.ts';

/** A second loopback address: Linux routes all of 127.0.0.0/8 to lo, so a client can bind it as its source. */
const OTHER_IP = '127.0.0.2';

/** JSON text nesting `depth` arrays: well under the 64 KiB frame limit, far past what recursive walkers survive. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/**
 * An app with no hook enabled: the server's work per client message is then its own alone, so a test on a loaded
 * machine measures the client port rather than a backend.
 */
const NO_HOOKS = 'noHooks';

async function connected(sp: ServerProcess, options: { localAddress?: string; appKey?: string } = {}): Promise<TestClient> {
  const c = await TestClient.open(sp.wsUrl, options.localAddress === undefined ? {} : { localAddress: options.localAddress });
  c.send('connection', { appKey: options.appKey ?? 'defaultApp' });
  await c.expect('getUserData');
  return c;
}

/** Live sessions as the admin API lists them. */
async function sessionCount(sp: ServerProcess): Promise<number> {
  const res = await fetch(`${sp.adminUrl}/api/sessions`, { headers: { Authorization: `Bearer ${sp.adminToken}` } });
  return ((await res.json()) as unknown[]).length;
}

const logged = (sp: ServerProcess, msg: string | RegExp) =>
  sp.logs().filter((l) => (typeof msg === 'string' ? l['msg'] === msg : msg.test(String(l['msg']))));

describe('deeply nested JSON from a client', () => {
  let sp: ServerProcess;
  before(async () => {
    sp = await startServerProcess();
  });
  after(async () => {
    await sp?.stop();
  });

  it('as the connection: fail naming the depth limit, then the close; the server stays up', async () => {
    const c = await TestClient.open(sp.wsUrl);
    c.sendRaw(`{"message":"connection","data":[{"appKey":"defaultApp","custom":${nested(20_000)}}]}`);
    const closed = await c.closed;
    assert.deepEqual(c.frames.map((f) => f.data), [[{ status: 'FAILED', info: 'frame nests JSON deeper than the limit of 32 levels', apiMethod: 'unknown' }]]);
    assert.equal(closed.code, 1008);
    assert.equal(sp.status, undefined, 'still running');
    await (await connected(sp)).close();
  });

  it('in an established session: fail naming the depth limit, and the session goes on', async () => {
    const c = await connected(sp);
    c.sendRaw(`{"message":"sendMessage","data":[{"id":"m1","to":"bob","body":"x","custom":${nested(20_000)}}]}`);
    assert.deepEqual(await c.expect('fail'), { status: 'FAILED', info: 'frame nests JSON deeper than the limit of 32 levels', apiMethod: 'unknown' });
    c.send('sendMessage', { id: 'm2', to: 'bob', body: 'after' });
    const answer = await c.expect('notifyMessage');
    assert.equal(answer['id'], 'm2');
    assert.ok(c.isOpen);
    await c.close();
    assert.equal(sp.status, undefined, 'still running');
  });
});

describe('clients that never read what they are sent', () => {
  let sp: ServerProcess;
  before(async () => {
    sp = await startServerProcess(); // the default send queue bounds
    await sp.addApp(NO_HOOKS, 'http://127.0.0.1:9/', []);
  });
  after(async () => {
    await sp?.stop();
  });

  it('are closed once their send queue is full, each with one log line; their sessions end; memory stays bounded', async () => {
    const CLIENTS = 5;
    const BODY = 'x'.repeat(60_000); // every sendMessage comes back as a notifyMessage of the same size
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => connected(sp, { appKey: NO_HOOKS })));
    const rssBefore = sp.rssBytes();
    for (const c of clients) c.ws.pause(); // stop reading: what the server sends piles up
    let sent = 0;
    const flood = setInterval(() => {
      for (const c of clients) if (c.ws.readyState === WebSocket.OPEN) c.send('sendMessage', { id: `m${sent++}`, to: 'bob', body: BODY });
    }, 25); // 40 frames a second per client, under wsMessagesPerSecond
    let rssPeak = rssBefore;
    try {
      await eventually(async () => {
        rssPeak = Math.max(rssPeak, sp.rssBytes());
        return (await sessionCount(sp)) === 0;
      }, 30_000, 'every flooding session to end');
    } finally {
      clearInterval(flood);
    }
    assert.equal(logged(sp, 'closing a client that does not read what it is sent (send queue full)').length, CLIENTS);
    // Without the bound the heap grew by ~85 MB and RSS by ~160 MB, and went on growing while the clients stayed.
    assert.ok(rssPeak - rssBefore < 100 * 1024 * 1024, `RSS grew by ${Math.round((rssPeak - rssBefore) / 1048576)} MB`);
    for (const c of clients) c.ws.terminate();
    await (await connected(sp)).close();
    assert.equal(sp.status, undefined, 'still running');
  });

  it('a client that reads again in time sees the close: 1013 "send queue full"', async () => {
    const c = await connected(sp, { appKey: NO_HOOKS });
    const before = logged(sp, 'closing a client that does not read what it is sent (send queue full)').length;
    c.ws.pause();
    let sent = 0;
    const flood = setInterval(() => c.send('sendMessage', { id: `r${sent++}`, to: 'bob', body: 'y'.repeat(60_000) }), 25);
    try {
      await eventually(() => logged(sp, 'closing a client that does not read what it is sent (send queue full)').length > before, 30_000, 'the send queue to fill');
    } finally {
      clearInterval(flood);
    }
    c.ws.resume();
    const closed = await c.closed;
    assert.deepEqual(closed, { code: 1013, reason: 'send queue full' });
  });
});
