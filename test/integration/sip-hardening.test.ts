/**
 * Attacks on callhook's SIP side (issue 10), each run against the real server process (`callhook start`):
 *
 * - header injection through a call's `inviteParameters` (compact header names, core headers in another case,
 *   control characters): refused with `fail` naming the header, and no INVITE a raw UDP UAS receives ever carries a
 *   second Contact, Call-ID, From, To or Content-Type, nor a control character;
 * - TCP connections to the SIP port that send nothing, only keep-alives, or trickle a request, and connections
 *   beyond the cap: closed (sipTcpMessageTimeoutMs, sipTcpIdleTimeoutMs, sipTcpMaxConnections), logged once;
 * - requests to a registration's Contact from elsewhere than its registrar (sipTrustedSources `registrar`): 403,
 *   while Kamailio's are taken.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createResponse } from '../../src/sip/message/builders.ts';
import { canonicalHeaderName } from '../../src/sip/message/header-names.ts';
import type { SipRequest } from '../../src/sip/message/message.ts';
import { parseMessage } from '../../src/sip/message/parse.ts';
import { serializeMessage } from '../../src/sip/message/serialize.ts';
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { LOOPBACK } from '../support/ports.ts';
import { WebRtcClient } from '../support/webrtc-client.ts';
import { eventually, TestClient } from '../support/ws-client.ts';

/** Media ports of these tests' server, apart from the ranges other test files use. */
const MEDIA_PORTS = {
  rtpPortMin: 41000, rtpPortMax: 41999, webrtcPortMin: 42000, webrtcPortMax: 42999,
};

/** A SIP UAS on a raw UDP socket: keeps every INVITE as received and answers it 486 Busy Here. */
class RawUas {
  readonly invites: string[] = [];

  private constructor(private readonly socket: UdpSocket) {
    socket.on('message', (data, from) => {
      const text = data.toString('latin1');
      if (!text.startsWith('INVITE ')) return; // the ACK of our 486
      this.invites.push(text);
      let request: SipRequest;
      try {
        request = parseMessage(data) as SipRequest;
      } catch {
        return; // an INVITE our own parser refuses (two Call-IDs, say): kept above for the test to see, not answered
      }
      socket.send(serializeMessage(createResponse(request, 486)), from.port, from.address);
    });
  }

  static async start(): Promise<RawUas> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
    return new RawUas(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): void {
    this.socket.close();
  }
}

/** The header section of a message: [name as written, value] per line (no folding in what callhook writes). */
function headerLines(message: string): [string, string][] {
  const head = message.slice(0, message.indexOf('\r\n\r\n'));
  return head.split('\r\n').slice(1).map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
  });
}

