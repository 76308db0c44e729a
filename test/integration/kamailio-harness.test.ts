/**
 * The test peers themselves, without callhook code: a private Kamailio registers sipp clients with digest over UDP
 * and TCP and routes MESSAGE between them, and every sipp UAS scenario answers (or fails) as its header says,
 * driven by hand-written datagrams. If these fail, the SIP stack's integration tests cannot be trusted.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { type Socket, createSocket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../support/eventually.ts';
import { DEFAULT_DOMAIN, type KamailioInstance, startKamailio } from '../support/kamailio.ts';
import { LOOPBACK, freePort } from '../support/ports.ts';
import { type SippOptions, type SippTransport, parseMessageTrace, runSipp, scenarioFile } from '../support/sipp.ts';

const alice = { username: 'alice', password: 'alice-secret' };
const bob = { username: 'bob', password: 'b:o\\b secret' }; // db_text escaping of ':' and '\'
const SIPP_TIMEOUT_MS = 10_000;
const PROXY_CHALLENGE = 'SIP/2.0 407 Proxy Authentication Required';

const transports: Array<{ sipp: SippTransport; name: string }> = [
  { sipp: 'u1', name: 'udp' },
  { sipp: 't1', name: 'tcp' },
];

/** First lines of the messages a sipp run sent, in order. */
function sentLines(messages: string): string[] {
  return parseMessageTrace(messages).filter((m) => m.direction === 'sent').map((m) => m.firstLine);
}

/** Status lines of the responses a sipp run received, in order. */
function receivedStatuses(messages: string): string[] {
  return parseMessageTrace(messages)
    .filter((m) => m.direction === 'received' && m.firstLine.startsWith('SIP/2.0 '))
    .map((m) => m.firstLine);
}

