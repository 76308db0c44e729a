/**
 * SIP over TLS (RFC 3261 §26.2, RFC 5630) against a real Kamailio with its tls module (test/support/kamailio.ts
 * `tls`), with certificates the test makes (test/support/certs.ts): registration with digest, a wrong password, a
 * short expiry refreshed over the registration's connection, a MESSAGE from one
 * registered user to another that reaches the callee over its registration's connection (RFC 5923 alias), and each
 * way a server certificate can fail verification, named in the registration's failure.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { SipError } from '../../src/sip/errors.ts';
import { parseUri } from '../../src/sip/message/uri.ts';
import type { SipUri } from '../../src/sip/message/types.ts';
import { readTlsCredentials, TlsTransport, type TlsCredentials } from '../../src/sip/transport/index.ts';
import {
  Registerer, RegistrationState, UserAgent, readMessage, sendMessage, type IncomingRequest, type RegistrationEvent, type SipAccount,
} from '../../src/sip/ua/index.ts';
import { eventually } from '../support/eventually.ts';
import { makeTestCertificates, type TestCertificates } from '../support/certs.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';

const USERS = [
  { username: 'alice', password: 'alice-secret' },
  { username: 'bob', password: 'bob-secret' },
];

async function startUa(credentials: TlsCredentials): Promise<UserAgent> {
  return UserAgent.start({
    listen: [{ protocol: 'TLS', address: '127.0.0.1', port: 0 }],
    maxMessageBytes: 65535,
    userAgent: 'callhook-test',
    logger: createLogger('silent'),
    tls: { credentials, handshakeTimeoutMs: 5000 },
  });
}

function tlsOf(ua: UserAgent): TlsTransport {
  const t = ua.transports.transports.find((x) => x instanceof TlsTransport);
  assert.ok(t);
  return t;
}

describe('SIP against Kamailio over TLS', { timeout: 60_000 }, () => {
  let certs: TestCertificates;
  let kamailio: KamailioInstance;
  let ua: UserAgent;
  let ua2: UserAgent;

  const account = (k: KamailioInstance, username: string, host = k.host): SipAccount => ({
    aor: parseUri(`sip:${username}@${k.domain}`) as SipUri,
    credentials: { username, password: USERS.find((u) => u.username === username)!.password },
    nextHop: { host, port: k.tlsPort!, transport: 'TLS' },
  });

  before(async () => {
    certs = await makeTestCertificates();
    // minExpires 2: a short expiry is granted, so a refresh can be watched.
    kamailio = await startKamailio({ users: USERS, tls: certs.server, minExpires: 2 });
    ua = await startUa(readTlsCredentials({ ...certs.renewed, caFile: certs.ca }));
    // No certificate of its own, so no listener: requests reach it only over connections it opened.
    ua2 = await startUa(readTlsCredentials({ caFile: certs.ca }));
  });
  after(async () => {
    await ua?.close();
    await ua2?.close();
    await kamailio?.stop();
    await certs?.remove();
  });

  it('registers with digest over TLS: a transport=tls Contact, bound to Kamailio\'s TLS socket (RFC 3261 §10.2)', async () => {
    const r = new Registerer(ua, { account: account(kamailio, 'alice'), expires: 300 });
    const result = await r.register();
    assert.equal(result.state, RegistrationState.Registered, result.info);
    const [binding] = await kamailio.waitForLocations((b) => b.length === 1, 5000);
    assert.match(binding!.contact, new RegExp(`^sip:${r.contactUser}@127\\.0\\.0\\.1:${tlsOf(ua).local.port};transport=tls`));
    assert.match(binding!.socket, /^tls:127\.0\.0\.1:/);
    await r.unregister();
    await kamailio.waitForLocations((b) => b.length === 0, 5000);
    r.dispose();
  });

  it('a sips: AOR registers with a SIPS Contact (RFC 3261 §8.1.1.8), without transport=tls (RFC 5630 §3.1.3)', async () => {
    const r = new Registerer(ua, { account: { ...account(kamailio, 'alice'), aor: parseUri(`sips:alice@${kamailio.domain}`) as SipUri }, expires: 300 });
    const result = await r.register();
    assert.equal(result.state, RegistrationState.Registered, result.info);
    const [binding] = await kamailio.waitForLocations((b) => b.length === 1, 5000);
    assert.equal(binding!.contact.split(';')[0], `sips:${r.contactUser}@127.0.0.1:${tlsOf(ua).local.port}`);
    assert.doesNotMatch(binding!.contact, /transport=/);
    await r.unregister();
    await kamailio.waitForLocations((b) => b.length === 0, 5000);
    r.dispose();
  });

  it('a wrong password over TLS ends in Failed naming the SIP status; nothing is bound', async () => {
    const events: RegistrationEvent[] = [];
    const r = new Registerer(ua, { account: { ...account(kamailio, 'alice'), credentials: { username: 'alice', password: 'wrong' } }, expires: 300, onEvent: (e) => events.push(e) });
    const result = await r.register();
    assert.equal(result.state, RegistrationState.Failed);
    assert.match(result.info, /^SIP (401 Unauthorized|403 Forbidden)$/);
    assert.deepEqual(events.map((e) => e.state), [RegistrationState.Failed]);
    assert.equal((await kamailio.locations()).some((b) => b.aor === 'alice'), false);
    r.dispose();
  });

  it('a 2 s expiry over TLS is refreshed before it runs out, over the registration\'s one connection', async () => {
    // ua2 has no listener: a second connection would only be one it opened again.
    const events: RegistrationEvent[] = [];
    const r = new Registerer(ua2, { account: account(kamailio, 'bob'), expires: 2, onEvent: (e) => events.push(e) });
    try {
      const first = await r.register();
      assert.equal(first.state, RegistrationState.Registered, first.info);
      assert.equal(first.expires, 2);
      const [bound] = await kamailio.waitForLocations((b) => b.some((x) => x.aor === 'bob'), 5000);
      await eventually(() => events.filter((e) => e.refresh === true).length >= 2, 8000, 'two refreshes');
      const refreshed = (await kamailio.locations()).find((x) => x.aor === 'bob');
      assert.ok(refreshed && refreshed.cseq > bound!.cseq, 'Kamailio saw later REGISTERs of the same Call-ID');
      assert.equal(refreshed.callId, bound!.callId);
      assert.match(refreshed.socket, /^tls:127\.0\.0\.1:/);
      assert.equal(tlsOf(ua2).connectionCount, 1);
    } finally {
      await r.unregister();
      await kamailio.waitForLocations((b) => !b.some((x) => x.aor === 'bob'), 5000);
      r.dispose();
    }
  });

  it('a MESSAGE from alice reaches bob, who has no TLS listener, over his registration\'s connection (RFC 5923 alias)', async () => {
    const received: IncomingRequest[] = [];
    const bobBinding = ua2.bindContact((req) => {
      received.push(req);
      req.respond(200);
    });
    const bob = new Registerer(ua2, { account: account(kamailio, 'bob'), expires: 300 }, bobBinding);
    const alice = new Registerer(ua, { account: account(kamailio, 'alice'), expires: 300 });
    assert.equal((await bob.register()).state, RegistrationState.Registered);
    assert.equal((await alice.register()).state, RegistrationState.Registered);
    assert.equal(tlsOf(ua2).listening, false);
    assert.equal(tlsOf(ua2).connectionCount, 1);

    const response = await sendMessage(ua, account(kamailio, 'alice'), {
      to: parseUri(`sip:bob@${kamailio.domain}`), contentType: 'text/plain', body: Buffer.from('over TLS'),
    });
    assert.equal(response.status, 200);
    assert.equal(received.length, 1);
    assert.equal(readMessage(received[0]!).body.toString('utf8'), 'over TLS');
    assert.equal(received[0]!.received.transport.protocol, 'TLS');
    // Kamailio opened no connection to bob's listener: the MESSAGE came over the one bob's REGISTER opened.
    assert.equal(tlsOf(ua2).connectionCount, 1, 'bob has only the connection of its registration');
    assert.equal(received[0]!.received.remote.port, kamailio.tlsPort);

    // A sips: recipient (RFC 3261 §26.2.2): sent over TLS, refused by name over another transport.
    const sips = await sendMessage(ua, account(kamailio, 'alice'), {
      to: parseUri(`sips:bob@${kamailio.domain}`), contentType: 'text/plain', body: Buffer.from('to sips'),
    });
    assert.equal(sips.status, 200);
    assert.equal(readMessage(received[1]!).body.toString('utf8'), 'to sips');
    await assert.rejects(
      sendMessage(ua, { ...account(kamailio, 'alice'), nextHop: { host: kamailio.host, port: kamailio.port, transport: 'TCP' } }, {
        to: parseUri(`sips:bob@${kamailio.domain}`), contentType: 'text/plain', body: Buffer.from('in clear'),
      }),
      (e: unknown) => e instanceof SipError && e.message === `sips:bob@${kamailio.domain} is a sips: URI: it needs sipTransport tls, not tcp (RFC 3261 §26.2.2)`,
    );
    assert.equal(received.length, 2);

    await Promise.all([bob.unregister(), alice.unregister()]);
    bob.dispose();
    alice.dispose();
  });

  describe('a server certificate that fails verification fails the registration, naming why', () => {
    const failure = async (k: KamailioInstance, credentials: TlsCredentials, host?: string): Promise<string> => {
      const client = await startUa(credentials);
      try {
        const r = new Registerer(client, { account: account(k, 'alice', host), expires: 300 });
        const result = await r.register();
        r.dispose();
        assert.equal(result.state, RegistrationState.Failed);
        return result.info;
      } finally {
        await client.close();
      }
    };

    it('unknown CA: our CA is not in the system store and no sipTlsCaFile names it', async () => {
      assert.match(await failure(kamailio, {}), /^TLS connect to 127\.0\.0\.1:\d+ failed: unknown CA \(unable to verify the first certificate\)$/);
      assert.equal((await kamailio.locations()).length, 0);
    });

    it('certificate has expired', async () => {
      const k = await startKamailio({ users: USERS, tls: certs.expired });
      try {
        assert.match(await failure(k, readTlsCredentials({ caFile: certs.ca })), /^TLS connect to 127\.0\.0\.1:\d+ failed: certificate has expired$/);
      } finally {
        await k.stop();
      }
    });

    it('host mismatch: the certificate names wrong.example, we asked for 127.0.0.1 (and for localhost, sent as SNI)', async () => {
      const k = await startKamailio({ users: USERS, tls: certs.wrongHost });
      try {
        const credentials = readTlsCredentials({ caFile: certs.ca });
        assert.match(await failure(k, credentials), /failed: host mismatch \(Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list: \)$/);
        assert.match(await failure(k, credentials, 'localhost'), /failed: host mismatch \(Hostname\/IP does not match certificate's altnames: Host: localhost\. is not in the cert's altnames: DNS:wrong\.example\)$/);
      } finally {
        await k.stop();
      }
    });

    it('the right certificate by name: registering to localhost verifies', async () => {
      const client = await startUa(readTlsCredentials({ caFile: certs.ca }));
      try {
        const r = new Registerer(client, { account: account(kamailio, 'alice', 'localhost'), expires: 300 });
        assert.equal((await r.register()).state, RegistrationState.Registered);
        await r.unregister();
        r.dispose();
      } finally {
        await client.close();
      }
    });
  });
});