describe('header injection through inviteParameters (real server process, raw UDP UAS)', { timeout: 120_000 }, () => {
  let server: CallhookProcess;
  let uas: RawUas;
  let client: WebRtcClient;

  /** What an attacker puts in inviteParameters, and what the `fail` for it says. */
  const ATTACKS: [Record<string, string>, string][] = [
    [{ m: '<sip:evil@192.0.2.66>' }, 'header name "m" is the compact form of Contact (RFC 3261 §7.3.3)'],
    [{ i: 'smuggled@192.0.2.66' }, 'header name "i" is the compact form of Call-ID (RFC 3261 §7.3.3)'],
    [{ f: '<sip:boss@example.com>;tag=1' }, 'header name "f" is the compact form of From (RFC 3261 §7.3.3)'],
    [{ T: '<sip:victim@example.com>' }, 'header name "T" is the compact form of To (RFC 3261 §7.3.3)'],
    [{ c: 'text/plain' }, 'header name "c" is the compact form of Content-Type (RFC 3261 §7.3.3)'],
    [{ 'X-Ok': 'fine', CONTACT: '<sip:evil@192.0.2.66>' }, 'header "CONTACT" is written by the SIP stack itself'],
    [{ 'call-id': 'smuggled@192.0.2.66' }, 'header "call-id" is written by the SIP stack itself'],
    [{ 'X-Info': 'a\u000bb' }, 'the value of header "X-Info" has a control character (U+000B at 1)'],
    [{ 'X-Bell': '\u0007ring' }, 'the value of header "X-Bell" has a control character (U+0007 at 0)'],
    [{ 'X-Evil:Contact': 'x' }, 'header name "X-Evil:Contact" is not an RFC 3261 token (\':\' at 6)'],
  ];

  before(async () => {
    server = await startCallhookProcess(MEDIA_PORTS);
    uas = await RawUas.start();
    client = await WebRtcClient.connect(server.wsUrl, { sipLogin: 'alice', sipDomain: LOOPBACK, sipPort: uas.port, sipRegisterRequired: false });
  });
  after(async () => {
    await client?.close();
    uas?.close();
    await server?.stop();
  });

  it('refuses compact forms, core headers in any case, non-token names and control characters: fail naming the header, FAILED, no INVITE', async () => {
    for (const [inviteParameters, what] of ATTACKS) {
      const call = await client.call('bob', { inviteParameters });
      const info = `inviteParameters: ${what}`;
      assert.deepEqual(await call.waitFrame('fail'), { callId: call.callId, status: 'FAILED', info, apiMethod: 'call' });
      const end = await call.waitEnd();
      assert.equal(end['status'], 'FAILED');
      assert.equal(end['info'], info);
    }
    assert.deepEqual(uas.invites, [], 'no INVITE went out');
    assert.equal(server.process.status, undefined, 'still running');
  });

  it('whatever the client sends, every INVITE has one Contact, Call-ID, From, To and Content-Type, and no control character', async () => {
    const before = uas.invites.length;
    const valid = { 'X-Tag': 'a\tb', 'P-Note': 'Jürgen ✓' };
    for (const [inviteParameters] of [...ATTACKS, [valid]] as const) {
      const call = await client.call('bob', { inviteParameters });
      await call.waitEnd();
    }
    const invites = uas.invites.slice(before);
    assert.equal(invites.length, 1, 'only the call with valid inviteParameters made an INVITE');
    for (const invite of invites) {
      const lines = headerLines(invite);
      for (const name of ['Contact', 'Call-ID', 'From', 'To', 'Content-Type']) {
        assert.equal(lines.filter(([n]) => canonicalHeaderName(n) === name).length, 1, `one ${name} in\n${invite}`);
      }
      const head = invite.slice(0, invite.indexOf('\r\n\r\n')).replace(/\r\n/g, '');
      assert.doesNotMatch(head, /[\u0000-\u0008\u000a-\u001f\u007f]/, 'no control character but HTAB');
      assert.deepEqual(lines.filter(([n]) => n === 'X-Tag' || n === 'P-Note'), [['X-Tag', 'a\tb'], ['P-Note', Buffer.from('Jürgen ✓').toString('latin1')]]);
    }
  });
});

/** A raw TCP connection to the SIP port: what it read, and when the server closed it. */
interface RawTcp {
  socket: Socket;
  text(): string;
  /** ms from connect to close, once closed. */
  closedAfter: number | undefined;
  closed: Promise<void>;
}

async function rawTcp(port: number): Promise<RawTcp> {
  const socket = connect({ host: LOOPBACK, port });
  let data = '';
  socket.on('data', (c: Buffer) => (data += c.toString('utf8')));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const opened = Date.now();
  const conn: RawTcp = {
    socket,
    text: () => data,
    closedAfter: undefined,
    closed: new Promise<void>((resolve) =>
      socket.once('close', () => {
        conn.closedAfter = Date.now() - opened;
        resolve();
      }),
    ),
  };
  return conn;
}

