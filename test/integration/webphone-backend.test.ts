/**
 * The web phone with the sample backend (examples/backend/) as its app's REST URL, set up as that README says
 * (an app with a restSecret, every method enabled). The pages know only the app key and a token: the backend's
 * connect hook fills in the SIP account, so no SIP credential reaches the page (checked on every WebSocket frame
 * each page received, in its DOM and its storage). alice calls bob through callhook and Kamailio, bob answers from
 * the banner, audio flows both ways, chat goes both ways, hang-up ends both; a callee outside the backend's
 * allow-list is refused with the backend's reason in the Event log; a bad token is refused with its reason; and
 * the backend's call history lists both calls.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createBackend, type Backend, type CallRecord } from '../../examples/backend/backend.ts';
import { parseBackendData } from '../../examples/backend/config.ts';
import { EventStore } from '../../examples/backend/event-store.ts';
import { launchChromium } from '../support/browser.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { eventually } from '../support/ws-client.ts';
import { PhonePage, startPhoneServer, type PageFrame, type PhoneServer } from '../support/webphone.ts';

const SECRET = 'webphone-backend-secret-1';
const APP = 'sampleApp';
const STEP_MS = 15_000;
/** SIP accounts only the backend knows; the pages know tokens. */
const ACCOUNTS = {
  'tok-alice-9f2': { username: 'u7101', password: 'pw-7101-Hq' },
  'tok-bob-4c8': { username: 'u7102', password: 'pw-7102-Vm' },
};
const ALICE = ACCOUNTS['tok-alice-9f2'];
const BOB = ACCOUNTS['tok-bob-4c8'];

/** Frames about a call or a message: they name the peer (the caller, the sender's address), which is their point. */
const PEER_FRAMES = new Set(['notifyIncomingCall', 'notifyTryingResponse', 'ring', 'talk', 'hold', 'finish', 'notifyMessage']);

