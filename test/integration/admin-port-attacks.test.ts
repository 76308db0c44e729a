/**
 * Attacks on the admin port (issue 10, items 1 and 5) against `callhook start` in a child process, the port at its
 * default binding (127.0.0.1): what a page in a local browser, or any local process, can send without the token.
 * Each gets an answer naming what was wrong or is cut off by a limit, and the process keeps serving /healthz.
 * The limits are set short here so the test waits seconds, not the defaults' tens of seconds.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { eventually } from '../support/ws-client.ts';

const HEADERS_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 4_000;
const IDLE_TIMEOUT_MS = 1_000;
const MAX_CONNECTIONS = 4;
/** Node looks for expired connections once a second (src/admin/server.ts); the rest is for a loaded machine. */
const SLACK_MS = 1_000 + 3_000;

interface Reply {
  status: number;
  text: string;
}

let server: CallhookProcess;

function call(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.adminPort, method, path, agent: false, headers: body === undefined ? headers : { 'Content-Length': String(Buffer.byteLength(body)), ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A raw TCP connection to the admin port: what the server wrote on it, and when it closed it. */
interface RawConnection {
  socket: Socket;
  readonly text: string;
  closed: Promise<number>;
}

async function rawConnection(): Promise<RawConnection> {
  const socket = connect(server.adminPort, '127.0.0.1');
  socket.on('error', () => undefined); // a reset is a close, which `closed` reports
  const conn = { socket, text: '', closed: new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now()))) };
  socket.on('data', (d: Buffer) => (conn.text += d.toString('latin1')));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return conn;
}

/** Writes `text` one byte every `everyMs` until the socket closes. */
function trickle(socket: Socket, text: string, everyMs: number): void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) clearInterval(timer);
    else socket.write(text[i++]!);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

async function assertClosedWithin(conn: RawConnection, from: number, minMs: number, maxMs: number): Promise<number> {
  const at = await Promise.race([conn.closed, new Promise<undefined>((r) => setTimeout(r, maxMs + 1_000))]);
  if (at === undefined) {
    conn.socket.destroy();
    assert.fail(`the server did not close the connection within ${maxMs} ms`);
  }
  const elapsed = at - from;
  assert.ok(elapsed >= minMs && elapsed <= maxMs, `closed after ${elapsed} ms, expected ${minMs}–${maxMs} ms`);
  return elapsed;
}

async function assertHealthy(): Promise<void> {
  assert.equal(server.process.status, undefined, `callhook is running:\n${server.process.tail(20)}`);
  const health = await call('GET', '/healthz');
  assert.equal(health.status, 200, health.text);
}

before(async () => {
  server = await startCallhookProcess({
    adminHeadersTimeoutMs: HEADERS_TIMEOUT_MS,
    adminRequestTimeoutMs: REQUEST_TIMEOUT_MS,
    adminIdleTimeoutMs: IDLE_TIMEOUT_MS,
    adminMaxConnections: MAX_CONNECTIONS,
  });
});

after(async () => {
  await server?.stop();
});

describe('deep JSON sent to EchoApp without a token (item 1)', () => {
  // An object holding 100,000 nested arrays: V8 parses it, and walking it (the echo's JSON.stringify) overflowed
  // the stack outside any try/catch, which ended the process.
  const attack = `{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;

  test('as a text/plain body (a simple CORS POST a page can send) it is 415, and the process stays up', async () => {
    const r = await call('POST', '/apps/EchoApp/connect', attack, { 'Content-Type': 'text/plain' });
    assert.equal(r.status, 415, r.text);
    assert.match(r.text, /Content-Type must be application\/json/);
    await assertHealthy();
  });

  test('as application/json it is 400 naming the depth limit, and the process stays up', async () => {
    const r = await call('POST', '/apps/EchoApp/connect', attack, { 'Content-Type': 'application/json' });
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(JSON.parse(r.text), { error: "request body nests JSON deeper than 32 levels, the admin API's limit" });
    await assertHealthy();
  });
});

describe('connections that hold the port (item 5)', () => {
  test('a connection that never sends a byte is answered 408 and closed after adminHeadersTimeoutMs', async () => {
    const conn = await rawConnection();
    await assertClosedWithin(conn, Date.now(), HEADERS_TIMEOUT_MS - 100, HEADERS_TIMEOUT_MS + SLACK_MS);
    assert.match(conn.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  test('headers trickled a byte at a time are cut off at adminHeadersTimeoutMs', async () => {
    const conn = await rawConnection();
    const start = Date.now();
    trickle(conn.socket, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`, 100);
    await assertClosedWithin(conn, start, HEADERS_TIMEOUT_MS - 100, HEADERS_TIMEOUT_MS + SLACK_MS);
    assert.match(conn.text, /^HTTP\/1\.1 408 /);
  });

  test('a body trickled a byte at a time is cut off at adminRequestTimeoutMs', async () => {
    const conn = await rawConnection();
    const start = Date.now();
    const body = `{"x":"${'a'.repeat(200)}"}`;
    conn.socket.write(`POST /apps/EchoApp/connect HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    trickle(conn.socket, body, 100);
    await assertClosedWithin(conn, start, REQUEST_TIMEOUT_MS - 100, REQUEST_TIMEOUT_MS + SLACK_MS);
    assert.match(conn.text, /^HTTP\/1\.1 408 /);
  });

  test('a kept-alive connection with no new request is closed after adminIdleTimeoutMs', async () => {
    const conn = await rawConnection();
    conn.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await eventually(() => conn.text.includes('"status":"ok"'), 10_000, 'the /healthz answer');
    const answered = Date.now();
    assert.match(conn.text, /\r\nKeep-Alive: timeout=1\r\n/);
    await assertClosedWithin(conn, answered, IDLE_TIMEOUT_MS - 100, IDLE_TIMEOUT_MS + SLACK_MS);
  });

  test('past adminMaxConnections new connections are closed at once, logged once; /healthz answers when the holders are cut off', async () => {
    const holders = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => rawConnection()));
    const heldFrom = Date.now();
    // The server accepts a connection a moment after the client sees it open: wait until one more is refused.
    let refused = 0;
    await eventually(
      async () => {
        const r = await call('GET', '/healthz').catch((e: NodeJS.ErrnoException) => e);
        if (r instanceof Error) {
          assert.match(r.code ?? '', /^(ECONNRESET|EPIPE)$/, r.message);
          refused++;
        }
        return refused >= 3;
      },
      HEADERS_TIMEOUT_MS - 1_000,
      'three connections past the cap to be refused',
    );
    // The holders are silent: the headers timeout frees the port for everyone else.
    for (const h of holders) await assertClosedWithin(h, heldFrom, HEADERS_TIMEOUT_MS - 600, HEADERS_TIMEOUT_MS + SLACK_MS);
    await assertHealthy();
    const lines = server.process.log.split('\n').filter((l) => l.includes('adminMaxConnections reached'));
    assert.equal(lines.length, 1, `one log line for ${refused} refused connections:\n${lines.join('\n')}`);
  });
});