function options(port: number, branch: string): string {
  return [
    `OPTIONS sip:callhook@${LOOPBACK}:${port} SIP/2.0`,
    `Via: SIP/2.0/TCP ${LOOPBACK}:9;branch=z9hG4bK${branch}`,
    'Max-Forwards: 70',
    `To: <sip:callhook@${LOOPBACK}:${port}>`,
    `From: <sip:probe@${LOOPBACK}>;tag=${branch}`,
    `Call-ID: ${branch}@${LOOPBACK}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Writes `chunk` every `everyMs` until the connection closes or `stop()` is called. */
function keepWriting(conn: RawTcp, chunks: () => string | undefined, everyMs: number): { stop(): void } {
  const timer = setInterval(() => {
    const chunk = chunks();
    if (chunk === undefined || conn.socket.destroyed) return clearInterval(timer);
    conn.socket.write(chunk);
  }, everyMs);
  return { stop: () => clearInterval(timer) };
}

describe('idle, silent and trickling TCP connections to the SIP port (real server process)', { timeout: 120_000 }, () => {
  const MESSAGE_TIMEOUT_MS = 1000;
  const IDLE_TIMEOUT_MS = 2500;
  const MAX_CONNECTIONS = 20;
  let server: CallhookProcess;

  before(async () => {
    server = await startCallhookProcess({
      ...MEDIA_PORTS,
      sipTcpMessageTimeoutMs: MESSAGE_TIMEOUT_MS,
      sipTcpIdleTimeoutMs: IDLE_TIMEOUT_MS,
      sipTcpMaxConnections: MAX_CONNECTIONS,
    });
  });
  after(async () => {
    await server?.stop();
  });

  it('a connection that sends nothing is closed after sipTcpMessageTimeoutMs', async () => {
    const silent = await rawTcp(server.sipPort);
    await Promise.race([silent.closed, sleep(MESSAGE_TIMEOUT_MS * 5)]);
    silent.socket.destroy();
    assert.ok(silent.closedAfter !== undefined, `still open after ${MESSAGE_TIMEOUT_MS * 5} ms`);
    assert.ok(silent.closedAfter >= MESSAGE_TIMEOUT_MS * 0.9, `closed after ${silent.closedAfter} ms, before the timeout`);
  });

  it('keep-alives alone, or a request trickling in byte by byte, do not keep a connection: both closed after the message timeout', async () => {
    const pinger = await rawTcp(server.sipPort);
    const trickler = await rawTcp(server.sipPort);
    const request = options(server.sipPort, 'trickle');
    let sent = 0;
    const pings = keepWriting(pinger, () => '\r\n\r\n', 100);
    const bytes = keepWriting(trickler, () => (sent < request.length ? request[sent++] : undefined), 50);
    try {
      await Promise.race([Promise.all([pinger.closed, trickler.closed]), sleep(MESSAGE_TIMEOUT_MS * 5)]);
    } finally {
      pings.stop();
      bytes.stop();
      pinger.socket.destroy();
      trickler.socket.destroy();
    }
    assert.ok(pinger.closedAfter !== undefined && trickler.closedAfter !== undefined, `pinger closed after ${pinger.closedAfter} ms, trickler after ${trickler.closedAfter} ms`);
    assert.match(pinger.text(), /^(\r\n)+$/, 'the pings were answered with pongs meanwhile (RFC 5626 §3.5.1)');
    assert.ok(sent < request.length, `the request was not complete when the connection closed (${sent}/${request.length} bytes)`);
    assert.ok(trickler.closedAfter >= MESSAGE_TIMEOUT_MS * 0.9 && pinger.closedAfter >= MESSAGE_TIMEOUT_MS * 0.9, 'not before the timeout');
  });

  it('a connection that brought a request stays while it has traffic, then closes after sipTcpIdleTimeoutMs without any', async () => {
    const peer = await rawTcp(server.sipPort);
    try {
      peer.socket.write(options(server.sipPort, 'idle1'));
      await eventually(() => /^SIP\/2\.0 200 OK\r\n/.test(peer.text()), 5000, 'the 200 to OPTIONS');
      // Keep-alives for longer than the idle timeout: the connection stays (RFC 5626 keeps flows this way).
      const pings = keepWriting(peer, () => '\r\n\r\n', 500);
      await sleep(IDLE_TIMEOUT_MS * 1.6);
      pings.stop();
      assert.equal(peer.closedAfter, undefined, 'open while keep-alives flow');
      const quietFrom = Date.now();
      await Promise.race([peer.closed, sleep(IDLE_TIMEOUT_MS * 3)]);
      const quiet = Date.now() - quietFrom;
      assert.ok(peer.closedAfter !== undefined, `still open ${quiet} ms after the last traffic`);
      assert.ok(quiet >= IDLE_TIMEOUT_MS - 600, `closed ${quiet} ms after the last traffic, before the idle timeout`);
    } finally {
      peer.socket.destroy();
    }
  });

  it('connections beyond sipTcpMaxConnections are closed at once; closing many is logged once per peer; SIP over TCP still served', async () => {
    const quietWarnings = () => server.logLines(/^SIP TCP connection closed: no complete message in time$/).length;
    const warningsBefore = quietWarnings();
    const extra = 5;
    const conns = await Promise.all(Array.from({ length: MAX_CONNECTIONS + extra }, () => rawTcp(server.sipPort)));
    try {
      await Promise.race([Promise.all(conns.map((c) => c.closed)), sleep(MESSAGE_TIMEOUT_MS * 5)]);
    } finally {
      for (const c of conns) c.socket.destroy();
    }
    const after = conns.map((c) => c.closedAfter ?? Infinity);
    const atOnce = after.filter((ms) => ms < MESSAGE_TIMEOUT_MS / 2).length;
    const timedOut = after.filter((ms) => ms >= MESSAGE_TIMEOUT_MS * 0.9 && ms < MESSAGE_TIMEOUT_MS * 5).length;
    assert.deepEqual([atOnce, timedOut], [extra, MAX_CONNECTIONS], `close times (ms): ${after.join(' ')}`);
    assert.equal(server.logLines(/^SIP TCP connection refused: too many open$/).length, 1, 'the refusals are logged once, then counted');
    assert.ok(quietWarnings() - warningsBefore <= 1, `${MAX_CONNECTIONS} timeouts of one peer logged ${quietWarnings() - warningsBefore} times`);

    const peer = await rawTcp(server.sipPort);
    try {
      peer.socket.write(options(server.sipPort, 'after'));
      await eventually(() => /^SIP\/2\.0 200 OK\r\n/.test(peer.text()), 5000, 'the 200 to OPTIONS after the flood');
    } finally {
      peer.socket.destroy();
    }
    assert.equal(server.process.status, undefined, 'still running');
  });
});

describe('sipTrustedSources "registrar": requests to a Contact only from its registrar (real server process, Kamailio)', { timeout: 120_000 }, () => {
  const USERS = [
    { username: 'alice', password: 'alice-pw' },
    { username: 'bob', password: 'bob-pw' },
  ];
  /** Another loopback address than Kamailio's: a SIP peer that is not the registrar. */
  const STRANGER = '127.0.0.2';
  let kamailio: KamailioInstance;
  let server: CallhookProcess;
  const clients: TestClient[] = [];
  let stranger: UdpSocket;
  const strangerGot: string[] = [];

  async function connectAs(user: string): Promise<TestClient> {
    const c = await TestClient.open(server.wsUrl);
    clients.push(c);
    c.send('connection', {
      appKey: 'defaultApp',
      sipLogin: user,
      sipPassword: USERS.find((u) => u.username === user)!.password,
      sipDomain: kamailio.domain,
      sipOutboundProxy: kamailio.host,
      sipPort: kamailio.port,
      sipRegisterRequired: true,
    });
    await c.expect('getUserData');
    assert.equal((await c.expect('registered'))['status'], 'REGISTERED');
    return c;
  }

  /** A request from the stranger to `contact`, straight to callhook's SIP port. */
  function strangerRequest(method: 'MESSAGE' | 'INVITE', contact: string, id: string): string {
    const port = stranger.address().port;
    const body = method === 'MESSAGE' ? 'not from the registrar' : `v=0\r\no=- 1 1 IN IP4 ${STRANGER}\r\ns=-\r\nc=IN IP4 ${STRANGER}\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n`;
    return [
      `${method} ${contact} SIP/2.0`,
      `Via: SIP/2.0/UDP ${STRANGER}:${port};branch=z9hG4bK${id};rport`,
      'Max-Forwards: 70',
      `To: <sip:bob@${kamailio.domain}>`,
      `From: <sip:mallory@${STRANGER}>;tag=${id}`,
      `Call-ID: ${id}@${STRANGER}`,
      `CSeq: 1 ${method}`,
      `Contact: <sip:mallory@${STRANGER}:${port}>`,
      `Content-Type: ${method === 'MESSAGE' ? 'text/plain' : 'application/sdp'}`,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  }

  before(async () => {
    kamailio = await startKamailio({ users: USERS });
    server = await startCallhookProcess({ ...MEDIA_PORTS, sipTrustedSources: 'registrar' });
    stranger = createSocket('udp4');
    stranger.on('message', (m) => strangerGot.push(m.toString('utf8')));
    await new Promise<void>((resolve) => stranger.bind(0, STRANGER, resolve));
  });
  after(async () => {
    for (const c of clients) await c.close();
    stranger?.close();
    await server?.stop();
    await kamailio?.stop();
  });

  it('a MESSAGE relayed by Kamailio (the registrar) reaches the session; a MESSAGE or INVITE from another address gets 403, logged once', async () => {
    const alice = await connectAs('alice');
    const bob = await connectAs('bob');
    alice.send('sendMessage', { id: 'm-1', to: 'bob', body: 'through the registrar' });
    const received = await bob.expect('notifyMessage');
    assert.equal(received['body'], 'through the registrar');
    assert.equal(received['status'], 'RECEIVED');

    const [binding] = await kamailio.waitForLocations((b) => b.some((x) => x.aor === 'bob'), 5000).then((b) => b.filter((x) => x.aor === 'bob'));
    const contact = binding!.contact;
    for (const [method, id] of [['MESSAGE', 'm1'], ['INVITE', 'i1'], ['MESSAGE', 'm2']] as const) {
      stranger.send(strangerRequest(method, contact, id), server.sipPort, LOOPBACK);
      await eventually(() => strangerGot.some((r) => r.includes(`Call-ID: ${id}@`) && /^SIP\/2\.0 [2-6]/.test(r)), 5000, `the final response to the stranger's ${method}`);
      const final = strangerGot.find((r) => r.includes(`Call-ID: ${id}@`) && /^SIP\/2\.0 [2-6]/.test(r))!;
      assert.match(final, /^SIP\/2\.0 403 Forbidden \(not from the registrar\)\r\n/, `${method}: ${final}`);
    }
    await bob.expectQuiet(300);
    assert.equal(server.logLines(/^SIP request to a contact refused: not from its registrar$/).length, 1, 'three refusals from one peer, one log line');
  });
});
