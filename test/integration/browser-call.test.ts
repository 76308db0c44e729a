/**
 * Real client, real browser, real phone (issue 5): the official Flashphoner Web SDK 2.0, unchanged, in headless
 * Chromium with a fake microphone, calls through callhook (in-process, defaultApp answered by EchoApp) and the test
 * Kamailio to baresip, which answers by itself and sends a tone — and answers a call baresip makes. The browser's
 * own getStats() must show audio flowing both ways; hanging up in the SDK must end the call at baresip.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createLogger } from '../../src/log.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { startBaresip, type BaresipInstance } from '../support/baresip.ts';
import { eventually } from '../support/eventually.ts';
import { type SdkPageServer, type SdkSession, SdkPage, launchChromium, serveSdkPage } from '../support/browser.ts';
import { type KamailioInstance, startKamailio } from '../support/kamailio.ts';
import { LOOPBACK, freePort } from '../support/ports.ts';
import { closeAll } from '../support/close-all.ts';

const alice = { username: 'alice', password: 'alice-secret' };
const bobUser = { username: 'bob', password: 'bob-secret' };
const STEP_MS = 15_000;
const SERVER_LOG_LIMIT = 300;

// Both WebRTC engines face the real browser: libdatachannel (the default, a full ICE agent) and werift (ICE-lite).
for (const webrtcEngine of ['libdatachannel', 'werift', 'native'] as const) describe(`the official SDK in headless Chromium makes and answers calls to and from baresip (${webrtcEngine})`, { timeout: 180_000 }, () => {
  let kamailio: KamailioInstance;
  let bob: BaresipInstance;
  let dataDir: string;
  let server: RunningServer;
  let browser: Browser;
  let pageServer: SdkPageServer;
  let page: SdkPage;
  const serverLog: string[] = [];

  before(async () => {
    kamailio = await startKamailio({ users: [alice, bobUser] });
    bob = await startBaresip({ user: bobUser.username, password: bobUser.password, domain: kamailio.domain, outboundProxy: kamailio });
    dataDir = await mkdtemp(join(tmpdir(), 'callhook-browser-call-'));
    server = await startServer({
      overrides: {
        wsPort: 0,
        wsHost: LOOPBACK,
        adminPort: 0,
        sipPort: await freePort('both'),
        localIp: LOOPBACK,
        rtpPortMin: 44000,
        rtpPortMax: 44999,
        webrtcPortMin: 45000,
        webrtcPortMax: 45999,
        webrtcEngine,
        dataDir,
      },
      handleSignals: false,
      logger: createLogger('debug', {
        write: (line: string) => {
          serverLog.push(line);
          if (serverLog.length > SERVER_LOG_LIMIT) serverLog.shift();
        },
      }),
    });
    await bob.waitRegistered(STEP_MS);
    browser = await launchChromium();
    pageServer = await serveSdkPage();
    page = await SdkPage.open(browser, pageServer);
  });

  after(async () => {
    await closeAll('browser-call test', [
      () => page?.close(),
      () => browser?.close(),
      () => pageServer?.close(),
      () => server?.close(),
      () => bob?.stop(),
      () => kamailio?.stop(),
      () => (dataDir === undefined ? undefined : rm(dataDir, { recursive: true, force: true })),
    ]);
  });

  async function registeredSession(): Promise<SdkSession> {
    const session = await page.createSession({
      urlServer: `ws://${LOOPBACK}:${server.wsPort}`,
      sipOptions: {
        login: alice.username, authenticationName: alice.username, password: alice.password, domain: kamailio.domain,
        outboundProxy: kamailio.host, port: kamailio.port, registerRequired: true,
      },
    });
    await session.waitForStatus('REGISTERED', STEP_MS);
    return session;
  }

  /** Runs `step`; on failure adds the tail of callhook's log to the error. */
  async function withServerLog<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      throw new Error(`${String(err)}\ncallhook log (last lines):\n${serverLog.slice(-60).join('')}`, { cause: err });
    }
  }

  /** The browser's audio counters must grow by 30 both ways (0.6 s of audio at 50 packets/s) within three seconds. */
  const assertAudioFlows = (callId: string): Promise<void> => page.waitForAudioBothWays(callId, 30, 3000);

  const closedAtBob = () => bob.events().filter((e) => e.type === 'CALL_CLOSED').length;

  test('createCall({callee: "bob"}).call(): ESTABLISHED, audio both ways in getStats(), hangup() → FINISH and bob sees the BYE', async () => {
    const session = await registeredSession();
    const callId = await session.call('bob');
    const closedBefore = closedAtBob();
    await withServerLog(() => page.waitForCallStatus(callId, 'ESTABLISHED', STEP_MS));
    await bob.waitForEvent('CALL_ESTABLISHED', STEP_MS, (e) => e.peeruri === `sip:alice@${kamailio.domain}`);
    await withServerLog(() => assertAudioFlows(callId));
    await bob.waitForEvent('CALL_RTPESTAB', STEP_MS, (e) => e.peeruri === `sip:alice@${kamailio.domain}`);
    await page.hangup(callId);
    await withServerLog(() => page.waitForCallStatus(callId, 'FINISH', STEP_MS));
    await eventually(() => closedAtBob() > closedBefore, STEP_MS, 'bob to see the call end');
    const statuses = await page.callStatuses(callId);
    assert.ok(statuses.indexOf('ESTABLISHED') < statuses.indexOf('FINISH'), statuses.join(', '));
    assert.ok(!statuses.includes('FAILED'), statuses.join(', '));
    // Its detail record counts the packets and the loss each way; on loopback nothing is lost.
    const record = await eventually(async () => (await server.store.callRecords.query()).find((r) => r.callId === callId && r.endedAt !== null), STEP_MS, 'the call\'s closed record');
    assert.ok(record.packetsToSip! >= 30 && record.packetsToBrowser! >= 30, JSON.stringify(record));
    assert.deepEqual([record.lostFromBrowser, record.lostFromSip], [0, 0]);
    await session.disconnect();
    await session.waitForStatus('DISCONNECTED', STEP_MS);
  });

  test('bob calls alice: INCOMING_CALL, answer(), ESTABLISHED with audio both ways; hangup() → FINISH at both ends', async () => {
    const session = await registeredSession();
    await bob.command('dial', `sip:alice@${kamailio.domain}`);
    const incoming = await withServerLog(() => session.waitForStatus('INCOMING_CALL', STEP_MS));
    const { callId, caller } = incoming.data as { callId: string; caller: string };
    assert.equal(caller, 'bob');
    // setRemoteSDP before notifyIncomingCall, or answer() would throw "No remote sdp available".
    const received = session.frames.filter((f) => f.direction === 'received' && typeof f.frame !== 'string').map((f) => (f.frame as { message?: unknown }).message);
    assert.ok(received.indexOf('setRemoteSDP') < received.indexOf('notifyIncomingCall'), received.join(', '));
    const closedBefore = closedAtBob();
    await page.answer(callId);
    await withServerLog(() => page.waitForCallStatus(callId, 'ESTABLISHED', STEP_MS));
    await withServerLog(() => assertAudioFlows(callId));
    await page.hangup(callId);
    await withServerLog(() => page.waitForCallStatus(callId, 'FINISH', STEP_MS));
    await eventually(() => closedAtBob() > closedBefore, STEP_MS, 'bob to see the call end');
    await session.disconnect();
    await session.waitForStatus('DISCONNECTED', STEP_MS);
    assert.deepEqual(server.gateway.calls(), []);
  });
});