describe('Kamailio as registrar and proxy, with sipp clients', () => {
  let kamailio: KamailioInstance;

  before(async () => {
    kamailio = await startKamailio({ users: [alice, bob] });
  });
  after(async () => {
    await kamailio?.stop();
  });

  function register(
    user: { username: string; password: string },
    transport: SippTransport,
    extra: Partial<SippOptions> = {},
  ) {
    return runSipp({
      scenarioFile: scenarioFile('uac-register-auth'),
      mode: 'uac',
      transport,
      remote: kamailio,
      service: user.username,
      auth: user,
      keys: { domain: kamailio.domain, expires: '300' },
      extraArgs: ['-auth_uri', `sip:${kamailio.domain}`],
      timeoutMs: SIPP_TIMEOUT_MS,
      ...extra,
    });
  }

  test('answers OPTIONS to itself and accepts the default test domain', () => {
    // startKamailio() only returns after a 200 to OPTIONS.
    assert.equal(kamailio.host, LOOPBACK);
    assert.equal(kamailio.domain, DEFAULT_DOMAIN);
    assert.match(kamailio.logs(), /Listening on/);
  });

  for (const { sipp, name } of transports) {
    test(`REGISTER with digest over ${name} creates a binding, Expires: 0 removes it`, async () => {
      const registration = await register(alice, sipp);
      const result = await registration.done;
      assert.equal(result.code, 0, result.errors || result.stderr);
      assert.deepEqual(receivedStatuses(result.messages), ['SIP/2.0 401 Unauthorized', 'SIP/2.0 200 OK']);

      const contact = `sip:alice@${LOOPBACK}:${registration.port};transport=${name.toUpperCase()}`;
      const bindings = await kamailio.locations();
      const binding = bindings.find((b) => b.contact === contact);
      assert.ok(binding, `no binding ${contact} in ${JSON.stringify(bindings)}`);
      assert.equal(binding.aor, 'alice');
      assert.equal(binding.socket, `${name}:${LOOPBACK}:${kamailio.port}`);
      assert.equal(binding.cseq, 2);
      assert.equal(binding.userAgent, 'sipp-register');
      assert.equal(binding.received, undefined);
      assert.ok(binding.expires > 290 && binding.expires <= 300, `expires ${binding.expires}`);

      const unregistration = await register(alice, sipp, {
        localPort: registration.port,
        keys: { domain: kamailio.domain, expires: '0' },
      });
      assert.equal((await unregistration.done).code, 0);
      const after = await kamailio.locations();
      assert.equal(after.find((b) => b.contact === contact), undefined);
    });
  }

  test('a wrong password is challenged again and leaves no binding', async () => {
    const registration = await register({ username: 'bob', password: 'wrong' }, 'u1');
    const result = await registration.done;
    assert.equal(result.code, 1, 'the scenario expects 200, so a second 401 fails it');
    assert.deepEqual(receivedStatuses(result.messages), ['SIP/2.0 401 Unauthorized', 'SIP/2.0 401 Unauthorized']);
    const bindings = await kamailio.locations();
    assert.equal(bindings.find((b) => b.contact.includes(`:${registration.port}`)), undefined);
  });

  test('an expiry below min_expires (60) gets 423 with Min-Expires', async () => {
    const registration = await register(alice, 'u1', { keys: { domain: kamailio.domain, expires: '30' } });
    const result = await registration.done;
    assert.equal(result.code, 1);
    assert.deepEqual(receivedStatuses(result.messages), ['SIP/2.0 401 Unauthorized', 'SIP/2.0 423 Interval Too Brief']);
    assert.match(result.messages, /^Min-Expires: 60\r?$/m);
  });

  for (const { sipp, name } of transports) {
    test(`MESSAGE from alice reaches bob through Kamailio over ${name}`, async () => {
      const bobPort = await freePort('both');
      const registration = await register(bob, sipp, { localPort: bobPort });
      assert.equal((await registration.done).code, 0);

      const receiver = await runSipp({
        scenarioFile: scenarioFile('uas-message'),
        mode: 'uas',
        transport: sipp,
        localPort: bobPort,
        timeoutMs: SIPP_TIMEOUT_MS,
      });
      const sender = await runSipp({
        scenarioFile: scenarioFile('uac-message'),
        mode: 'uac',
        transport: sipp,
        remote: kamailio,
        service: 'bob',
        auth: alice,
        keys: { caller: 'alice', domain: kamailio.domain },
        extraArgs: ['-auth_uri', `sip:bob@${kamailio.domain}`],
        timeoutMs: SIPP_TIMEOUT_MS,
      });
      const [sent, received] = await Promise.all([sender.done, receiver.done]);
      assert.equal(sent.code, 0, sent.errors || sent.stderr);
      assert.equal(received.code, 0, received.errors || received.stderr);
      assert.deepEqual(receivedStatuses(sent.messages), [PROXY_CHALLENGE, 'SIP/2.0 200 OK']);

      const [delivered] = parseMessageTrace(received.messages).filter((m) => m.direction === 'received');
      assert.ok(delivered);
      // Routed by location lookup: the request URI is now bob's registered contact.
      const contact = new RegExp(`^MESSAGE sip:bob@127\\.0\\.0\\.1:${bobPort};transport=${name} `, 'i');
      assert.match(delivered.firstLine, contact);
      assert.match(delivered.text, /hello from alice$/);
      assert.doesNotMatch(delivered.text, /Proxy-Authorization/i, 'credentials are consumed by the proxy');

      const unregistration = await register(bob, sipp, {
        localPort: bobPort,
        keys: { domain: kamailio.domain, expires: '0' },
      });
      assert.equal((await unregistration.done).code, 0);
    });
  }

  test('MESSAGE to a user with no binding gets 404', async () => {
    const sender = await runSipp({
      scenarioFile: scenarioFile('uac-message'),
      mode: 'uac',
      transport: 'u1',
      remote: kamailio,
      service: 'nobody',
      auth: alice,
      keys: { caller: 'alice', domain: kamailio.domain },
      extraArgs: ['-auth_uri', `sip:nobody@${kamailio.domain}`],
      timeoutMs: SIPP_TIMEOUT_MS,
    });
    const result = await sender.done;
    assert.equal(result.code, 1);
    assert.deepEqual(receivedStatuses(result.messages), [PROXY_CHALLENGE, 'SIP/2.0 404 Not Found']);
  });
});

