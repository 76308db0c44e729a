/**
 * The SIP stack against a real Kamailio registrar/proxy (test/support/kamailio.ts), over UDP and over TCP:
 * registration with digest (RFC 3261 §10, §22), refresh, unregistration, a wrong password, and a MESSAGE
 * (RFC 3428) from one registered user to another routed by Kamailio's location lookup.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../../src/clock.ts';
import { createLogger } from '../../src/log.ts';
import { parseUri } from '../../src/sip/message/uri.ts';
import type { SipUri } from '../../src/sip/message/types.ts';
import {
  Registerer, RegistrationState, UserAgent, readMessage, sendMessage,
  type IncomingRequest, type RegistrationEvent, type SipAccount, type SipTransportName,
} from '../../src/sip/ua/index.ts';
import { eventually } from '../support/eventually.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { freePort } from '../support/ports.ts';

const USERS = [
  { username: 'alice', password: 'alice-secret' },
  { username: 'bob', password: 'bob-secret' },
  { username: 'carol', password: 'carol-secret' },
];

async function startUa(clock?: Clock): Promise<UserAgent> {
  const port = await freePort('both');
  return UserAgent.start({
    listen: [
      { protocol: 'UDP', address: '127.0.0.1', port },
      { protocol: 'TCP', address: '127.0.0.1', port },
    ],
    maxMessageBytes: 65535,
    userAgent: 'callhook-test',
    logger: createLogger('silent'),
    ...(clock && { clock }),
  });
}

for (const transport of ['UDP', 'TCP'] as const satisfies readonly SipTransportName[]) {
  describe(`SIP against Kamailio over ${transport}`, () => {
    let kamailio: KamailioInstance;
    let ua: UserAgent;
    let ua2: UserAgent;

    const account = (username: string, password?: string): SipAccount => ({
      aor: parseUri(`sip:${username}@${kamailio.domain}`) as SipUri,
      credentials: { username, password: password ?? USERS.find((u) => u.username === username)!.password },
      nextHop: { host: kamailio.host, port: kamailio.port, transport },
    });

    before(async () => {
      kamailio = await startKamailio({ users: USERS, minExpires: 2 });
      ua = await startUa();
      ua2 = await startUa();
    });
    after(async () => {
      await ua?.close();
      await ua2?.close();
      await kamailio?.stop();
    });

    it('registers three users with digest; Kamailio holds one binding each (RFC 3261 §10.2)', async () => {
      const registerers = USERS.map((u) => new Registerer(ua, { account: account(u.username), expires: 300 }));
      const results = await Promise.all(registerers.map((r) => r.register()));
      for (const r of results) {
        assert.equal(r.state, RegistrationState.Registered, r.info);
        assert.equal(r.info, 'SIP 200 OK');
        assert.equal(r.expires, 300);
      }
      const bindings = await kamailio.waitForLocations((b) => b.length === 3, 5000);
      for (const [i, r] of registerers.entries()) {
        const b = bindings.find((x) => x.aor === USERS[i]!.username);
        assert.ok(b, `binding for ${USERS[i]!.username}`);
        assert.match(b.contact, new RegExp(`^sip:${r.contactUser}@127\\.0\\.0\\.1:\\d+`));
        assert.equal(b.socket.split(':')[0], transport.toLowerCase());
      }
      await Promise.all(registerers.map((r) => r.unregister()));
      await kamailio.waitForLocations((b) => b.length === 0, 5000);
      registerers.forEach((r) => r.dispose());
    });

    it('a wrong password ends in Failed naming the SIP status', async () => {
      const events: RegistrationEvent[] = [];
      const r = new Registerer(ua, { account: account('alice', 'wrong'), expires: 300, onEvent: (e) => events.push(e) });
      const result = await r.register();
      assert.equal(result.state, RegistrationState.Failed);
      assert.match(result.info, /^SIP (401 Unauthorized|403 Forbidden)$/);
      assert.equal(result.response?.status === 401 || result.response?.status === 403, true);
      assert.deepEqual(events.map((e) => e.state), [RegistrationState.Failed]);
      assert.equal((await kamailio.locations()).some((b) => b.aor === 'alice'), false);
      r.dispose();
    });

    it('refreshes the binding before it runs out, and unregistering removes it', async () => {
      // The refresh timer runs on the UA's clock: a fake one here, moved by hand.
      const clock = new FakeClock();
      const clocked = await startUa(clock);
      try {
        const events: RegistrationEvent[] = [];
        const r = new Registerer(clocked, { account: account('bob'), expires: 2, onEvent: (e) => events.push(e) });
        const first = await r.register();
        assert.equal(first.expires, 2);
        const firstBinding = (await kamailio.waitForLocations((b) => b.some((x) => x.aor === 'bob'), 5000)).find((x) => x.aor === 'bob')!;
        // refreshDelayMs(2) = 1 s: not a moment before, the REGISTER goes out at it.
        clock.advance(999);
        assert.equal(r.state, RegistrationState.Registered, 'no refresh before 1 s');
        clock.advance(1);
        assert.equal(r.state, RegistrationState.Registering, 'the refresh is under way at 1 s');
        // Observed by us and by Kamailio (CSeq grows).
        await eventually(() => events.some((e) => e.refresh), 5000, 'the refresh to be answered');
        assert.ok(events.some((e) => e.state === RegistrationState.Registered && e.refresh === true), 'a refresh was reported');
        const refreshed = (await kamailio.locations()).find((x) => x.aor === 'bob');
        assert.ok(refreshed && refreshed.cseq > firstBinding.cseq, 'Kamailio saw a later REGISTER of the same Call-ID');
        assert.equal(refreshed.callId, firstBinding.callId);
        const gone = await r.unregister();
        assert.equal(gone.state, RegistrationState.Unregistered);
        await kamailio.waitForLocations((b) => !b.some((x) => x.aor === 'bob'), 5000);
        r.dispose();
      } finally {
        await clocked.close();
      }
    });

    it('a MESSAGE from alice reaches bob through Kamailio (proxy challenge answered), 200 at both ends', async () => {
      const received: IncomingRequest[] = [];
      const bobBinding = ua2.bindContact((req) => {
        received.push(req);
        req.respond(200);
      });
      const bob = new Registerer(ua2, { account: account('bob'), expires: 300 }, bobBinding);
      const alice = new Registerer(ua, { account: account('alice'), expires: 300 });
      assert.equal((await bob.register()).state, RegistrationState.Registered);
      assert.equal((await alice.register()).state, RegistrationState.Registered);

      const response = await sendMessage(ua, account('alice'), {
        to: parseUri(`sip:bob@${kamailio.domain}`),
        contentType: 'text/plain',
        body: Buffer.from('hello bob, ünïcode ok'),
      });
      assert.equal(response.status, 200);
      assert.equal(received.length, 1);
      const m = readMessage(received[0]!);
      assert.equal(m.body.toString('utf8'), 'hello bob, ünïcode ok');
      assert.equal(m.contentType, 'text/plain');
      assert.equal((m.from.uri as SipUri).user, 'alice');
      assert.equal((m.to.uri as SipUri).user, 'bob');

      // A MESSAGE to someone not registered: Kamailio's location lookup fails, the sender sees the status.
      const nobody = await sendMessage(ua, account('alice'), {
        to: parseUri(`sip:carol@${kamailio.domain}`), contentType: 'text/plain', body: Buffer.from('x'),
      });
      assert.ok(nobody.status >= 400, `status ${nobody.status}`);

      await Promise.all([bob.unregister(), alice.unregister()]);
      bob.dispose();
      alice.dispose();
    });
  });
}
