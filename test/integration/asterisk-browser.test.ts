/**
 * Real client, real browser, real PBX: the official Flashphoner Web SDK 2.0 in headless Chromium (fake microphone)
 * registered through callhook (its own process) on a real Asterisk 22. A call to Echo(): the browser's getStats()
 * shows audio going out and coming back. A call Asterisk originates to alice's Contact: INCOMING_CALL with the
 * caller ID and alice as the callee, answered, audio both ways, hung up in the SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startAsterisk, type AsteriskInstance } from '../support/asterisk.ts';
import { type SdkPageServer, type SdkSession, SdkPage, launchChromium, serveSdkPage } from '../support/browser.ts';
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { eventually } from '../support/eventually.ts';

const ALICE = { username: 'alice', password: 'alice-pw' };
const STEP_MS = 15_000;

describe('the official SDK in headless Chromium, through callhook, on Asterisk', { timeout: 180_000 }, () => {
  let asterisk: AsteriskInstance;
  let callhook: CallhookProcess;
  let browser: Browser;
  let pageServer: SdkPageServer;
  let page: SdkPage;

  before(async () => {
    asterisk = await startAsterisk({ endpoints: [ALICE] });
    callhook = await startCallhookProcess();
    browser = await launchChromium();
    pageServer = await serveSdkPage();
    page = await SdkPage.open(browser, pageServer);
  });

  after(async () => {
    await page?.close();
    await browser?.close();
    await pageServer?.close();
    await callhook?.stop();
    await asterisk?.stop();
  });

  async function registeredSession(): Promise<SdkSession> {
    const session = await page.createSession({
      urlServer: callhook.wsUrl,
      sipOptions: {
        login: ALICE.username, authenticationName: ALICE.username, password: ALICE.password, domain: asterisk.host,
        outboundProxy: asterisk.host, port: asterisk.port, registerRequired: true,
      },
    });
    await session.waitForStatus('REGISTERED', STEP_MS);
    return session;
  }

  /** The browser's audio counters must grow by 30 both ways (0.6 s at 50 packets/s) within five seconds. */
  const assertAudioFlows = (callId: string): Promise<void> => page.waitForAudioBothWays(callId, 30, 5000);

  /** Runs `step`; on failure adds the browser console and the tail of Asterisk's log. */
  async function explained<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      throw new Error(`${String(err)}\nbrowser console:\n${page.consoleLines().join('\n')}\nasterisk log:\n${asterisk.logs().slice(-6000)}`, { cause: err });
    }
  }

  it('a call to Echo(): ESTABLISHED, the browser hears itself (getStats both ways), hangup() → FINISH', async () => {
    const session = await registeredSession();
    const callId = await session.call('echo');
    await explained(() => page.waitForCallStatus(callId, 'ESTABLISHED', STEP_MS));
    await explained(() => assertAudioFlows(callId));
    assert.deepEqual((await asterisk.channels()).map((c) => c.application), ['Echo']);
    await page.hangup(callId);
    await page.waitForCallStatus(callId, 'FINISH', STEP_MS);
    await eventually(async () => (await asterisk.channels()).length === 0, STEP_MS, 'the channel to end at Asterisk');
    await session.disconnect();
    await session.waitForStatus('DISCONNECTED', STEP_MS);
  });

  it('Asterisk calls alice: INCOMING_CALL with the caller ID and callee alice; answered, audio both ways; hangup() → FINISH', async () => {
    const session = await registeredSession();
    await asterisk.waitFor(() => asterisk.contacts(), (c) => c.length === 1, STEP_MS, 'alice registered');
    await asterisk.originate('alice', { callerIdNumber: '5550300', callerIdName: 'Front Desk' });
    const incoming = await explained(() => session.waitForStatus('INCOMING_CALL', STEP_MS));
    const { callId, caller, callee } = incoming.data as { callId: string; caller: string; callee: string };
    assert.deepEqual([caller, callee], ['5550300', 'alice']);
    await page.answer(callId);
    await explained(() => page.waitForCallStatus(callId, 'ESTABLISHED', STEP_MS));
    await explained(() => assertAudioFlows(callId));
    await page.hangup(callId);
    await page.waitForCallStatus(callId, 'FINISH', STEP_MS);
    assert.equal(await asterisk.waitFor(() => asterisk.dialStatus('alice'), (s) => s !== undefined, STEP_MS, 'DIALSTATUS'), 'ANSWER');
    await session.disconnect();
    await session.waitForStatus('DISCONNECTED', STEP_MS);
  });
});
