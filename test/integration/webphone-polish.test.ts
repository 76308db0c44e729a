/**
 * The web phone as a new user meets it (issue 16): a failed registration says why in the Account card itself and
 * leaves the form open to fix the password and Connect again; Escape declines the Incoming call banner; the Event
 * log and Messages scroll by keyboard; at 390 px the idle page shows the statuses and the dialer before the form.
 * Real peers: the test Kamailio, two pages in headless Chromium with fake media. Screenshots: test-artifacts/webphone/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { eventually } from '../support/ws-client.ts';
import { PhonePage, startPhoneServer, type AccountFields, type PhoneServer } from '../support/webphone.ts';

const USERS = [
  { username: 'carol', password: 'carol-pw' },
  { username: 'dave', password: 'dave-pw' },
];
const STEP_MS = 15_000;
const PHONE = { width: 390, height: 844 };

describe('the web phone, polished: what a new user runs into', { timeout: 120_000 }, () => {
  let kamailio: KamailioInstance;
  let phone: PhoneServer;
  let browser: Browser;
  const pages: PhonePage[] = [];

  async function open(prefix: string, viewport?: { width: number; height: number }): Promise<PhonePage> {
    const page = await PhonePage.open(browser, phone.pageUrl, prefix, viewport);
    pages.push(page);
    return page;
  }

  const account = (user: string, password = USERS.find((u) => u.username === user)!.password): AccountFields => ({
    'SIP login': user,
    Password: password,
    Domain: kamailio.domain,
    'Outbound proxy': kamailio.host,
    Port: String(kamailio.port),
  });

  before(async () => {
    kamailio = await startKamailio({ users: USERS });
    phone = await startPhoneServer();
    browser = await launchChromium();
  });
  after(async () => {
    for (const p of pages.splice(0)) await p.close().catch(() => undefined);
    await browser?.close();
    await phone?.stop();
    await kamailio?.stop();
  });

  it('a wrong password: the Account card says why and stays open; fixing it and pressing Connect registers', async () => {
    const p = await open('polish-registration');
    await p.fill(account('carol', 'not-the-password'));
    await p.button('Connect').click();
    await p.waitForText(p.status('Registration status'), 'FAILED');
    const card = p.page.getByRole('region', { name: 'Account' });
    const problem = card.getByRole('alert');
    await p.waitForText(problem, /^Registration failed: SIP 40[13] .*Correct the account below and press Connect again\.$/);
    assert.equal(await p.field('Password').isEditable(), true, 'the password can be corrected in place');
    await p.snap('registration-failed-in-card');

    await p.field('Password').fill('carol-pw');
    await p.button('Connect').click();
    await p.waitForText(p.status('Registration status'), 'REGISTERED');
    assert.equal(await problem.isVisible(), false, 'the reason goes once registered');
    assert.equal(await p.field('Password').isVisible(), false, 'the form folds into its summary line again');
    await p.button('Disconnect').click();
    await p.waitForText(p.status('Connection status'), 'DISCONNECTED');
  });

  it('Escape declines the Incoming call banner; the caller hears it as BUSY', async () => {
    const carol = await open('polish-escape-carol');
    const dave = await open('polish-escape-dave');
    await carol.connect(account('carol'), { registered: true });
    await dave.connect(account('dave'), { registered: true });
    await carol.field('Callee').fill('dave');
    await carol.button('Call').click();
    await dave.incomingBanner.waitFor({ timeout: STEP_MS });
    await dave.page.keyboard.press('Escape');
    await eventually(async () => !(await dave.incomingBanner.isVisible()), STEP_MS, 'the banner to close');
    await dave.waitForEvent(/^Declined the call from /);
    await carol.waitForText(carol.status('Call status'), /^(BUSY|FINISH|FAILED)$/);
  });

  it('the Event log and Messages scroll with the keyboard', async () => {
    const p = await open('polish-keyboard', { width: 1280, height: 500 });
    // Each connection and its end add five lines: enough to overflow the log.
    for (let i = 0; i < 3; i++) {
      await p.connect(account('carol'), { registered: true });
      await p.button('Disconnect').click();
      await p.waitForText(p.status('Connection status'), 'DISCONNECTED');
    }
    for (const log of [p.eventLog, p.messages]) {
      await log.focus();
      assert.equal(await log.evaluate((el) => document.activeElement === el), true, `${await log.getAttribute('aria-label')} takes the keyboard focus`);
    }
    const events = p.eventLog;
    await events.focus();
    await events.evaluate((el) => el.scrollTo(0, 0));
    const overflows = await events.evaluate((el) => el.scrollHeight > el.clientHeight);
    assert.ok(overflows, 'the Event log overflows');
    await p.page.keyboard.press('End');
    await eventually(async () => (await events.evaluate((el) => el.scrollTop)) > 0, STEP_MS, 'End to scroll the Event log');
  });

  it('at 390 px the idle page shows the statuses and the dialer first, within the first screen', async () => {
    const p = await open('polish-compact', PHONE);
    await p.snap('compact-idle');
    const callee = await p.field('Callee').boundingBox();
    const dialKey = await p.page.getByRole('group', { name: 'Dial pad' }).getByRole('button', { name: '0', exact: true }).boundingBox();
    const registration = await p.status('Registration status').boundingBox();
    const server = await p.field('Server URL').boundingBox();
    assert.ok(registration !== null && registration.y + registration.height <= PHONE.height, 'Registration status on the first screen');
    assert.ok(callee !== null && dialKey !== null, 'Callee and the dial pad are shown');
    assert.ok(dialKey.y + dialKey.height <= PHONE.height, `the dial pad ends within the first screen (at ${Math.round(dialKey.y + dialKey.height)} px)`);
    assert.ok(server !== null && callee.y < server.y, 'the dialer comes before the account form');
    await p.assertFitsWidth(PHONE.width);
  });
});
