/**
 * INVITE sessions through a real Kamailio (test/support/kamailio.ts: registrar and proxy, no Record-Route, so
 * in-dialog requests go end to end): calls between two callhook registrations — the INVITE answering Kamailio's
 * 407 (RFC 3261 §22.3), answered, refused, cancelled through the proxy (§9, §16.10), INFO DTMF and a re-INVITE in
 * the dialog — over UDP and TCP; and calls to and from baresip (test/support/baresip.ts) registered on the same
 * Kamailio and answering by itself.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../../src/clock.ts';
import { createLogger } from '../../src/log.ts';
import { getCSeq } from '../../src/sip/message/headers.ts';
import type { SipUri } from '../../src/sip/message/types.ts';
import { parseUri } from '../../src/sip/message/uri.ts';
import {
  Invitation, Inviter, Registerer, RegistrationState, UserAgent, type SipAccount, type SipTransportName,
} from '../../src/sip/ua/index.ts';
import { startBaresip, type BaresipInstance } from '../support/baresip.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { freePort } from '../support/ports.ts';
import { reinviteBoth, SessionEvents, testSdp } from '../support/session-events.ts';

const USERS = [
  { username: 'alice', password: 'alice-secret' },
  { username: 'bob', password: 'bob-secret' },
  { username: 'carol', password: 'carol-secret' },
  { username: 'dave', password: 'dave-secret' },
  { username: 'erin', password: 'erin-secret' },
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

/** A registered callhook identity whose incoming calls are passed to `onInvite` (set per test). */
interface Phone {
  ua: UserAgent;
  account: SipAccount;
  registerer: Registerer;
  onInvite: ((invitation: Invitation) => void) | undefined;
}

async function registerPhone(kamailio: KamailioInstance, username: string, transport: SipTransportName, clock?: Clock): Promise<Phone> {
  const ua = await startUa(clock);
  const account: SipAccount = {
    aor: parseUri(`sip:${username}@${kamailio.domain}`) as SipUri,
    credentials: { username, password: USERS.find((u) => u.username === username)!.password },
    nextHop: { host: kamailio.host, port: kamailio.port, transport },
  };
  const phone: Phone = { ua, account, registerer: undefined!, onInvite: undefined };
  const binding = ua.bindContact(() => undefined, { onInvite: (invitation) => phone.onInvite?.(invitation) });
  phone.registerer = new Registerer(ua, { account, expires: 300 }, binding);
  const result = await phone.registerer.register();
  assert.equal(result.state, RegistrationState.Registered, result.info);
  return phone;
}

