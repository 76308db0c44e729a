/**
 * Real client, real browser (issue 4): the official Flashphoner Web SDK 2.0, unchanged, in headless Chromium,
 * against callhook started in-process with `defaultApp` (its hooks answered by the built-in EchoApp, so no
 * backend) and the test Kamailio as registrar. What the SDK does with each frame is docs/sdk-compatibility.md.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createLogger } from '../../src/log.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import {
  type SdkPageServer,
  type SdkSession,
  type SdkSipOptions,
  SdkPage,
  launchChromium,
  serveSdkPage,
} from '../support/browser.ts';
import { type KamailioInstance, type LocationBinding, startKamailio } from '../support/kamailio.ts';
import { LOOPBACK, freePort } from '../support/ports.ts';
import { closeAll } from '../support/close-all.ts';

const alice = { username: 'alice', password: 'alice-secret' };
const STEP_MS = 10_000; // each SDK status or Kamailio state; a REGISTER round trip on loopback takes milliseconds
const SERVER_LOG_LIMIT = 200;

const hasAlice = (bindings: LocationBinding[]) => bindings.some((b) => b.aor === alice.username);

describe('the official Flashphoner Web SDK in headless Chromium', { timeout: 120_000 }, () => {
  let kamailio: KamailioInstance;
  let dataDir: string;
  let server: RunningServer;
  let browser: Browser;
  let pageServer: SdkPageServer;
  let page: SdkPage;
  const serverLog: string[] = [];

  before(async () => {
    kamailio = await startKamailio({ users: [alice] });
    dataDir = await mkdtemp(join(tmpdir(), 'callhook-browser-sdk-'));
    server = await startServer({
      overrides: {
        wsPort: 0,
        wsHost: LOOPBACK,
        adminPort: 0,
        sipPort: await freePort('both'),
        sipTransport: 'udp',
        localIp: LOOPBACK,
        dataDir,
      },
      handleSignals: false,
      // Kept in memory and shown when a step times out.
      logger: createLogger('debug', {
        write: (line: string) => {
          serverLog.push(line);
          if (serverLog.length > SERVER_LOG_LIMIT) serverLog.shift();
        },
      }),
    });
    browser = await launchChromium();
    pageServer = await serveSdkPage();
    page = await SdkPage.open(browser, pageServer);
  });

  after(async () => {
    await closeAll('browser-sdk test', [
      () => page?.close(),
      () => browser?.close(),
      () => pageServer?.close(),
      () => server?.close(),
      () => kamailio?.stop(),
      () => (dataDir === undefined ? undefined : rm(dataDir, { recursive: true, force: true })),
    ]);
  });

  function sipOptions(password: string): SdkSipOptions {
    return {
      login: alice.username,
      authenticationName: alice.username,
      password,
      domain: kamailio.domain,
      outboundProxy: kamailio.host,
      port: kamailio.port,
      registerRequired: true,
    };
  }

  function connect(sip: SdkSipOptions): Promise<SdkSession> {
    return page.createSession({ urlServer: `ws://${LOOPBACK}:${server.wsPort}`, sipOptions: sip });
  }

  /** Runs `step`; on failure adds the tail of callhook's log to the error. */
  async function withServerLog<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      throw new Error(`${String(err)}\ncallhook log (last lines):\n${serverLog.slice(-40).join('')}`, { cause: err });
    }
  }

  test('Flashphoner.init found WebRTC', () => {
    assert.ok(page.mediaProviders.includes('WebRTC'), `providers: ${page.mediaProviders.join(', ')}`);
  });

  test('createSession reaches ESTABLISHED then REGISTERED, and disconnect() unregisters', async () => {
    const session = await connect(sipOptions(alice.password));

    const established = await withServerLog(() => session.waitForStatus('ESTABLISHED', STEP_MS));
    await withServerLog(() => session.waitForStatus('REGISTERED', STEP_MS));
    assert.deepEqual(
      (await session.events()).map((e) => e.status),
      ['CONNECTED', 'ESTABLISHED', 'REGISTERED'],
    );

    // getUserData becomes the SDK's view of the connection (docs/sdk-compatibility.md): it names the SIP user,
    // carries the session id and token, and never the password.
    const userData = established.data as Record<string, unknown>;
    assert.equal(userData.sipLogin, alice.username);
    assert.equal(userData.status, 'ESTABLISHED');
    assert.match(String(userData.sessionId), /^\/127\.0\.0\.1:\d+\/127\.0\.0\.1:\d+$/);
    assert.equal(typeof userData.authToken, 'string');
    assert.ok(!('sipPassword' in userData), 'getUserData carries sipPassword');
    for (const { frame } of session.frames.filter((f) => f.direction === 'received')) {
      const text = JSON.stringify(frame);
      assert.ok(!text.includes(alice.password), `a server frame carries the password: ${text}`);
    }
    assert.equal(session.framesNamed('sent', 'connection').length, 1);

    const bindings = await kamailio.waitForLocations(hasAlice, STEP_MS);
    const binding = bindings.find((b) => b.aor === alice.username);
    assert.match(binding?.contact ?? '', /^sip:[^@]+@127\.0\.0\.1:\d+/);
    assert.equal(binding?.socket, `udp:${LOOPBACK}:${kamailio.port}`);

    await session.disconnect();
    await session.waitForStatus('DISCONNECTED', STEP_MS);
    assert.equal(await session.status(), 'DISCONNECTED');
    await withServerLog(() => kamailio.waitForLocations((b) => !hasAlice(b), STEP_MS));

    // Signalling only: no peer connection, so no ICE candidate was ever gathered (browser.ts, "WebRTC and ICE").
    assert.equal(await page.peerConnectionCount(), 0);
  });

  test('a wrong password is reported to the SDK as a RegistrationStatusEvent fail naming the SIP status', async () => {
    const session = await connect(sipOptions('not-the-password'));

    await withServerLog(() => session.waitForStatus('ESTABLISHED', STEP_MS));
    // SDK 2.0 has no registration-failure status: a `fail` frame reaches the application as WARN.
    const warn = await withServerLog(() => session.waitForStatus('WARN', STEP_MS));
    const fail = warn.data as Record<string, unknown>;
    assert.equal(fail.apiMethod, 'RegistrationStatusEvent');
    assert.equal(fail.status, 'FAILED');
    // test/support/kamailio.cfg challenges a wrong digest again: 401 is the final answer.
    assert.match(String(fail.info), /\b401\b/);

    const statuses = (await session.events()).map((e) => e.status);
    assert.ok(!statuses.includes('REGISTERED'), `statuses: ${statuses.join(', ')}`);
    assert.equal(await session.status(), 'ESTABLISHED');
    assert.ok(!hasAlice(await kamailio.locations()), 'Kamailio holds a binding for alice');

    await session.disconnect();
    await session.waitForStatus('DISCONNECTED', STEP_MS);
  });

  test('the SDK demo phone\'s option shapes register too: port as a string, a blank authentication name', async () => {
    // examples/demo/sip/phone reads every field from an <input>: strings, and "" for what was left blank.
    const demoPhoneOptions = { ...sipOptions(alice.password), authenticationName: '', port: String(kamailio.port) };
    const session = await connect(demoPhoneOptions);
    await withServerLog(() => session.waitForStatus('REGISTERED', STEP_MS));
    await kamailio.waitForLocations(hasAlice, STEP_MS);
    await session.disconnect();
    await session.waitForStatus('DISCONNECTED', STEP_MS);
    await withServerLog(() => kamailio.waitForLocations((b) => !hasAlice(b), STEP_MS));
  });
});