describe('the web phone with the sample backend: credentials stay on the server', { timeout: 180_000 }, () => {
  let kamailio: KamailioInstance;
  let phone: PhoneServer;
  let backend: Backend;
  let backendUrl: string;
  let events: EventStore;
  let dir: string;
  let browser: Browser;

  before(async () => {
    kamailio = await startKamailio({ users: Object.values(ACCOUNTS) });
    dir = await mkdtemp(join(tmpdir(), 'callhook-webphone-backend-'));
    events = await EventStore.open(join(dir, 'events.jsonl'));
    const data = parseBackendData(
      {
        users: Object.entries(ACCOUNTS).map(([token, a]) => ({
          token,
          sipLogin: a.username,
          // test/support/kamailio.cfg wants the digest user to be the To user.
          sipAuthenticationName: a.username,
          sipPassword: a.password,
          sipDomain: kamailio.domain,
          sipOutboundProxy: kamailio.host,
          sipPort: kamailio.port,
        })),
        allowedCallees: [BOB.username, ALICE.username],
      },
      'test data',
    );
    backend = createBackend({ secret: SECRET, data, events, log: () => undefined });
    backendUrl = `http://127.0.0.1:${(await backend.listen(0, '127.0.0.1')).port}`;
    phone = await startPhoneServer();
    await phone.server.store.apps.add({ name: 'sample', appKey: APP, url: `${backendUrl}/rest`, restSecret: SECRET });
    await phone.server.store.apps.enableMethod(APP, '*');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await phone?.stop();
    await backend?.close();
    await kamailio?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('a call and chat with only an app key and a token on the page; a forbidden callee; the call history', async () => {
    const alice = await PhonePage.open(browser, phone.pageUrl, 'backend-alice');
    const bob = await PhonePage.open(browser, phone.pageUrl, 'backend-bob', { width: 390, height: 844 });
    try {
      // A wrong token first: refused with the backend's reason.
      await alice.fill({ 'App key': APP, Token: 'not-a-token' });
      await alice.button('Connect').click();
      await alice.waitForText(alice.status('Connection status'), 'FAILED');
      await alice.waitForEvent('connect refused: Unknown or missing token');
      await alice.snap('bad-token');

      await alice.connect({ 'App key': APP, Token: 'tok-alice-9f2' }, { registered: true });
      await bob.connect({ 'App key': APP, Token: 'tok-bob-4c8' }, { registered: true });
      const bindings = await kamailio.waitForLocations((b) => b.length === 2, STEP_MS);
      assert.deepEqual(bindings.map((b) => b.aor).sort(), [ALICE.username, BOB.username], 'registered with the accounts the backend chose');
      for (const p of [alice, bob]) await p.snap('registered');

      // alice calls bob; he answers from the banner; audio both ways; she hangs up.
      await alice.field('Callee').fill(BOB.username);
      await alice.button('Call').click();
      await bob.incomingBanner.waitFor({ state: 'visible' });
      await bob.snap('ringing');
      await bob.incomingBanner.getByRole('button', { name: 'Answer', exact: true }).click();
      for (const p of [alice, bob]) await p.waitForText(p.status('Call status'), 'ESTABLISHED');
      for (const p of [alice, bob]) await p.waitForAudioBothWays(50);
      const answeredCallId = await alice.callId();
      assert.ok(answeredCallId !== undefined);
      for (const p of [alice, bob]) await p.snap('talking');

      // Chat both ways while talking: message frames are among those checked below.
      await alice.field('Message to').fill(BOB.username);
      await alice.field('Message').fill('Are you there?');
      await alice.button('Send').click();
      await alice.waitForText(alice.messages.getByRole('listitem').filter({ hasText: 'Are you there?' }), / ACCEPTED$/);
      await bob.waitForText(bob.messages.getByRole('listitem').filter({ hasText: 'Are you there?' }), / RECEIVED$/);
      await bob.field('Message').fill('Yes');
      await bob.button('Send').click();
      await bob.waitForText(bob.messages.getByRole('listitem').filter({ hasText: 'Yes' }), / ACCEPTED$/);
      await alice.waitForText(alice.messages.getByRole('listitem').filter({ hasText: 'Yes' }), / RECEIVED$/);

      await alice.button('Hang up').click();
      for (const p of [alice, bob]) await p.waitForText(p.status('Call status'), 'FINISH');
      for (const p of [alice, bob]) await p.snap('hung-up');

      // A callee outside the allow-list: the backend's reason, as the person sees it.
      await alice.field('Callee').fill('999');
      await alice.button('Call').click();
      await alice.waitForText(alice.status('Call status'), 'FAILED');
      await alice.waitForEvent('CallStatusEvent FAILED: Calls to 999 are not allowed');
      assert.equal((await alice.events()).filter((e) => e.includes('Calls to 999')).length, 1, 'the reason shows once');
      const refusedCallId = await alice.callId();
      await alice.snap('callee-refused');

      // The backend's history lists both calls.
      const history = async () => ((await (await fetch(`${backendUrl}/history`)).json()) as { calls: CallRecord[] }).calls;
      const record = async (callId: string | undefined) => (await history()).find((c) => c.callId === callId);
      await eventually(async () => (await record(answeredCallId))?.status === 'FINISH', STEP_MS, 'the answered call in the history, FINISH');
      await eventually(async () => (await record(refusedCallId))?.status === 'FAILED', STEP_MS, 'the refused call in the history, FAILED');
      const answered = (await record(answeredCallId))!;
      assert.deepEqual([answered.caller, answered.callee, answered.incoming], [ALICE.username, BOB.username, false]);
      assert.ok(answered.answeredAt !== undefined && answered.endedAt !== undefined && answered.answeredAt <= answered.endedAt);
      const refused = (await record(refusedCallId))!;
      assert.deepEqual([refused.status, refused.info, refused.callee], ['FAILED', 'Calls to 999 are not allowed', '999']);
      assert.equal(refused.answeredAt, undefined);

      for (const p of [alice, bob]) {
        await p.button('Disconnect').click();
        await p.waitForText(p.status('Connection status'), 'DISCONNECTED');
      }
      await kamailio.waitForLocations((b) => b.length === 0, STEP_MS);

      // No SIP credential reached either page: not in any frame, not on screen, not in storage.
      const passwords = Object.values(ACCOUNTS).map((a) => a.password);
      for (const [p, own] of [
        [alice, ALICE],
        [bob, BOB],
      ] as const) {
        const connection = p.sent('connection').at(-1)?.data[0] as Record<string, unknown>;
        assert.deepEqual(Object.keys(connection).filter((k) => k.startsWith('sip')), ['sipRegisterRequired'], 'the page sent no SIP account');
        assert.deepEqual(connection['custom'], { token: Object.entries(ACCOUNTS).find(([, a]) => a === own)![0] });
        const received = p.frames.filter((f) => f.direction === 'received');
        assert.ok(received.some((f) => f.message === 'registered') && received.some((f) => f.message === 'notifyMessage'));
        for (const frame of received) {
          // Every frame: no password at all. Frames about the connection and registration: not even the page's
          // own login, the SIP domain or the proxy's address; call and message frames name the peer, as they must.
          const secrets = PEER_FRAMES.has(frame.message) ? passwords : [...passwords, own.username, kamailio.domain, `${kamailio.host}:${kamailio.port}`];
          for (const secret of secrets) assert.ok(!frame.raw.includes(secret), `${p.prefix}: a ${frame.message} frame carries ${secret}: ${frame.raw}`);
        }
        assert.ok(!sipMessageRawIn(received), `${p.prefix}: a frame carries raw SIP`);
        const page = await p.page.evaluate(() => [document.documentElement.outerHTML, document.body.innerText, JSON.stringify(Object.entries(localStorage))].join('\n'));
        for (const secret of [...passwords, own.username]) assert.ok(!page.includes(secret), `${p.prefix}: the page shows or stores ${secret}`);
      }
      for (const p of [alice, bob]) assert.deepEqual(p.consoleErrors(), [], `${p.prefix}: no error in the console`);
    } catch (err) {
      throw new Error(`${String(err)}\n--- alice\n${alice.diagnostics(await alice.events())}\n--- bob\n${bob.diagnostics(await bob.events())}`, { cause: err });
    } finally {
      await alice.close();
      await bob.close();
    }
  });
});

/** Whether any frame carries `sipMessageRaw` (the backend's restClientConfig keeps raw SIP off the page). */
function sipMessageRawIn(frames: readonly PageFrame[]): boolean {
  return frames.some((f) => f.raw.includes('"sipMessageRaw"'));
}