/** The next incoming call of `phone`, its events recorded by `events`. */
function nextCall(phone: Phone, events: SessionEvents, timeoutMs = 5000): Promise<Invitation> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no INVITE reached ${phone.account.aor.user} within ${timeoutMs} ms`)), timeoutMs);
    phone.onInvite = (invitation) => {
      clearTimeout(timer);
      invitation.delegate = events.delegate;
      resolve(invitation);
    };
  });
}

function dial(from: Phone, to: string, events: SessionEvents): Inviter {
  return new Inviter(from.ua, {
    account: from.account,
    target: parseUri(to),
    sdp: testSdp(42000),
    delegate: events.delegate,
  });
}

for (const transport of ['UDP', 'TCP'] as const satisfies readonly SipTransportName[]) {
  describe(`calls between two callhook registrations through Kamailio over ${transport}`, () => {
    let kamailio: KamailioInstance;
    let alice: Phone;
    let bob: Phone;
    before(async () => {
      kamailio = await startKamailio({ users: USERS });
      alice = await registerPhone(kamailio, 'alice', transport);
      bob = await registerPhone(kamailio, 'bob', transport);
    });
    after(async () => {
      for (const phone of [alice, bob]) {
        phone?.registerer.dispose();
        await phone?.ua.close();
      }
      await kamailio?.stop();
    });

    it('connects alice to bob (407 answered), carries DTMF INFO and a re-INVITE, and ends with bob\'s BYE', async () => {
      const aliceEvents = new SessionEvents((offer) => {
        assert.match(offer.toString(), /a=sendonly/);
        return testSdp(42000, 'recvonly', 2);
      });
      const bobEvents = new SessionEvents();
      const incoming = nextCall(bob, bobEvents);
      const call = dial(alice, `sip:bob@${kamailio.domain}`, aliceEvents);
      await call.invite();
      const invitation = await incoming;
      assert.equal(invitation.caller.uri.scheme, 'sip');
      // Kamailio consumes the credentials; the CSeq shows the INVITE was re-sent after its 407 (§22.2: CSeq+1).
      assert.equal(getCSeq(invitation.request).seq, 2, 'the INVITE answered the 407');
      invitation.ring();
      await aliceEvents.waitFor('provisional', 5000, (e) => e.response.status === 180);
      invitation.accept(testSdp(42002));
      await aliceEvents.waitFor('established');
      await bobEvents.waitFor('established');

      const dtmf = await call.sendDtmf('1');
      assert.equal(dtmf.status, 200);
      const info = await bobEvents.waitFor('info');
      assert.deepEqual(info.dtmf, { digit: '1', durationMs: 160 });

      const hold = await invitation.reinvite(testSdp(42002, 'sendonly', 2));
      assert.equal(hold.status, 200);
      assert.match(hold.body.toString(), /a=recvonly/);

      await invitation.bye();
      const end = await aliceEvents.waitFor('terminated');
      assert.equal(end.cause, 'remote-bye');
      assert.equal((await bobEvents.waitFor('terminated')).cause, 'local-bye');
      assert.equal(alice.ua.dialogs.dialogCount + bob.ua.dialogs.dialogCount, 0);
    });

    it('resolves re-INVITE glare: both sides get 491 and re-try after the §14.1 delays (RFC 3261 §14.1, §14.2)', async () => {
      // Two more registrations whose UAs run on a fake clock: the seconds of back-off pass without being waited.
      const clock = new FakeClock();
      const dave = await registerPhone(kamailio, 'dave', transport, clock);
      const erin = await registerPhone(kamailio, 'erin', transport, clock);
      try {
        const daveEvents = new SessionEvents(() => testSdp(42000, 'sendrecv', 3));
        const erinEvents = new SessionEvents(() => testSdp(42002, 'sendrecv', 3));
        const incoming = nextCall(erin, erinEvents);
        const call = dial(dave, `sip:erin@${kamailio.domain}`, daveEvents);
        await call.invite();
        const invitation = await incoming;
        invitation.accept(testSdp(42002));
        await erinEvents.waitFor('established');
        await daveEvents.waitFor('established');
        // Both re-INVITEs are under way before either arrives: each side answers the other's with 491.
        const { responses: [fromDave, fromErin], elapsed } = await reinviteBoth(
          clock, [call, testSdp(42000, 'sendonly', 2)], [invitation, testSdp(42002, 'sendonly', 2)],
        );
        assert.equal(fromDave.status, 200);
        assert.equal(fromErin.status, 200);
        // Dave owns the Call-ID, so he waits 2.1-4 s; erin 0-2 s (and her retry is answered at once).
        assert.ok(elapsed >= 2100 && elapsed < 6000, `both re-INVITEs done after ${elapsed} ms of fake time`);
        await call.bye();
        await erinEvents.waitFor('terminated');
      } finally {
        for (const phone of [dave, erin]) {
          phone.registerer.dispose();
          await phone.ua.close();
        }
      }
    });

    it('relays bob\'s 486 to alice as rejected "SIP 486 Busy Here"', async () => {
      const aliceEvents = new SessionEvents();
      const bobEvents = new SessionEvents();
      const incoming = nextCall(bob, bobEvents);
      await dial(alice, `sip:bob@${kamailio.domain}`, aliceEvents).invite();
      (await incoming).reject(486);
      const end = await aliceEvents.waitFor('terminated');
      assert.equal(end.cause, 'rejected');
      assert.equal(end.info, 'SIP 486 Busy Here');
    });

    it('cancels a ringing call through the proxy: bob sees remote-cancel, alice gets 487 (RFC 3261 §9, §16.10)', async () => {
      const aliceEvents = new SessionEvents();
      const bobEvents = new SessionEvents();
      const incoming = nextCall(bob, bobEvents);
      const call = dial(alice, `sip:bob@${kamailio.domain}`, aliceEvents);
      await call.invite();
      (await incoming).ring();
      await aliceEvents.waitFor('provisional', 5000, (e) => e.response.status === 180);
      call.cancel();
      assert.equal((await bobEvents.waitFor('terminated')).cause, 'remote-cancel');
      const end = await aliceEvents.waitFor('terminated');
      assert.equal(end.cause, 'cancelled');
      assert.equal(end.status, 487);
    });

    it('reports 404 for a user Kamailio does not know', async () => {
      const events = new SessionEvents();
      await dial(alice, `sip:nobody@${kamailio.domain}`, events).invite();
      const end = await events.waitFor('terminated');
      assert.equal(end.info, 'SIP 404 Not Found');
    });
  });
}

describe('calls with baresip registered on Kamailio (auto-answer)', () => {
  let kamailio: KamailioInstance;
  let alice: Phone;
  let carol: BaresipInstance;
  before(async () => {
    kamailio = await startKamailio({ users: USERS });
    alice = await registerPhone(kamailio, 'alice', 'UDP');
    carol = await startBaresip({ user: 'carol', password: 'carol-secret', domain: kamailio.domain, outboundProxy: { host: kamailio.host, port: kamailio.port } });
    await carol.waitRegistered(5000);
  });
  after(async () => {
    alice?.registerer.dispose();
    await alice?.ua.close();
    await carol?.stop();
    await kamailio?.stop();
  });

  it('calls baresip, which answers with its SDP; our BYE closes the call there', async () => {
    const events = new SessionEvents();
    const call = dial(alice, `sip:carol@${kamailio.domain}`, events);
    await call.invite();
    const established = await events.waitFor('established');
    assert.match(established.sdp?.toString() ?? '', /m=audio \d+ RTP\/AVP 0/);
    await carol.waitForEvent('CALL_ESTABLISHED', 5000, (e) => e.id === call.callId);
    await call.bye();
    assert.equal((await events.waitFor('terminated')).cause, 'local-bye');
    await carol.waitForEvent('CALL_CLOSED', 5000, (e) => e.id === call.callId);
  });

  it('takes a call baresip dials, answers it, and ends when baresip hangs up', async () => {
    const events = new SessionEvents();
    const incoming = nextCall(alice, events);
    const dialed = await carol.command('dial', `sip:alice@${kamailio.domain}`);
    assert.ok(dialed.ok, dialed.data);
    const invitation = await incoming;
    assert.match(invitation.offer?.toString() ?? '', /m=audio/);
    invitation.accept(testSdp(42004));
    await events.waitFor('established');
    await carol.waitForEvent('CALL_ESTABLISHED', 5000, (e) => e.id === invitation.callId);
    const hungUp = await carol.command('hangup');
    assert.ok(hungUp.ok, hungUp.data);
    const end = await events.waitFor('terminated');
    assert.equal(end.cause, 'remote-bye');
  });
});
