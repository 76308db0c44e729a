/**
 * The admin console (console/, docs/console.md) on the admin port of an in-process callhook, in Debian's headless
 * Chromium, driven only by the accessible names of the issue's contract. Real peers throughout: a recording HTTP
 * backend for the hooks (and one that answers 500), Kamailio as registrar and proxy, a sipp UAS that answers and
 * echoes RTP (bound in Kamailio's location table as `echo`), and the werift test client as the browser session.
 *
 * Screenshots of every page at 1280 and 390 px go to test-artifacts/console/ (git-ignored); docs/console/ holds
 * the ones picked for the docs.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { buildConsole } from '../../console/build.ts';
import { TestBackend } from '../support/backend.ts';
import { launchChromium } from '../support/browser.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { freePort } from '../support/ports.ts';
import { runSipp, scenarioFile, type SippProcess } from '../support/sipp.ts';
import { WebRtcClient, type ClientCall } from '../support/webrtc-client.ts';
import { eventually, startTestServer, type TestServer } from '../support/ws-client.ts';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/console/', import.meta.url));
const USERS = [{ username: 'alice', password: 'alice-pw' }];
const APP = 'consoleApp';
/** Its backend answers every hook 500 with a reason in the body. */
const BROKEN_APP = 'brokenApp';
const STEP_MS = 15_000;
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const RED = 'rgb(198, 40, 40)';

