/**
 * Registration and MESSAGE against a real Asterisk 22 (PJSIP; test/support/asterisk.ts) with callhook as its own
 * process: MD5 and SHA-256 digest (RFC 8760), a wrong password, qualify OPTIONS answered, a short expiry refreshed,
 * MESSAGE both ways (the incoming one addressed to the Contact), a call and a PBX restart that forgot its
 * registrations: each over UDP, TCP and TLS against the one Asterisk.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ASTERISK_TRANSPORTS, startAsteriskBench, type AsteriskBench } from '../support/asterisk-bench.ts';
import type { AsteriskEndpoint, AsteriskInstance } from '../support/asterisk.ts';
import { eventually } from '../support/eventually.ts';
import type { WebRtcClient } from '../support/webrtc-client.ts';

const STEP_MS = 10_000;
/** The registrar's longest expiry for `short` (aor maximum_expiration): callhook must refresh before it. */
const SHORT_EXPIRES_S = 4;
const ENDPOINTS: readonly AsteriskEndpoint[] = [
  { username: 'alice', password: 'alice-pw', aor: { qualify_frequency: '1' } },
  { username: 'sha', password: 'sha-pw', algorithms: ['sha-256'] },
  { username: 'both', password: 'both-pw', algorithms: ['md5', 'sha-256'] },
  { username: 'short', password: 'short-pw', aor: { maximum_expiration: String(SHORT_EXPIRES_S), default_expiration: String(SHORT_EXPIRES_S) } },
];

