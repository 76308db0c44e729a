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
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { eventually } from '../support/eventually.ts';
import { TestClient } from '../support/ws-client.ts';

/** A second loopback address: Linux routes all of 127.0.0.0/8 to lo, so a client can bind it as its source. */
const OTHER_IP = '127.0.0.2';

/** JSON text nesting `depth` arrays: well under the 64 KiB frame limit, far past what recursive walkers survive. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/**
 * An app with no hook enabled: the server's work per client message is then its own alone, so a test on a loaded
 * machine measures the client port rather than a backend.
 */
const NO_HOOKS = 'noHooks';

async function connected(sp: CallhookProcess, options: { localAddress?: string; appKey?: string } = {}): Promise<TestClient> {
  const c = await TestClient.open(sp.wsUrl, options.localAddress === undefined ? {} : { localAddress: options.localAddress });
  c.send('connection', { appKey: options.appKey ?? 'defaultApp' });
  await c.expect('getUserData');
  return c;
}

/** Live sessions as the admin API lists them. */
async function sessionCount(sp: CallhookProcess): Promise<number> {
  const res = await fetch(`${sp.adminUrl}/api/sessions`, { headers: { Authorization: `Bearer ${sp.adminToken}` } });
  return ((await res.json()) as unknown[]).length;
}

const logged = (sp: CallhookProcess, msg: string | RegExp) =>
  sp.logs().filter((l) => (typeof msg === 'string' ? l['msg'] === msg : msg.test(String(l['msg']))));

