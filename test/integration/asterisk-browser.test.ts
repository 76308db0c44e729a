/**
 * Real client, real browser, real PBX: the official Flashphoner Web SDK 2.0 in headless Chromium (fake microphone)
 * registered through callhook (its own process) on a real Asterisk 22. A call to Echo(): the browser's getStats()
 * shows audio going out and coming back. A call Asterisk originates to alice's Contact: INCOMING_CALL with the
 * caller ID and alice as the callee, answered, audio both ways, hung up in the SDK. Each over UDP, TCP and TLS
 * against the one Asterisk: the SDK has no transport option, so the app's connect hook sets `sipTransport` (and the
 * TLS port), as a WCS backend supplies the SIP account.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { ASTERISK_TRANSPORTS, BENCH_APP, startAsteriskBench, type AsteriskBench, type AsteriskTransport } from '../support/asterisk-bench.ts';
import type { AsteriskInstance } from '../support/asterisk.ts';
import { type SdkPageServer, type SdkSession, SdkPage, launchChromium, serveSdkPage } from '../support/browser.ts';
import { eventually } from '../support/eventually.ts';

const ALICE = { username: 'alice', password: 'alice-pw' };
const STEP_MS = 15_000;

describe('the official SDK in headless Chromium, through callhook, on Asterisk', { timeout: 360_000 }, () => {
  let bench: AsteriskBench;
  let asterisk: AsteriskInstance;
  let browser: Browser;
  let pageServer: SdkPageServer;
  let page: SdkPage;

  before(async () => {
    bench = await startAsteriskBench({ endpoints: [ALICE], tls: true });
    asterisk = bench.asterisk;
    browser = await launchChromium();
    pageServer = await serveSdkPage();
    page = await SdkPage.open(browser, pageServer);
  });

  after(async () => {
    await page?.close();
    await browser?.close();
    await pageServer?.close();
    await bench?.stop();
  });
  afterEach(() => bench.settle());

  async function registeredSession(transport: AsteriskTransport): Promise<SdkSession> {
    const sipPort = transport === 'tls' ? bench.tlsPort : asterisk.port;
    bench.backend.responder = (req) => (req.hook === 'connect' ? { kind: 'json', body: { ...req.json, sipTransport: transport, sipPort } } : { kind: 'echo' });
    const session = await page.createSession({
      urlServer: bench.callhook.wsUrl,
      appKey: BENCH_APP,
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

  for (const transport of ASTERISK_TRANSPORTS) {
    describe(`over ${transport.toUpperCase()}`, () => {
      /** Asterisk's log entry of a request it received (`Received`) or sent (`Transmitting`) over this transport. */
      const over = (direction: 'Received' | 'Transmitting', start: string) =>
        new RegExp(`${direction} SIP request \\(\\d+ bytes\\) (from|to) ${transport.toUpperCase()}:127\\.0\\.0\\.1:\\d+ --->\\n${start}`);

      it('a call to Echo(): ESTABLISHED, the browser hears itself (getStats both ways), hangup() → FINISH', async () => {
        const session = await registeredSession(transport);
        const callId = await session.call('echo');
        await explained(() => page.waitForCallStatus(callId, 'ESTABLISHED', STEP_MS));
        await explained(() => assertAudioFlows(callId));
        assert.deepEqual((await asterisk.channels()).map((c) => c.application), ['Echo']);
        assert.match(asterisk.logs(), over('Received', 'INVITE sip:echo@'));
        await page.hangup(callId);
        await page.waitForCallStatus(callId, 'FINISH', STEP_MS);
        await eventually(async () => (await asterisk.channels()).length === 0, STEP_MS, 'the channel to end at Asterisk');
        await session.disconnect();
        await session.waitForStatus('DISCONNECTED', STEP_MS);
      });

      it('Asterisk calls alice: INCOMING_CALL with the caller ID and callee alice; answered, audio both ways; hangup() → FINISH', async () => {
        const session = await registeredSession(transport);
        await asterisk.waitFor(() => asterisk.contacts(), (c) => c.length === 1, STEP_MS, 'alice registered');
        await asterisk.originate('alice', { callerIdNumber: '5550300', callerIdName: 'Front Desk' });
        const incoming = await explained(() => session.waitForStatus('INCOMING_CALL', STEP_MS));
        const { callId, caller, callee } = incoming.data as { callId: string; caller: string; callee: string };
        assert.deepEqual([caller, callee], ['5550300', 'alice']);
        assert.match(asterisk.logs(), over('Transmitting', 'INVITE sip:'));
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
  }
});