describe('registration and MESSAGE against Asterisk', { timeout: 360_000 }, () => {
  let bench: AsteriskBench;
  let asterisk: AsteriskInstance;

  /** The REGISTERs Asterisk has received from `user` that carried credentials, as its SIP log shows them. */
  function authorizedRegisters(user: string): string[] {
    return asterisk.logs().split(/\n(?=\[)/).filter((entry) => /^REGISTER sip:/m.test(entry) && new RegExp(`Authorization: Digest username="${user}"`).test(entry));
  }

  const contactOf = (user: string) => async () => (await asterisk.contacts()).filter((c) => c.aor === user);

  before(async () => {
    bench = await startAsteriskBench({ endpoints: ENDPOINTS, tls: true });
    asterisk = bench.asterisk;
  });
  afterEach(() => bench.settle());
  after(() => bench?.stop());

  for (const transport of ASTERISK_TRANSPORTS) {
    describe(`over ${transport.toUpperCase()}`, () => {
      const connect = (username: string, extra: Record<string, unknown> = {}): Promise<WebRtcClient> =>
        bench.connect(username, { sipTransport: transport, ...extra });
      /** Asterisk's log entry of a request received over this transport, its request line starting with `start`. */
      const receivedOver = (start: string) => new RegExp(`Received SIP request \\(\\d+ bytes\\) from ${transport.toUpperCase()}:127\\.0\\.0\\.1:\\d+ --->\\n${start}`);
      /** … and one it sent over this transport. */
      const sentOver = (start: string) => new RegExp(`Transmitting SIP request \\(\\d+ bytes\\) to ${transport.toUpperCase()}:127\\.0\\.0\\.1:\\d+ --->\\n${start}`);

      it('MD5 digest: registered (a Contact of this transport); qualify OPTIONS answered (Avail); the binding leaves when the client disconnects', async () => {
        const alice = await connect('alice');
        assert.match(authorizedRegisters('alice').at(-1) ?? '', /algorithm=MD5/);
        assert.match(asterisk.logs(), receivedOver('REGISTER '));
        const [contact] = await asterisk.waitFor(contactOf('alice'), (c) => c[0]?.status === 'Avail', STEP_MS, "alice's contact to answer qualify");
        assert.match(contact!.uri, /^sip:[0-9a-f]{16}@127\.0\.0\.1:\d+/);
        if (transport !== 'udp') assert.match(contact!.uri, new RegExp(`transport=${transport}`, 'i'));
        await alice.close();
        await asterisk.waitFor(contactOf('alice'), (c) => c.length === 0, STEP_MS, 'the unREGISTER');
      });

      it('SHA-256 digest (RFC 8760): alone, and chosen over MD5 when Asterisk offers both', async () => {
        await connect('sha');
        assert.match(authorizedRegisters('sha').at(-1) ?? '', /algorithm=SHA-256/);
        await connect('both');
        assert.match(authorizedRegisters('both').at(-1) ?? '', /algorithm=SHA-256/);
        await asterisk.waitFor(() => asterisk.contacts(), (c) => c.length === 2, STEP_MS, 'both registered');
      });

      it('a wrong password: registrationFailed with the SIP reason; nothing registered', async () => {
        const failed = connect('alice', { sipPassword: 'wrong' });
        // WebRtcClient.connect() names the frame it got instead of `registered`: `fail` (RegistrationStatusEvent).
        await assert.rejects(failed, /"status":"FAILED","info":"SIP 401 Unauthorized","apiMethod":"RegistrationStatusEvent"/);
        assert.deepEqual(await asterisk.contacts(), []);
      });

      it(`a ${SHORT_EXPIRES_S} s expiry: callhook refreshes before it runs out, the binding stays`, async () => {
        await connect('short');
        const first = authorizedRegisters('short').length;
        await eventually(() => authorizedRegisters('short').length >= first + 2, 4 * SHORT_EXPIRES_S * 1000, 'two refreshing REGISTERs');
        assert.match(authorizedRegisters('short').at(-1)!, /Expires: \d+/);
        assert.match(authorizedRegisters('short').at(-1)!, new RegExp(`^Via: SIP/2\\.0/${transport.toUpperCase()} `, 'm'));
        assert.equal((await contactOf('short')()).length, 1);
      });

      it('MESSAGE both ways: ACCEPTED at Asterisk; its reply, addressed to the Contact, is for alice', async () => {
        const alice = await connect('alice');
        await asterisk.waitFor(contactOf('alice'), (c) => c.length === 1, STEP_MS, 'alice registered');
        alice.send('sendMessage', { id: 'm-1', to: 'echo', body: `over ${transport}`, contentType: 'text/plain' });
        const accepted = await alice.ws.expect('notifyMessage', STEP_MS).then(() => alice.ws.expect('notifyMessage', STEP_MS));
        assert.equal(accepted['status'], 'ACCEPTED');
        assert.match(String(accepted['info']), /^SIP 20[02] /);
        assert.equal(await asterisk.dbGet('callhook', 'message'), `over ${transport}`);
        assert.match(asterisk.logs(), receivedOver('MESSAGE '));

        const received = await alice.ws.expect('notifyMessage', STEP_MS);
        assert.deepEqual([received['status'], received['body'], received['from']], ['RECEIVED', `over ${transport}`, `sip:echo@${asterisk.host}`]);
        // Asterisk's MessageSend to the endpoint puts the Contact in To as well as in the Request-URI.
        assert.match(String(received['sipMessageRaw']), new RegExp(`^MESSAGE sip:[0-9a-f]{16}@[^ ]+ SIP/2\\.0\\r\\nVia: SIP/2\\.0/${transport.toUpperCase()} `));
        assert.equal(received['to'], `sip:alice@${asterisk.host}`);
        assert.match(String(received['sipRequestUri']), /^sip:[0-9a-f]{16}@127\.0\.0\.1:\d+/);
      });

      it('a call: Echo() with audio both ways', async () => {
        const alice = await connect('alice');
        const call = await alice.call('echo');
        await call.waitStatus('ESTABLISHED', STEP_MS);
        await call.connected();
        assert.ok((await call.exchangeAudio(50, 40)) >= 40);
        assert.match(asterisk.logs(), receivedOver('INVITE sip:echo@'));
        call.hangup();
        assert.equal((await call.waitEnd())['status'], 'FINISH');
      });

      it('a PBX restart that forgot its registrations: the session registers again and takes a call', async () => {
        const client = await connect('short');
        await asterisk.restart({ forgetRegistrations: true });
        // Over TCP and TLS the restart also closed the registration's connection: the refresh opens a new one.
        await asterisk.waitFor(contactOf('short'), (c) => c.length === 1, 4 * SHORT_EXPIRES_S * 1000, 'the registration to recover');
        await asterisk.originate('short', { callerIdNumber: '5550100' });
        const call = await client.nextIncoming(STEP_MS);
        const incoming = call.frames.find((f) => f.message === 'notifyIncomingCall')!.data[0] as Record<string, unknown>;
        assert.equal(incoming['callee'], 'short');
        // The INVITE came to the Contact registered after the restart, over this transport.
        if (transport !== 'udp') assert.match(String(incoming['sipRequestUri']), new RegExp(`;transport=${transport}`, 'i'));
        assert.match(asterisk.logs(), sentOver('INVITE sip:'));
        call.hangup();
        await call.waitEnd();
      });
    });
  }
});
