/**
 * The reverse proxy of docs/deploy.md, for real: nginx (the Debian package) runs the nginx block of docs/deploy.md,
 * terminating TLS with a self-signed test certificate in front of `callhook start` (wsHost 127.0.0.1,
 * trustedProxies 127.0.0.1). The official Flashphoner Web SDK in headless Chromium connects through `wss://`,
 * registers on Kamailio and calls baresip, which answers; hanging up ends the call at baresip. The WebSocket went
 * through nginx: its access log has the upgrade (written when the connection ends).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startBaresip, type BaresipInstance } from '../support/baresip.ts';
import { type SdkPageServer, SdkPage, launchChromium, serveSdkPage } from '../support/browser.ts';
import { startCallhookProcess, type CallhookProcess } from '../support/callhook-process.ts';
import { eventually } from '../support/eventually.ts';
import { type KamailioInstance, startKamailio } from '../support/kamailio.ts';
import { startNginxProxy, type NginxProxy } from '../support/nginx.ts';
import { closeAll } from '../support/close-all.ts';

const alice = { username: 'alice', password: 'alice-secret' };
const bobUser = { username: 'bob', password: 'bob-secret' };
const STEP_MS = 15_000;

describe('the SDK in Chromium through nginx (docs/deploy.md) over wss:// registers and calls', { timeout: 180_000 }, () => {
  let kamailio: KamailioInstance;
  let bob: BaresipInstance;
  let server: CallhookProcess;
  let nginx: NginxProxy;
  let browser: Browser;
  let pageServer: SdkPageServer;
  let page: SdkPage;

  before(async () => {
    kamailio = await startKamailio({ users: [alice, bobUser] });
    bob = await startBaresip({ user: bobUser.username, password: bobUser.password, domain: kamailio.domain, outboundProxy: kamailio });
    server = await startCallhookProcess({
      trustedProxies: '127.0.0.1', rtpPortMin: 50000, rtpPortMax: 50999, webrtcPortMin: 51000, webrtcPortMax: 51999,
    });
    nginx = await startNginxProxy(server.wsPort);
    await bob.waitRegistered(STEP_MS);
    // The proxy's certificate is a test one: Chromium takes it as a browser takes a certificate its user accepted.
    browser = await launchChromium(['--ignore-certificate-errors']);
    pageServer = await serveSdkPage();
    page = await SdkPage.open(browser, pageServer);
  });

  after(async () => {
    await closeAll('nginx-proxy test', [
      () => page?.close(),
      () => browser?.close(),
      () => pageServer?.close(),
      () => nginx?.stop(),
      () => server?.stop(),
      () => bob?.stop(),
      () => kamailio?.stop(),
    ]);
  });

  it('connects, registers, calls bob (ESTABLISHED), hangs up (FINISH, bob sees the BYE)', async () => {
    const session = await page.createSession({
      urlServer: nginx.url,
      sipOptions: {
        login: alice.username, authenticationName: alice.username, password: alice.password, domain: kamailio.domain,
        outboundProxy: kamailio.host, port: kamailio.port, registerRequired: true,
      },
    });
    await session.waitForStatus('REGISTERED', STEP_MS);
    const closedAtBob = () => bob.events().filter((e) => e.type === 'CALL_CLOSED').length;
    const callId = await session.call('bob');
    await page.waitForCallStatus(callId, 'ESTABLISHED', STEP_MS);
    await bob.waitForEvent('CALL_ESTABLISHED', STEP_MS, (e) => e.peeruri === `sip:alice@${kamailio.domain}`);
    await page.hangup(callId);
    await page.waitForCallStatus(callId, 'FINISH', STEP_MS);
    await eventually(() => closedAtBob() > 0, STEP_MS, 'bob to see the call end');

    await session.disconnect();
    await session.waitForStatus('DISCONNECTED', STEP_MS);
    // It was nginx that carried the WebSocket: 101 Switching Protocols in its access log.
    const upgraded = await eventually(async () => /"GET \/ HTTP\/1\.1" 101 /.test(await nginx.accessLog()), STEP_MS, 'the upgrade in nginx\'s access log');
    assert.ok(upgraded);
  });
});