describe('deeply nested JSON from a client', () => {
  let sp: CallhookProcess;
  before(async () => {
    sp = await startCallhookProcess();
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
  let sp: CallhookProcess;
  before(async () => {
    sp = await startCallhookProcess(); // the default send queue bounds
    await sp.addApp(NO_HOOKS, 'http://127.0.0.1:9/', []);
  });
  after(async () => {
    await sp?.stop();
  });

  it('are closed once their send queue is full, each with one log line; their sessions end; memory stays bounded', async (t) => {
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
    t.diagnostic(`RSS ${Math.round(rssBefore / 1048576)} MB before the flood, at most ${Math.round(rssPeak / 1048576)} MB during it`);
    const queueFull = 'closing a client that does not read what it is sent (send queue full)';
    await eventually(() => logged(sp, queueFull).length >= CLIENTS, 5000, `${CLIENTS} log lines "${queueFull}"`);
    assert.equal(logged(sp, queueFull).length, CLIENTS);
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

/** Opens a TCP connection to `port` and resolves with how long the server took to close it (ms). */
function tcpLifetime(port: number, start: (socket: Socket) => void = () => undefined, tls = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const opened = Date.now();
    const socket = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : tcpConnect(port, '127.0.0.1');
    socket.on('error', () => undefined); // a reset is a close too
    socket.on('data', () => undefined);
    socket.on('close', () => resolve(Date.now() - opened));
    socket.once('connect', () => start(socket));
    setTimeout(() => {
      socket.destroy();
      reject(new Error('the server kept the connection open for 10 s'));
    }, 10_000).unref();
  });
}

/** Opening fails: the server closed the TCP connection at once. */
async function refused(url: string, localAddress: string): Promise<void> {
  await assert.rejects(TestClient.open(url, { localAddress }), /socket hang up|ECONNRESET|closed before the connection/);
}

describe('connections that never upgrade, and too many connections', () => {
  const HANDSHAKE_MS = 1500;
  const IDLE_MS = 800;
  let sp: CallhookProcess;
  let certDir: string;
  before(async () => {
    certDir = await mkdtemp(join(tmpdir(), 'callhook-tls-'));
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'),
    ]);
    sp = await startCallhookProcess({
      wssPort: await freePort('tcp'),
      tlsCert: join(certDir, 'cert.pem'),
      tlsKey: join(certDir, 'key.pem'),
      wsHandshakeTimeoutMs: HANDSHAKE_MS,
      wsIdleTimeoutMs: IDLE_MS,
      wsMaxConnections: 6,
      wsConnectionsPerIp: 4,
    });
  });
  after(async () => {
    await sp?.stop();
    await rm(certDir, { recursive: true, force: true });
  });
  it('a connection that sends nothing is closed after wsIdleTimeoutMs', async () => {
    const lived = await tcpLifetime(sp.wsPort);
    assert.ok(lived >= IDLE_MS - 100 && lived < IDLE_MS + 1500, `closed after ${lived} ms`);
  });

  it('a request head trickled a byte at a time is closed after wsHandshakeTimeoutMs', async () => {
    let timer: NodeJS.Timeout | undefined;
    const head = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nX-Slow: ' + 'a'.repeat(200);
    const lived = await tcpLifetime(sp.wsPort, (socket) => {
      let i = 0;
      timer = setInterval(() => socket.write(head[i++ % head.length]!), IDLE_MS / 4); // never idle for long
    });
    clearInterval(timer);
    assert.ok(lived >= HANDSHAKE_MS - 100 && lived < HANDSHAKE_MS + 2000, `closed after ${lived} ms`);
  });

  it('a keep-alive connection left idle after a page request is closed after wsIdleTimeoutMs', async () => {
    const lived = await tcpLifetime(sp.wsPort, (socket) => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.ok(lived < IDLE_MS + 1500, `closed after ${lived} ms`);
  });

  it('on the wss port, a connection that never completes TLS is closed after wsHandshakeTimeoutMs', async () => {
    const lived = await tcpLifetime(sp.wssPort!);
    assert.ok(lived < HANDSHAKE_MS + 1500, `closed after ${lived} ms`);
  });

  it('past wsConnectionsPerIp and wsMaxConnections new connections are closed at once; others are not affected', async () => {
    const fromFirst = await Promise.all(Array.from({ length: 4 }, () => connected(sp)));
    await refused(sp.wsUrl, '127.0.0.1'); // this address has its 4
    const fromOther = [await connected(sp, { localAddress: OTHER_IP }), await connected(sp, { localAddress: OTHER_IP })];
    await refused(sp.wsUrl, OTHER_IP); // 6 in all
    await fromFirst.pop()!.close();
    await eventually(async () => {
      try {
        fromOther.push(await connected(sp, { localAddress: OTHER_IP }));
        return true;
      } catch {
        return false;
      }
    }, 5000, 'a free slot after one closed');
    assert.equal(sp.status, undefined, 'still running');
    // Each refusal is logged once; the line crosses the child's stdout pipe after the socket is already closed.
    for (const refusal of ['4 connections open from 127.0.0.1 (wsConnectionsPerIp)', '6 connections open (wsMaxConnections)']) {
      const msg = `refusing TCP connections: ${refusal}`;
      await eventually(() => logged(sp, msg).length > 0, 5000, `the log line "${msg}"`);
      assert.equal(logged(sp, msg).length, 1, msg);
    }
    for (const c of [...fromFirst, ...fromOther]) await c.close();
  });
});

describe('allowedOrigins', () => {
  let sp: CallhookProcess;
  let port: number;
  before(async () => {
    port = await freePort('tcp');
    sp = await startCallhookProcess({ wsPort: port, allowedOrigins: `http://127.0.0.1:${port}` });
  });
  after(async () => {
    await sp?.stop();
  });

  it('a page of an allowed origin opens a WebSocket; a page of another origin is refused (Chromium)', async () => {
    const browser = await launchChromium();
    try {
      const openFrom = async (origin: string): Promise<string> => {
        const page = await browser.newPage();
        await page.goto(`${origin}/`); // callhook's own web phone page, served on the WebSocket port
        return page.evaluate(
          (url) =>
            new Promise<string>((resolve) => {
              const ws = new WebSocket(url);
              ws.onopen = () => resolve('open');
              ws.onerror = () => resolve('refused');
            }),
          sp.wsUrl,
        );
      };
      assert.equal(await openFrom(`http://127.0.0.1:${port}`), 'open');
      assert.equal(await openFrom(`http://localhost:${port}`), 'refused');
    } finally {
      await browser.close();
    }
  });

  it('the refusal is 403 naming the origin; a client without Origin (not a browser) is not refused', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const ws = new WebSocket(sp.wsUrl, { origin: 'https://evil.example' });
      ws.on('open', () => reject(new Error('opened')));
      ws.on('error', () => undefined);
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
    });
    assert.deepEqual(answer, { status: 403, body: 'origin https://evil.example is not allowed (allowedOrigins)\n' });
    await (await connected(sp)).close();
  });
});

