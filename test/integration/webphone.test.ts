/**
 * The web phone (web/) as callhook serves it at `/`, in headless Chromium with fake media, driven only by the
 * accessible names of docs/webphone.md. Two people, alice at a desktop width and bob at a phone's 390 px,
 * register to the test Kamailio through callhook; alice calls bob, bob answers from the Incoming call banner,
 * audio flows both ways (each page's getStats()), hold and unhold show on both sides, mute stops the microphone,
 * DTMF keys reach bob's leg, chat goes both ways with ACCEPTED, and hanging up ends both. Then what a person sees
 * when something fails, and what the form remembers. Screenshots of every step: test-artifacts/webphone/.
 *
 * DTMF: the web phone has no way to show a digit it receives (SDK 2.0 reports none, nor does callhook to a
 * browser), so "reaches the far end" is observed where callhook reports it: bob's call leg receives alice's
 * RFC 4733 events from the SIP side and logs each digit ("DTMF from the SIP side (RFC 4733)", with bob's callId),
 * read from the server's log. Alongside: alice's page sent one `sendDtmf` per key, the app's `sendDtmf` hook saw
 * each digit (a recording backend is the app's REST URL), and no `fail` came back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { TestBackend } from '../support/backend.ts';
import { launchChromium } from '../support/browser.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { eventually } from '../support/ws-client.ts';
import { PhonePage, startPhoneServer, type AccountFields, type PhoneServer } from '../support/webphone.ts';
import { runSipp, scenarioFile } from '../support/sipp.ts';

const USERS = [
  { username: 'alice', password: 'alice-pw' },
  { username: 'bob', password: 'bob-pw' },
];
/** Its REST URL is the recording backend, every method enabled: it approves everything and keeps each request. */
const APP = 'phoneApp';
/** Its backend refuses every connect with a reason. */
const STRICT_APP = 'strictApp';
const STEP_MS = 15_000;
const PHONE = { width: 390, height: 844 };