describe('the admin console in Chromium', { timeout: 240_000 }, () => {
  let kamailio: KamailioInstance;
  let sipp: SippProcess;
  let backend: TestBackend;
  let ts: TestServer;
  let browser: Browser;
  let page: Page;
  const clients: WebRtcClient[] = [];

  const consoleUrl = () => `${ts.server.adminUrl}/`;

  async function snap(name: string): Promise<void> {
    for (const [width, viewport] of [['1280', DESKTOP], ['390', PHONE]] as const) {
      await page.setViewportSize(viewport);
      await page.screenshot({ path: `${ARTIFACTS}${name}-${width}.png`, fullPage: true });
    }
    await page.setViewportSize(DESKTOP);
  }

  async function signIn(): Promise<void> {
    await page.goto(consoleUrl());
    await page.getByLabel('Admin token').fill(ts.server.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor({ timeout: STEP_MS });
  }

  async function go(link: string, heading = link): Promise<void> {
    await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
    await page.getByRole('heading', { name: heading, exact: true }).waitFor({ timeout: STEP_MS });
  }

  /** The step table of the timeline shown: [lane, label, detail] per row, in time order. */
  async function steps(): Promise<{ lane: string; label: string; detail: string }[]> {
    const rows = page.getByRole('region', { name: 'Session timeline' }).getByRole('table').locator('tbody tr');
    return (await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')))).map((c) => ({
      lane: c[2]!.split(' ')[0]!,
      label: c[3]!,
      detail: c[4]!,
    }));
  }

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await buildConsole();
    kamailio = await startKamailio({ users: USERS });
    sipp = await runSipp({ scenarioFile: scenarioFile('uas-answer'), mode: 'uas', transport: 'u1', extraArgs: ['-rtp_echo'], timeoutMs: 200_000 });
    await kamailio.addLocation('echo', `sip:echo@127.0.0.1:${sipp.port}`);
    backend = await TestBackend.start({
      responder: (req) =>
        req.path.startsWith('/broken/') ? { kind: 'raw', status: 500, statusText: 'Internal Server Error', body: 'database is down' } : { kind: 'echo' },
    });
    ts = await startTestServer({ sipT1Ms: 100, sipT2Ms: 400, webrtcConnectTimeoutMs: 5000 });
    const { apps } = ts.server.store;
    apps.add({ name: 'console', appKey: APP, url: backend.url('/app') });
    apps.enableMethod(APP, '*');
    apps.add({ name: 'broken', appKey: BROKEN_APP, url: backend.url('/broken') });
    apps.enableMethod(BROKEN_APP, '*');
    browser = await launchChromium();
    page = await browser.newPage({ viewport: DESKTOP });
  });

  after(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => undefined);
    await browser?.close();
    await ts?.stop();
    await sipp?.kill();
    await backend?.stop();
    await kamailio?.stop();
  });

  it('sign in: a wrong token is refused and says so; the right one opens the Overview; GET / without Accept: text/html stays JSON', async () => {
    await page.goto(consoleUrl());
    await snap('signin');
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: STEP_MS });
    assert.match((await alert.textContent()) ?? '', /Wrong admin token: wrong admin token/);
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'a refused token is not kept');

    await signIn();
    assert.equal(await page.evaluate(() => Object.keys(sessionStorage).length), 1);
    assert.equal(await page.evaluate(() => document.cookie), '', 'no cookie');
    for (const link of ['Overview', 'Apps', 'Sessions', 'Calls', 'Hook log', 'Events', 'CDR']) {
      assert.equal(await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).count(), 1, `navigation link ${link}`);
    }
    await snap('overview');

    const index = await fetch(consoleUrl());
    assert.match(index.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(((await index.json()) as { name: string }).name, 'callhook admin API');
  });

  it('Apps: add an app pointing at the test backend; Check app passes for it and shows a closed port as FAIL with its advice', async () => {
    await go('Apps');
    await page.getByRole('button', { name: 'Add app' }).click();
    const form = page.getByRole('form', { name: 'Add app' });
    await form.getByLabel('Name', { exact: true }).fill('added');
    await form.getByLabel('App key').fill('addedApp');
    await form.getByLabel('REST URL').fill(backend.url('/added'));
    await form.getByRole('checkbox', { name: 'connect', exact: true }).check();
    await snap('apps-add');
    await form.getByRole('button', { name: 'Add app' }).click();
    await page.getByRole('status').filter({ hasText: 'App added added.' }).waitFor({ timeout: STEP_MS });
    const added = ts.server.store.apps.getByKey('addedApp');
    assert.equal(added?.url, backend.url('/added'));
    assert.deepEqual(added?.methods, ['connect']);

    const row = (key: string) => page.getByRole('row').filter({ has: page.getByRole('cell', { name: key, exact: true }) });
    await row('addedApp').getByRole('button', { name: 'Check app' }).click();
    await page.getByRole('region', { name: 'Check of app addedApp' }).waitFor({ timeout: STEP_MS });
    assert.match((await page.getByRole('region', { name: 'Check of app addedApp' }).textContent()) ?? '', /Check app addedApp: OK/);

    const closed = await freePort('tcp');
    ts.server.store.apps.add({ name: 'closed', appKey: 'closedApp', url: `http://127.0.0.1:${closed}/hooks` });
    await go('Overview');
    await go('Apps');
    await row('closedApp').getByRole('button', { name: 'Check app' }).click();
    const report = page.getByRole('region', { name: 'Check of app closedApp' });
    await report.waitFor({ timeout: STEP_MS });
    const text = (await report.textContent()) ?? '';
    assert.match(text, /Check app closedApp: FAIL/);
    assert.match(text, new RegExp(`FAIL tcp: .*${closed}`));
    assert.match(text, /Advice: /);
    await snap('apps-check');
  });

  let sessionId: string;
  let call: ClientCall;

  it('a session registers on Kamailio and calls the sipp echo: its timeline shows four lanes, connect, REGISTER/401/200, INVITE/200/ACK in order', async () => {
    const alice = await WebRtcClient.connect(ts.wsUrl, {
      appKey: APP, sipLogin: 'alice', sipPassword: 'alice-pw', sipDomain: kamailio.domain, sipOutboundProxy: kamailio.host, sipPort: kamailio.port,
      sipRegisterRequired: true,
    });
    clients.push(alice);
    sessionId = alice.sessionId;
    call = await alice.call('echo');
    await call.waitStatus('ESTABLISHED', STEP_MS);
    await call.connected();
    assert.ok((await call.exchangeAudio(50, 40)) >= 40, 'RTP echoed by sipp');

    await go('Sessions');
    await page.getByLabel('Search sessions').fill('alice');
    const row = page.getByRole('row').filter({ hasText: sessionId });
    await row.waitFor({ timeout: STEP_MS });
    await snap('sessions');
    await row.getByRole('link', { name: 'Timeline' }).click();
    const region = page.getByRole('region', { name: 'Session timeline' });
    await region.waitFor({ timeout: STEP_MS });
    // The live view re-reads as steps arrive: wait for the media to have started.
    await eventually(async () => (await steps()).some((s) => s.label === 'media start'), STEP_MS, 'the media start step');
    const shown = await steps();
    assert.deepEqual(new Set(shown.map((s) => s.lane)), new Set(['browser', 'hooks', 'sip', 'media']), JSON.stringify(shown));
    const expected: [string, RegExp][] = [
      ['browser', /^connection$/], ['hooks', /^connect$/], ['hooks', /^200$/], ['sip', /^REGISTER$/], ['sip', /^401 /], ['sip', /^REGISTER$/], ['sip', /^200 /],
      ['browser', /^call$/], ['hooks', /^call$/], ['sip', /^INVITE$/], ['sip', /^200 /], ['sip', /^ACK$/],
    ];
    let at = 0;
    for (const s of shown) if (at < expected.length && s.lane === expected[at]![0] && expected[at]![1].test(s.label)) at++;
    assert.equal(at, expected.length, `steps in order up to ${JSON.stringify(expected[at])}: ${JSON.stringify(shown.map((s) => `${s.lane} ${s.label}`))}`);
    const regionText = (await region.textContent()) ?? '';
    for (const word of ['Browser', 'callhook', 'Web server (hooks)', 'SIP peer', 'connect', 'REGISTER', '401', '200', 'INVITE', 'ACK']) {
      assert.ok(regionText.includes(word), `the timeline shows ${word}`);
    }
    // A SIP step links to its raw message, the digest credentials redacted.
    const register = page.getByRole('button', { name: /Show raw REGISTER/ }).nth(1);
    await register.click();
    const raw = (await page.getByRole('region', { name: 'Raw message' }).locator('pre').textContent()) ?? '';
    assert.match(raw, /^REGISTER sip:/m);
    assert.match(raw, /Authorization: Digest \[redacted\]/);
    assert.doesNotMatch(raw, /response="/);
    await snap('timeline');

    const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
    assert.match(json.suggestedFilename(), /^timeline-.*\.json$/);
    const [svg] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export SVG' }).click()]);
    assert.match(svg.suggestedFilename(), /^timeline-.*\.svg$/);
    // The PNG: a real PNG file (signature, IHDR first) of the ladder's size.
    const [png] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export PNG' }).click()]);
    assert.match(png.suggestedFilename(), /^timeline-.*\.png$/);
    const file = await readFile((await png.path())!);
    assert.deepEqual([...file.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    assert.equal(file.subarray(12, 16).toString('latin1'), 'IHDR');
    const ladder = page.getByRole('img', { name: /^Ladder diagram of session/ });
    const size = [Number(await ladder.getAttribute('width')), Number(await ladder.getAttribute('height'))];
    assert.deepEqual([file.readUInt32BE(16), file.readUInt32BE(20)], size);
    assert.ok(size[1]! > 400, `a ladder of ${size[1]} px has every step`);
    assert.ok(file.length > 10_000, `${file.length} bytes: the diagram was drawn, not an empty canvas`);
  });

  it('Calls: details show the codec and packets; Terminate ends the call (FINISH at the client, BYE to sipp)', async () => {
    await go('Calls');
    const row = page.getByRole('row').filter({ hasText: call.callId });
    await row.waitFor({ timeout: STEP_MS });
    await row.getByText('Details').click();
    const details = (await row.textContent()) ?? '';
    assert.match(details, /CodecPCMU/);
    assert.match(details, /Packets to SIP\d+/);
    await snap('calls');
    await row.getByRole('button', { name: 'Terminate' }).click();
    const finish = await call.waitStatus('FINISH', STEP_MS);
    assert.equal(finish['info'], 'Terminated by the administrator');
    await eventually(() => ts.server.gateway.calls().length === 0, STEP_MS, 'the call to end');
    await page.getByRole('status').filter({ hasText: 'terminated' }).waitFor({ timeout: STEP_MS });
  });

  it('a hook backend answering 500 shows a red step with the reason, in the words of the hook log', async () => {
    await assert.rejects(WebRtcClient.connect(ts.wsUrl, { appKey: BROKEN_APP, sipRegisterRequired: false }));
    await go('Sessions');
    const ended = page.getByRole('table', { name: 'Recently ended sessions' }).getByRole('row').filter({ hasText: BROKEN_APP });
    await ended.first().waitFor({ timeout: STEP_MS });
    await ended.first().getByRole('link', { name: 'Timeline' }).click();
    await page.getByRole('region', { name: 'Session timeline' }).waitFor({ timeout: STEP_MS });
    const shown = await steps();
    const failed = shown.find((s) => s.lane === 'hooks' && s.label === '500');
    assert.ok(failed, JSON.stringify(shown));
    const hookLog = (await ts.server.store.hookLog.query({ appKey: BROKEN_APP })).find((e) => e.method === 'connect')!;
    assert.equal(failed.detail, `connect in ${Math.round(hookLog.latencyMs)} ms: ${hookLog.error}`);
    const cell = page.getByRole('region', { name: 'Session timeline' }).getByRole('cell', { name: '500', exact: true });
    assert.equal(await cell.locator('strong').evaluate((e) => getComputedStyle(e).color), RED);
    const svgStep = page.locator('svg g[role="button"]', { hasText: '500' });
    assert.equal(await svgStep.locator('line').getAttribute('stroke'), '#c62828');
    assert.ok(shown.some((s) => s.lane === 'browser' && s.label === 'fail'), 'the fail to the client is a step too');
    await snap('timeline-failed');
  });

  it('Hook log, Events and CDR pages list what the server holds; every page fits 390 px', async () => {
    for (const [link, name] of [['Hook log', 'hooks'], ['Events', 'events'], ['CDR', 'cdr']] as const) {
      await go(link);
      await snap(name);
    }
    await go('Hook log');
    const hookRows = page.getByRole('table', { name: 'Hook requests, newest first' }).locator('tbody tr');
    /** Sets the filters and waits for the table: [method, status] per row. */
    const filter = async (app: string, method: string, outcome: string): Promise<string[][]> => {
      await page.getByLabel('App', { exact: true }).selectOption(app);
      await page.getByLabel('Method', { exact: true }).selectOption(method);
      await page.getByLabel('Outcome').selectOption(outcome);
      await page.getByLabel('Time').selectOption('last 5 minutes');
      await page.getByRole('button', { name: 'Filter' }).click();
      // Until every row is of the app and method: the unfiltered table may already show the app's rows first.
      let rows: string[][] = [];
      await eventually(async () => {
        rows = await hookRows.evaluateAll((trs) => trs.map((tr) => [1, 2, 4].map((i) => tr.children[i]?.textContent ?? '')));
        return rows.length > 0 && rows.every(([a, m]) => a === app && m === method);
      }, STEP_MS, () => `hooks of ${app}, ${method}; the table shows ${JSON.stringify(rows)}`);
      return rows.map(([, m, status]) => [m!, status!]);
    };
    const failed = await filter(BROKEN_APP, 'connect', 'failed');
    assert.ok(failed.length > 0 && failed.every(([m, status]) => m === 'connect' && status === '500'), JSON.stringify(failed));
    // Expanding a row shows both bodies: the 500's text as the backend sent it.
    await hookRows.first().getByText('Bodies').click();
    const brokenBodies = (await hookRows.first().locator('details').textContent()) ?? '';
    assert.match(brokenBodies, /Response\s*database is down/);
    const ok = await filter(APP, 'connect', 'succeeded');
    assert.ok(ok.length > 0 && ok.every(([m, status]) => m === 'connect' && status === '200'), JSON.stringify(ok));
    const aliceConnect = hookRows.filter({ hasText: 'connect' }).first();
    await aliceConnect.getByText('Bodies').click();
    const bodies = (await aliceConnect.locator('details').textContent()) ?? '';
    assert.match(bodies, /"sipLogin": "alice"/);
    assert.match(bodies, /"sipPassword": "\[redacted\]"/);
    assert.doesNotMatch(bodies, /alice-pw/);
    await snap('hooks-bodies');
    await go('CDR');
    await page.getByRole('table', { name: 'Call detail records, newest first' }).getByRole('row').filter({ hasText: 'echo' }).first().waitFor({ timeout: STEP_MS });
    await go('Overview');
    await page.getByRole('region', { name: 'Warnings' }).waitFor({ timeout: STEP_MS });
    assert.match((await page.getByRole('region', { name: 'Warnings' }).textContent()) ?? '', new RegExp(`hook backend of app ${BROKEN_APP} failing: .*HTTP 500`));
    await snap('overview-busy');
    await page.setViewportSize(PHONE);
    for (const link of ['Overview', 'Apps', 'Sessions', 'Calls', 'Hook log', 'Events', 'CDR']) {
      await go(link);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${link} is ${overflow} px wider than 390 px`);
    }
    await page.setViewportSize(DESKTOP);
  });
});