/** A bare UDP endpoint that sends hand-written requests and collects whatever comes back. */
class UdpClient {
  private readonly received: string[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (msg) => this.received.push(msg.toString('utf8')));
  }

  static async open(): Promise<UdpClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
    return new UdpClient(socket, socket.address().port);
  }

  send(text: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(text, port, LOOPBACK, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** The next message received, waiting up to `timeoutMs`. */
  next(timeoutMs: number): Promise<string> {
    return eventually(() => this.received.shift(), timeoutMs, 'a message from sipp');
  }

  /** Messages received and not yet taken by next(). */
  get unread(): number {
    return this.received.length;
  }

  close(): void {
    this.socket.close();
  }
}

interface RequestSpec {
  method: string;
  uri: string;
  cseq: number;
  callId: string;
  branch: string;
  fromPort: number;
  headers?: string[];
  body?: string;
}

function request(spec: RequestSpec): string {
  const body = spec.body ?? '';
  return [
    `${spec.method} ${spec.uri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${LOOPBACK}:${spec.fromPort};branch=${spec.branch}`,
    'Max-Forwards: 70',
    `From: <sip:alice@${DEFAULT_DOMAIN}>;tag=a1`,
    `To: <sip:alice@${DEFAULT_DOMAIN}>`,
    `Call-ID: ${spec.callId}`,
    `CSeq: ${spec.cseq} ${spec.method}`,
    ...(spec.headers ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

describe('sipp UAS scenarios answer as documented', () => {
  let client: UdpClient;
  before(async () => {
    client = await UdpClient.open();
  });
  after(() => client?.close());

  function uas(name: string, extraArgs: string[] = []) {
    return runSipp({
      scenarioFile: scenarioFile(name),
      mode: 'uas',
      transport: 'u1',
      extraArgs,
      timeoutMs: SIPP_TIMEOUT_MS,
    });
  }

  test('uas-drop-first answers the third transmission, and the trace times each arrival', async () => {
    const sipp = await uas('uas-drop-first', ['-nr']);
    const register = request({
      method: 'REGISTER',
      uri: `sip:${DEFAULT_DOMAIN}`,
      cseq: 1,
      callId: 'drop-first',
      branch: 'z9hG4bK-drop-1',
      fromPort: client.port,
      headers: [`Contact: <sip:alice@${LOOPBACK}:${client.port}>`, 'Expires: 600'],
    });
    const gapsMs = [100, 200];
    await client.send(register, sipp.port);
    for (const gap of gapsMs) {
      await sleep(gap); // the retransmission interval whose measure the trace must show
      assert.equal(client.unread, 0, 'no answer before the third transmission');
      await client.send(register, sipp.port);
    }
    const answer = await client.next(2_000);
    assert.match(answer, /^SIP\/2\.0 200 OK\r\n/);
    const binding = new RegExp(`^Contact: <sip:alice@127\\.0\\.0\\.1:${client.port}>;expires=3600\\r$`, 'm');
    assert.match(answer, binding);
    const result = await sipp.done;
    assert.equal(result.code, 0, result.errors);

    const arrivals = parseMessageTrace(result.messages).filter((m) => m.direction === 'received');
    assert.equal(arrivals.length, 3);
    for (const [i, gap] of gapsMs.entries()) {
      const measured = arrivals[i + 1]!.at - arrivals[i]!.at;
      assert.ok(Math.abs(measured - gap) < 60, `gap ${i + 1}: ${measured} ms, sent ${gap} ms apart`);
    }
  });

  test('uas-423 asks for Min-Expires 1800 and accepts a retry with CSeq+1 and expires=1800', async () => {
    const sipp = await uas('uas-423');
    const base = { method: 'REGISTER', uri: `sip:${DEFAULT_DOMAIN}`, callId: 'i423-ok', fromPort: client.port };
    const contact = `<sip:alice@${LOOPBACK}:${client.port}>`;
    const headers = [`Contact: ${contact}`, 'Expires: 60'];
    const first = request({ ...base, cseq: 7, branch: 'z9hG4bK-423-1', headers });
    await client.send(first, sipp.port);
    const tooBrief = await client.next(2_000);
    assert.match(tooBrief, /^SIP\/2\.0 423 Interval Too Brief\r\n/);
    assert.match(tooBrief, /^Min-Expires: 1800\r$/m);
    const retry = request({ ...base, cseq: 8, branch: 'z9hG4bK-423-2', headers: [`Contact: ${contact};expires=1800`] });
    await client.send(retry, sipp.port);
    const ok = await client.next(2_000);
    assert.match(ok, /^SIP\/2\.0 200 OK\r\n/);
    assert.match(ok, new RegExp(`^Contact: <sip:alice@127\\.0\\.0\\.1:${client.port}>;expires=1800\\r$`, 'm'));
    assert.equal((await sipp.done).code, 0);
  });

  test('uas-423 stops, without answering, when the retry keeps a too brief expiry', async () => {
    const sipp = await uas('uas-423');
    const base = { method: 'REGISTER', uri: `sip:${DEFAULT_DOMAIN}`, callId: 'i423-bad', fromPort: client.port };
    const headers = [`Contact: <sip:alice@${LOOPBACK}:${client.port}>`, 'Expires: 60'];
    await client.send(request({ ...base, cseq: 1, branch: 'z9hG4bK-423b-1', headers }), sipp.port);
    assert.match(await client.next(2_000), /^SIP\/2\.0 423 /);
    await client.send(request({ ...base, cseq: 2, branch: 'z9hG4bK-423b-2', headers }), sipp.port);
    const result = await sipp.done;
    assert.equal(result.code, 255);
    assert.match(result.stderr, /uas-423: the retry asks for an expiry below Min-Expires/);
    assert.deepEqual(sentLines(result.messages), ['SIP/2.0 423 Interval Too Brief'], 'the retry is not answered');
  });

  test('uas-407 challenges, then accepts digest credentials with CSeq+1', async () => {
    const sipp = await uas('uas-407');
    const uri = `sip:bob@${DEFAULT_DOMAIN}`;
    const base = { method: 'MESSAGE', uri, callId: 'p407-ok', fromPort: client.port, body: 'hi' };
    const headers = ['Content-Type: text/plain'];
    await client.send(request({ ...base, cseq: 1, branch: 'z9hG4bK-407-1', headers }), sipp.port);
    const challenge = await client.next(2_000);
    assert.match(challenge, /^SIP\/2\.0 407 Proxy Authentication Required\r\n/);
    const params = Object.fromEntries(
      [...challenge.matchAll(/(\w+)="?([^",\r]+)"?/g)].map((m) => [m[1]!, m[2]!]),
    );
    assert.equal(params.realm, DEFAULT_DOMAIN);
    assert.equal(params.qop, 'auth');
    // RFC 2617 §3.2.2.1 with qop=auth: response = MD5(HA1:nonce:nc:cnonce:qop:HA2).
    const [nc, cnonce] = ['00000001', '0a4f113b'];
    const ha1 = md5(`alice:${params.realm}:alice-secret`);
    const ha2 = md5(`MESSAGE:${uri}`);
    const response = md5(`${ha1}:${params.nonce}:${nc}:${cnonce}:auth:${ha2}`);
    const credentials =
      `Proxy-Authorization: Digest username="alice", realm="${params.realm}", nonce="${params.nonce}", uri="${uri}", ` +
      `response="${response}", algorithm=MD5, cnonce="${cnonce}", opaque="${params.opaque}", qop=auth, nc=${nc}`;
    const retry = request({ ...base, cseq: 2, branch: 'z9hG4bK-407-2', headers: [...headers, credentials] });
    await client.send(retry, sipp.port);
    assert.match(await client.next(2_000), /^SIP\/2\.0 200 OK\r\n/);
    assert.equal((await sipp.done).code, 0);
  });

  test('uas-407 stops, without answering, when the retry carries no credentials', async () => {
    const sipp = await uas('uas-407');
    const base = { method: 'MESSAGE', uri: `sip:bob@${DEFAULT_DOMAIN}`, callId: 'p407-bad', fromPort: client.port };
    await client.send(request({ ...base, cseq: 1, branch: 'z9hG4bK-407b-1' }), sipp.port);
    assert.match(await client.next(2_000), /^SIP\/2\.0 407 /);
    await client.send(request({ ...base, cseq: 2, branch: 'z9hG4bK-407b-2' }), sipp.port);
    const result = await sipp.done;
    assert.equal(result.code, 255);
    assert.match(result.stderr, /uas-407: no Proxy-Authorization/);
    assert.deepEqual(sentLines(result.messages), [PROXY_CHALLENGE], 'the retry is not answered');
  });

  test('uas-silent never answers, records retransmissions, and stops when killed', async () => {
    const sipp = await uas('uas-silent');
    const invite = request({
      method: 'INVITE',
      uri: `sip:bob@${DEFAULT_DOMAIN}`,
      cseq: 1,
      callId: 'silent',
      branch: 'z9hG4bK-silent-1',
      fromPort: client.port,
      headers: [`Contact: <sip:alice@${LOOPBACK}:${client.port}>`],
    });
    // sipp traces every message it sends as well as those it receives: the trace shows it took each INVITE and
    // answered neither.
    await client.send(invite, sipp.port);
    await eventually(() => parseMessageTrace(sipp.messages()).length === 1, 2_000, 'sipp to take the INVITE');
    await client.send(invite, sipp.port);
    await eventually(() => parseMessageTrace(sipp.messages()).length === 2, 2_000, 'sipp to take the retransmission');
    assert.equal(client.unread, 0);
    const result = await sipp.kill();
    assert.equal(result.killed, true);
    assert.equal(result.timedOut, false);
    assert.deepEqual(
      parseMessageTrace(result.messages).map((m) => [m.direction, m.firstLine]),
      [
        ['received', `INVITE sip:bob@${DEFAULT_DOMAIN} SIP/2.0`],
        ['received', `INVITE sip:bob@${DEFAULT_DOMAIN} SIP/2.0`],
      ],
    );
  });

  test('a run that outlives its timeout is killed and says so', async () => {
    const sipp = await runSipp({
      scenarioFile: scenarioFile('uas-silent'),
      mode: 'uas',
      transport: 't1',
      timeoutMs: 300,
    });
    const result = await sipp.done;
    assert.equal(result.timedOut, true);
    assert.equal(result.killed, true);
    assert.equal(result.messages, '');
  });
});