describe('the web phone in Chromium: two people, a call, chat, and what failures look like', { timeout: 180_000 }, () => {
  let kamailio: KamailioInstance;
  let backend: TestBackend;
  let phone: PhoneServer;
  let browser: Browser;
  const pages: PhonePage[] = [];

  async function open(prefix: string, viewport?: { width: number; height: number }): Promise<PhonePage> {
    const page = await PhonePage.open(browser, phone.pageUrl, prefix, viewport);
    pages.push(page);
    return page;
  }

  const account = (user: string): AccountFields => ({
    'SIP login': user,
    Password: USERS.find((u) => u.username === user)!.password,
    Domain: kamailio.domain,
    'Outbound proxy': kamailio.host,
    Port: String(kamailio.port),
    'App key': APP,
  });

  /** The info of the last `fail` frame the page received about `apiMethod`. */
  const failInfo = (page: PhonePage, apiMethod: string): string => {
    const fail = page.received('fail').filter((f) => (f.data[0] as { apiMethod?: string }).apiMethod === apiMethod).at(-1);
    assert.ok(fail, `no fail ${apiMethod} frame: ${page.diagnostics()}`);
    return String((fail.data[0] as { info: unknown }).info);
  };

  before(async () => {
    kamailio = await startKamailio({ users: USERS });
    backend = await TestBackend.start({
      responder: (req) =>
        req.path.startsWith('/strict/') ? { kind: 'json', status: 403, body: { status: 403, reason: 'Not allowed' } } : { kind: 'echo' },
    });
    phone = await startPhoneServer();
    const { apps } = phone.server.store;
    apps.add({ name: 'phone', appKey: APP, url: backend.url('/phone') });
    apps.enableMethod(APP, '*');
    apps.add({ name: 'strict', appKey: STRICT_APP, url: backend.url('/strict') });
    apps.enableMethod(STRICT_APP, '*');
    browser = await launchChromium();
  });
  after(async () => {
    for (const p of pages.splice(0)) await p.close().catch(() => undefined);
    await browser?.close();
    await phone?.stop();
    await backend?.stop();
    await kamailio?.stop();
  });

  it('alice calls bob: banner, answer, audio both ways, hold, mute, DTMF, chat, hang-up; bob at 390 px', async () => {
    const alice = await open('call-alice');
    const bob = await open('call-bob', PHONE);
    try {
      // The form comes filled with this server and the defaults.
      for (const p of [alice, bob]) {
        assert.equal(await p.field('Server URL').inputValue(), phone.wsUrl);
        assert.equal(await p.field('App key').inputValue(), 'defaultApp');
        assert.equal(await p.field('Register').isChecked(), true);
        assert.equal(await p.status('Connection status').textContent(), 'DISCONNECTED');
        assert.equal(await p.status('Registration status').textContent(), 'UNREGISTERED');
      }
      await bob.snap('loaded');
      await bob.assertFitsWidth(PHONE.width);
      await bob.assertVisible({
        ...Object.fromEntries(['Server URL', 'SIP login', 'Auth name', 'Password', 'Domain', 'Outbound proxy', 'Port', 'Register', 'App key'].map((l) => [l, bob.field(l)])),
        Connect: bob.button('Connect'),
        'Connection status': bob.status('Connection status'),
        'Registration status': bob.status('Registration status'),
      });

      await alice.connect(account('alice'), { registered: true });
      await bob.connect(account('bob'), { registered: true });
      await kamailio.waitForLocations((b) => b.length === 2, STEP_MS);
      for (const p of [alice, bob]) {
        assert.equal(await p.waitForEvent(/^RegistrationStatusEvent REGISTERED/), 'RegistrationStatusEvent REGISTERED: SIP 200 OK');
        assert.equal(await p.button('Connect').isVisible(), false, 'Connect gives way to Disconnect');
        assert.equal(await p.button('Disconnect').isVisible(), true);
        await p.snap('registered');
      }
      await bob.assertFitsWidth(PHONE.width);

      // alice calls; bob's banner names her.
      await alice.field('Callee').fill('bob');
      await alice.button('Call').click();
      await bob.incomingBanner.waitFor({ state: 'visible' });
      assert.match(String(await bob.incomingBanner.textContent()), /alice/);
      await bob.snap('ringing');
      await alice.snap('ringing');
      await bob.assertFitsWidth(PHONE.width);
      await bob.assertVisible({ Answer: bob.incomingBanner.getByRole('button', { name: 'Answer', exact: true }), Decline: bob.button('Decline') });
      assert.ok(/^(RING|RING_MEDIA|SESSION_PROGRESS|TRYING)$/.test(String(await alice.status('Call status').textContent())));

      await bob.incomingBanner.getByRole('button', { name: 'Answer', exact: true }).click();
      for (const p of [alice, bob]) await p.waitForText(p.status('Call status'), 'ESTABLISHED');
      assert.equal(await bob.incomingBanner.isVisible(), false, 'the banner is gone');
      for (const p of [alice, bob]) await p.waitForAudioBothWays(50);
      await alice.waitForText(alice.page.getByRole('timer', { name: 'Call timer' }), /^00:0[1-9]$/, 5000);
      await alice.snap('talking');
      await bob.snap('talking');
      await bob.assertFitsWidth(PHONE.width);
      await bob.assertVisible({
        Callee: bob.field('Callee'),
        'Hang up': bob.button('Hang up'),
        Hold: bob.button('Hold'),
        Mute: bob.button('Mute'),
        ...Object.fromEntries([...'0123456789*#'].map((k) => [k, bob.button(k)])),
        'Transfer to': bob.field('Transfer to'),
        Transfer: bob.button('Transfer'),
        'Call status': bob.status('Call status'),
        'Message to': bob.field('Message to'),
        Message: bob.field('Message'),
        Send: bob.button('Send'),
        Messages: bob.messages,
        'Event log': bob.eventLog,
        Disconnect: bob.button('Disconnect'),
      });

      // Hold and unhold: the state changes on both sides, and the audio comes back.
      await alice.button('Hold').click();
      for (const p of [alice, bob]) await p.waitForText(p.status('Call status'), 'HOLD');
      assert.equal(await alice.button('Unhold').isVisible(), true);
      assert.equal(await alice.button('Hold').isVisible(), false);
      // bob is held, not holding: nothing for him to resume.
      assert.equal(await bob.button('Unhold').isVisible(), false);
      const heldInfo = (bob.received('hold').at(-1)?.data[0] as { info?: string } | undefined)?.info;
      await bob.waitForEvent(`CallStatusEvent HOLD: ${heldInfo}`);
      await alice.snap('held');
      await bob.snap('held');
      await alice.button('Unhold').click();
      for (const p of [alice, bob]) await p.waitForText(p.status('Call status'), 'ESTABLISHED');
      for (const p of [alice, bob]) await p.waitForAudioBothWays(25);

      // Mute stops sending the microphone; Unmute resumes it.
      const micEnabled = () => alice.page.evaluate(() => window.webphone.call?.localStream?.getAudioTracks().map((t) => t.enabled));
      await alice.button('Mute').click();
      await alice.button('Unmute').waitFor({ state: 'visible' });
      assert.deepEqual(await micEnabled(), [false]);
      await alice.snap('muted');
      await alice.button('Unmute').click();
      await alice.button('Mute').waitFor({ state: 'visible' });
      assert.deepEqual(await micEnabled(), [true]);

      // DTMF from alice's dial pad reaches bob's leg of the call.
      const aliceCallId = await alice.callId();
      const bobCallId = await bob.callId();
      assert.ok(aliceCallId !== undefined && bobCallId !== undefined);
      const keys = ['1', '2', '#'];
      for (const key of keys) {
        await alice.button(key).click();
        await alice.waitForEvent(`DTMF ${key} requested`);
      }
      const atBob = () =>
        phone.log.filter((r) => r.msg === 'DTMF from the SIP side (RFC 4733)' && r['callId'] === bobCallId).map((r) => String(r['digit']));
      await eventually(() => atBob().length >= keys.length, STEP_MS, `the digits at bob's leg (so far: ${atBob().join(' ')})`);
      assert.deepEqual(atBob(), keys, 'each key once, in order');
      assert.deepEqual(
        alice.sent('sendDtmf').map((f) => f.data[0]),
        keys.map((dtmf) => ({ callId: aliceCallId, dtmf, type: 'RFC2833' })),
      );
      const dtmfHooks = backend.requests.filter((r) => r.hook === 'sendDtmf' && r.json?.['callId'] === aliceCallId).map((r) => r.json?.['dtmf']);
      assert.deepEqual(dtmfHooks, keys);
      assert.deepEqual(alice.received('fail'), [], 'nothing was refused');
      assert.equal(await alice.field('Callee').inputValue(), 'bob', 'in a call the keys send DTMF, they do not type');

      // Chat both ways, each message ACCEPTED at its sender and RECEIVED at the other side.
      await alice.field('Message to').fill('bob');
      await alice.field('Message').fill('Hello Bob');
      await alice.button('Send').click();
      const aliceToBob = alice.messages.getByRole('listitem').filter({ hasText: 'Hello Bob' });
      await alice.waitForText(aliceToBob, /^bob: Hello Bob ACCEPTED$/);
      const atBobMessages = bob.messages.getByRole('listitem').filter({ hasText: 'Hello Bob' });
      await bob.waitForText(atBobMessages, new RegExp(`^alice@${kamailio.domain.replace(/\./g, '\\.')}: Hello Bob RECEIVED$`));
      assert.equal(await alice.field('Message').inputValue(), '', 'the text field is cleared once sent');
      // bob answers the sender: Message to was filled in with her address.
      assert.equal(await bob.field('Message to').inputValue(), `sip:alice@${kamailio.domain}`);
      await bob.field('Message').fill('Hi Alice');
      await bob.field('Message').press('Enter');
      await bob.waitForText(bob.messages.getByRole('listitem').filter({ hasText: 'Hi Alice' }), /: Hi Alice ACCEPTED$/);
      await alice.waitForText(alice.messages.getByRole('listitem').filter({ hasText: 'Hi Alice' }), /^bob@\S+: Hi Alice RECEIVED$/);
      await alice.waitForEvent(/^MessageStatusEvent ACCEPTED/);
      // What a peer sends is shown as text, never run as HTML.
      const markup = '<img src=x onerror="window.injected=1"><b>bold</b>';
      await alice.field('Message').fill(markup);
      await alice.button('Send').click();
      const shown = bob.messages.getByRole('listitem').filter({ hasText: 'bold' });
      await bob.waitForText(shown, / RECEIVED$/);
      assert.ok(String(await shown.textContent()).endsWith(`: ${markup} RECEIVED`), String(await shown.textContent()));
      assert.deepEqual(await bob.page.evaluate(() => [document.querySelectorAll('img, b').length, 'injected' in window]), [0, false]);
      await alice.snap('chat');
      await bob.snap('chat');

      // A blind transfer: bob's side (a callhook leg) does not carry out transfers (501), and the page says so.
      await alice.field('Transfer to').fill('carol');
      await alice.button('Transfer').click();
      await eventually(() => alice.received('notifyTransferEvent').some((f) => (f.data[0] as { status?: string }).status === 'FAILED'), STEP_MS, 'the transfer to fail');
      const transferred = alice.received('notifyTransferEvent').map((f) => f.data[0] as { status: string; info?: string });
      for (const t of transferred) await alice.waitForEvent(t.info === undefined ? `TransferStatusEvent ${t.status}` : `TransferStatusEvent ${t.status}: ${t.info}`);
      assert.deepEqual(alice.sent('transfer').map((f) => f.data[0]), [{ callId: aliceCallId, target: 'carol' }]);
      assert.equal(await alice.status('Call status').textContent(), 'ESTABLISHED', 'the call goes on');

      // alice hangs up: the call ends on both sides, with the server's reason in both Event logs.
      await alice.button('Hang up').click();
      for (const p of [alice, bob]) {
        await p.waitForText(p.status('Call status'), 'FINISH');
        const finish = p.received('finish').at(-1)?.data[0] as { info?: string } | undefined;
        assert.ok(finish?.info, `a finish frame with its reason: ${p.diagnostics()}`);
        await p.waitForEvent(`CallStatusEvent FINISH: ${finish.info}`);
        assert.equal(await p.button('Hang up').isEnabled(), false);
        assert.equal(await p.button('Call').isEnabled(), true);
        await p.snap('hung-up');
      }
      assert.equal(await alice.page.evaluate(() => document.querySelectorAll('audio:not(#remote-audio)').length), 0, 'the SDK made no audio element of its own');

      for (const p of [alice, bob]) {
        await p.button('Disconnect').click();
        await p.waitForText(p.status('Connection status'), 'DISCONNECTED');
        await p.waitForText(p.status('Registration status'), 'UNREGISTERED');
        await p.waitForEvent('ConnectionStatusEvent DISCONNECTED: Disconnected by the client');
        await p.snap('disconnected');
      }
      await kamailio.waitForLocations((b) => b.length === 0, STEP_MS);
      for (const p of [alice, bob]) assert.deepEqual(p.consoleErrors(), [], `${p.prefix}: no error in the console`);
    } catch (err) {
      throw new Error(`${String(err)}\n--- alice\n${alice.diagnostics(await alice.events())}\n--- bob\n${bob.diagnostics(await bob.events())}`, { cause: err });
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it('failures read plainly in the Event log: registration refused, connect refused, unknown app, no server, a call to nobody', async () => {
    const p = await open('failures');
    try {
      // A wrong password: the registrar's answer, as the server reported it.
      await p.fill({ ...account('alice'), Password: 'not-the-password' });
      await p.button('Connect').click();
      await p.waitForText(p.status('Registration status'), 'FAILED');
      const registration = failInfo(p, 'RegistrationStatusEvent');
      assert.match(registration, /^SIP 40[13] /);
      await p.waitForEvent(`RegistrationStatusEvent FAILED: ${registration}`);
      await p.snap('registration-failed');
      await p.button('Disconnect').click();
      await p.waitForText(p.status('Connection status'), 'DISCONNECTED');

      // The app's backend refuses the connection with its reason.
      await p.fill({ 'App key': STRICT_APP });
      await p.button('Connect').click();
      await p.waitForText(p.status('Connection status'), 'FAILED');
      await p.waitForEvent('connect refused: Not allowed');
      await p.snap('connect-refused');

      // An app key the server does not know.
      await p.fill({ 'App key': 'noSuchApp' });
      await p.button('Connect').click();
      await p.waitForText(p.status('Connection status'), 'FAILED');
      const unknownApp = failInfo(p, 'ConnectionStatusEvent');
      assert.match(unknownApp, /noSuchApp/);
      await p.waitForEvent(`connect refused: ${unknownApp}`);

      // No server at that address.
      await p.fill({ 'Server URL': `ws://127.0.0.1:${await TestBackend.closedPort()}/`, 'App key': APP });
      await p.button('Connect').click();
      await p.waitForText(p.status('Connection status'), 'FAILED');
      await p.waitForEvent(/^connect failed: \S/);

      // A call to someone who is not registered: the SIP reason, from the server's frame.
      await p.connect({ ...account('alice'), 'Server URL': phone.wsUrl }, { registered: true });
      await p.field('Callee').fill('nobody');
      await p.button('Call').click();
      await p.waitForText(p.status('Call status'), 'FAILED');
      const frames = [...p.received('finish'), ...p.received('fail')].map((f) => f.data[0] as { status?: string; info?: string });
      const reason = frames.find((d) => d.info !== undefined)?.info;
      assert.ok(reason, p.diagnostics());
      assert.equal(await p.waitForEvent(/^CallStatusEvent FAILED/), `CallStatusEvent FAILED: ${reason}`);
      await p.snap('call-failed');
      // A failed call leaves the phone ready for the next one.
      assert.equal(await p.button('Call').isEnabled(), true);
      assert.equal(await p.button('Hang up').isEnabled(), false);
      await p.button('Disconnect').click();
      await p.waitForText(p.status('Connection status'), 'DISCONNECTED');
      assert.deepEqual(p.consoleErrors().filter((line) => line.startsWith('pageerror')), [], 'no uncaught exception');
    } finally {
      await p.close();
    }
  });

  it('a DTMF key the SIP peer cannot take: "requested", then the server\'s refusal once, not "sent"', async () => {
    // A peer that answers without telephone-event, reached directly (its address as the domain, no registration).
    const sipp = await runSipp({ scenarioFile: scenarioFile('uas-answer-no-dtmf'), mode: 'uas', transport: 'u1', extraArgs: ['-rtp_echo'], timeoutMs: 60_000 });
    const p = await open('dtmf-refused');
    try {
      await p.connect({ 'SIP login': 'alice', Domain: '127.0.0.1', 'Outbound proxy': '', Port: String(sipp.port), Register: false, 'App key': APP }, { registered: false });
      await p.field('Callee').fill('bob');
      await p.button('Call').click();
      await p.waitForText(p.status('Call status'), 'ESTABLISHED');
      await p.button('5').click();
      await p.waitForEvent('DTMF 5 requested');
      await p.waitForEvent('sendDtmf: the SIP peer did not negotiate telephone-event');
      assert.equal(failInfo(p, 'sendDtmf'), 'sendDtmf: the SIP peer did not negotiate telephone-event', 'the server\'s words, as sent');
      const events = await p.events();
      assert.deepEqual(events.filter((e) => /sent|sendDtmf: sendDtmf/.test(e)), [], p.diagnostics(events));
      await p.button('Hang up').click();
      await p.waitForText(p.status('Call status'), /^(FINISH|FAILED)$/);
      assert.equal((await sipp.done).code, 0);
    } finally {
      await p.close();
      await sipp.kill();
    }
  });

  it('the form: what was sent, and what is remembered after a reload (everything but the password and the token)', async () => {
    const p = await open('form');
    try {
      const fields: AccountFields = {
        'SIP login': 'alice',
        'Auth name': 'alice',
        Password: 'alice-pw',
        Domain: kamailio.domain,
        'Outbound proxy': kamailio.host,
        Port: String(kamailio.port),
        'App key': APP,
        Token: 'tok-123',
        Register: false,
      };
      await p.connect(fields, { registered: false });
      await p.waitForEvent(/^Not registering/);
      const connection = p.sent('connection')[0]?.data[0] as Record<string, unknown>;
      assert.deepEqual(
        Object.fromEntries(Object.entries(connection).filter(([k]) => k.startsWith('sip') || k === 'appKey' || k === 'custom')),
        {
          appKey: APP,
          sipLogin: 'alice',
          sipAuthenticationName: 'alice',
          sipPassword: 'alice-pw',
          sipDomain: kamailio.domain,
          sipOutboundProxy: kamailio.host,
          sipPort: kamailio.port,
          sipRegisterRequired: false,
          custom: { token: 'tok-123' },
        },
      );
      assert.equal(await p.status('Registration status').textContent(), 'UNREGISTERED');
      await p.button('Disconnect').click();
      await p.waitForText(p.status('Connection status'), 'DISCONNECTED');

      await p.page.reload({ waitUntil: 'load' });
      const { Password, Token, Register, ...remembered } = fields;
      for (const [label, value] of Object.entries(remembered)) assert.equal(await p.field(label).inputValue(), value, label);
      assert.equal(await p.field('Server URL').inputValue(), phone.wsUrl);
      assert.equal(await p.field('Register').isChecked(), Register);
      assert.equal(await p.field('Password').inputValue(), '', 'the password is not remembered');
      assert.equal(await p.field('Token').inputValue(), '', 'the token is not remembered');
      const stored = await p.page.evaluate(() => JSON.stringify(Object.entries(localStorage)));
      for (const secret of [Password, Token]) assert.ok(!stored.includes(String(secret)), `localStorage holds ${secret}: ${stored}`);
      await p.snap('remembered');
    } finally {
      await p.close();
    }
  });
});