describe('a flood of client actions from one address', () => {
  let sp: CallhookProcess;
  before(async () => {
    sp = await startCallhookProcess({ wsMessagesPerSecondPerIp: 20 });
    await sp.addApp(NO_HOOKS, 'http://127.0.0.1:9/', []);
  });
  after(async () => {
    await sp?.stop();
  });

  it('past wsMessagesPerSecondPerIp across its connections: fail naming the limit; connections stay; others and new connections go on', async () => {
    const flooders = await Promise.all(Array.from({ length: 3 }, () => connected(sp, { appKey: NO_HOOKS })));
    const other = await connected(sp, { localAddress: OTHER_IP, appKey: NO_HOOKS });
    await new Promise((r) => setTimeout(r, 1100)); // full buckets
    for (const c of flooders) for (let i = 0; i < 15; i++) c.send('sendMessage', { id: `f${i}`, to: 'bob', body: 'x' });
    for (let i = 0; i < 15; i++) other.send('sendMessage', { id: `o${i}`, to: 'bob', body: 'x' });
    const answers = (c: TestClient) => c.frames.filter((f) => f.message === 'notifyMessage' || f.message === 'fail');
    await eventually(() => flooders.every((c) => answers(c).length === 15) && answers(other).length === 15, 10_000, 'an answer to every message');
    const refusals = flooders.flatMap((c) => c.frames.filter((f) => f.message === 'fail').map((f) => f.data[0] as Record<string, unknown>));
    assert.ok(refusals.length >= 45 - 20 - 2 && refusals.length <= 45 - 20, `${refusals.length} of 45 refused`); // a token or two may refill
    // Refused before it is read, as the per-connection rate is: the cheaper a refusal, the less a flood costs.
    assert.deepEqual(refusals[0], { status: 'FAILED', info: 'more than 20 messages per second from 127.0.0.1: frame dropped', apiMethod: 'unknown' });
    assert.equal(other.frames.filter((f) => f.message === 'fail').length, 0, 'another address has its own budget');
    assert.ok(flooders.every((c) => c.isOpen), 'a shared budget does not close anyone');
    const newcomer = await connected(sp); // connection is never held to the budget
    for (const c of [...flooders, other, newcomer]) await c.close();
  });
});

describe('floods of refused frames in the log', () => {
  let sp: CallhookProcess;
  before(async () => {
    sp = await startCallhookProcess({ wsMessagesPerSecond: 1_000_000, wsMessagesPerSecondPerIp: 10 });
  });
  after(async () => {
    await sp?.stop();
  });
  const clientApiLines = () => sp.logs().filter((l) => l['component'] === 'client-api');

  it('20,000 frames over the per-IP rate on one connection: one line, then one with the count when it closes', async () => {
    const c = await connected(sp);
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < 20_000; i++) c.sendRaw('{"message":"hangup","data":[{"callId":"nope"}]}');
    await eventually(() => c.frames.filter((f) => f.message === 'fail').length === 20_000, 30_000, 'a fail for every frame');
    assert.ok(c.isOpen);
    await c.close();
    await eventually(() => clientApiLines().length >= 2, 5000, 'the count to be logged');
    const lines = clientApiLines();
    assert.equal(lines.length, 2, lines.map((l) => JSON.stringify(l)).join('\n'));
    assert.equal(lines[0]!['msg'], 'refusing client frames');
    assert.equal(lines[1]!['msg'], `refusing client frames (repeated ${lines[1]!['repeated']} more times)`);
    assert.ok(Number(lines[1]!['repeated']) >= 20_000 - 10 - 10 - 1 - 100, `repeated ${lines[1]!['repeated']}`);
  });
});

describe('floods of refused frames that close the connection', () => {
  let sp: CallhookProcess;
  before(async () => {
    sp = await startCallhookProcess(); // the default wsMessagesPerSecond
  });
  after(async () => {
    await sp?.stop();
  });

  it('20,000 frames over the connection rate: closed 1008, and a handful of log lines (not one per frame)', async () => {
    const c = await connected(sp);
    for (let i = 0; i < 20_000; i++) c.sendRaw('{"message":"hangup","data":[{"callId":"nope"}]}');
    assert.equal((await c.closed).code, 1008);
    await new Promise((r) => setTimeout(r, 1000)); // whatever the server still reads of the flood
    const lines = sp.logs().filter((l) => l['component'] === 'client-api');
    assert.ok(lines.length <= 4, lines.map((l) => JSON.stringify(l)).join('\n'));
    assert.equal(lines.filter((l) => l['msg'] === 'closing a client that keeps sending refused frames').length, 1);
  });
});
