/**
 * The SDK's bundles in headless Chromium (fake microphone) against a real callhook and the test Kamailio: the IIFE
 * bundle loaded by a plain `<script>` tag (global `Callhook`) and the ESM bundle by `import`, each connecting and
 * registering; a call to a user who is not registered, to see the offer go out and the call end with the reason in
 * the server's own frame; and a call between two
 * pages: answered from `incomingCall`, RTP both ways in getStats(), hold and unhold seen on both sides, hang-up.
 * The post-dial delay (issue 18): in a network where ICE gathering never completes (a STUN server that does not
 * answer), the time from a click to the INVITE at the SIP peer (sipp's own trace), and the call's audio.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/browser.ts';
import { startKamailio, type KamailioInstance } from '../support/kamailio.ts';
import { LOOPBACK } from '../support/ports.ts';
import { parseMessageTrace, runSipp, scenarioFile } from '../support/sipp.ts';
import { startTestServer, type TestServer } from '../support/ws-client.ts';
import type { Emitter } from '../../sdk/src/index.ts';
import { buildAndLoadSdk, type BuiltSdk } from './sdk-support.ts';

const USERS = [
  { username: 'alice', password: 'alice-pw' },
  { username: 'bob', password: 'bob-pw' },
];
const STEP_MS = 15_000;
/**
 * Click → INVITE on this loaded machine; the target is 100 ms (issue 18). The bound only has to be well below the
 * gathering the SDK used to wait for (3 s here, since the STUN server never answers), so a loaded run does not fail.
 */
const POST_DIAL_BOUND_MS = 1_000;

/** In-page helpers shared by both pages: wait for an SDK event, with a timeout. */
const HELPERS = `
window.nextEvent = (emitter, name, ms, accept = () => true) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => { off(); reject(new Error('no ' + name + ' within ' + ms + ' ms')); }, ms);
  const off = emitter.on(name, (payload) => { if (!accept(payload)) return; clearTimeout(timer); off(); resolve(payload); });
});
`;

const PAGES: Record<string, string> = {
  '/iife.html': '<!doctype html><title>iife</title><script src="/helpers.js"></script><script src="/callhook.js"></script>',
  '/esm.html':
    '<!doctype html><title>esm</title><script src="/helpers.js"></script>' +
    '<script type="module">import * as sdk from "/callhook.mjs"; window.CallhookEsm = sdk;</script>',
};

/** In a page: its call's peer connection has sent and received audio RTP (getStats). */
async function audioBothWays(): Promise<boolean> {
  const stats = await window.call.getStats();
  let sent = 0;
  let received = 0;
  stats.forEach((r: { type: string; kind?: string; packetsSent?: number; packetsReceived?: number }) => {
    if (r.type === 'outbound-rtp' && r.kind === 'audio') sent += r.packetsSent ?? 0;
    if (r.type === 'inbound-rtp' && r.kind === 'audio') received += r.packetsReceived ?? 0;
  });
  return sent > 50 && received > 50;
}

interface WireFrame {
  direction: 'sent' | 'received';
  message: string;
  data: Array<Record<string, unknown>>;
}

declare global {
  interface Window {
    CallhookEsm: typeof import('../../sdk/src/index.ts');
    Callhook: typeof import('../../sdk/src/index.ts');
    session: import('../../sdk/src/index.ts').Session;
    call: import('../../sdk/src/index.ts').Call;
    statuses: string[];
    nextEvent<E extends object, K extends keyof E & string>(emitter: Emitter<E>, name: K, ms: number, accept?: (p: E[K]) => boolean): Promise<E[K]>;
  }
}

describe('the SDK bundles in headless Chromium', { timeout: 120_000 }, () => {
  let built: BuiltSdk;
  let kamailio: KamailioInstance;
  let ts: TestServer;
  let browser: Browser;
  let pageServer: Server;
  let pageUrl: string;
  /** A STUN server that never answers: the browser's ICE gathering runs on until it gives up. */
  let silentStun: Socket;
  let stunRequests = 0;

  /** A new tab on `path`, recording every WebSocket frame of the page. */
  async function open(path: string): Promise<{ page: Page; frames: WireFrame[]; console: string[] }> {
    const page = await browser.newPage();
    const frames: WireFrame[] = [];
    const console: string[] = [];
    page.on('console', (m) => console.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => console.push(`pageerror: ${e.message}`));
    page.on('websocket', (ws) => {
      const add = (direction: WireFrame['direction'], payload: string | Buffer) => {
        const f = JSON.parse(String(payload)) as { message: string; data: Array<Record<string, unknown>> };
        frames.push({ direction, message: f.message, data: f.data });
      };
      ws.on('framesent', ({ payload }) => add('sent', payload));
      ws.on('framereceived', ({ payload }) => add('received', payload));
    });
    await page.goto(`${pageUrl}${path.slice(1)}`, { waitUntil: 'load' });
    return { page, frames, console };
  }

  const sip = (user: string) => ({
    login: user,
    password: USERS.find((u) => u.username === user)!.password,
    domain: kamailio.domain,
    outboundProxy: kamailio.host,
    port: kamailio.port,
    register: true,
  });

  before(async () => {
    built = await buildAndLoadSdk();
    kamailio = await startKamailio({ users: USERS });
    ts = await startTestServer();
    const files: Record<string, string> = { '/callhook.js': built.build.iife, '/callhook.mjs': built.build.esm };
    pageServer = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (PAGES[path] !== undefined) return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGES[path]);
      if (path === '/helpers.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(HELPERS);
      const file = files[path];
      if (file === undefined) return void res.writeHead(404).end();
      void readFile(file).then((body) => res.writeHead(200, { 'content-type': 'text/javascript' }).end(body));
    });
    await new Promise<void>((resolve) => pageServer.listen(0, LOOPBACK, resolve));
    silentStun = createSocket('udp4').on('message', () => stunRequests++);
    await new Promise<void>((resolve) => silentStun.bind(0, LOOPBACK, resolve));
    // localhost is a secure context: getUserMedia is available over plain http.
    pageUrl = `http://localhost:${(pageServer.address() as AddressInfo).port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      // Loopback candidates, so the gathered SDP can reach callhook on 127.0.0.1.
      args: [...CHROMIUM_ARGS, '--allow-loopback-in-peer-connection'],
    });
  });
  after(async () => {
    await browser?.close();
    silentStun?.close();
    pageServer?.closeAllConnections();
    await new Promise((resolve) => pageServer?.close(resolve));
    await ts?.stop();
    await kamailio?.stop();
    await built?.remove();
  });

  it('the IIFE bundle by script tag: the global Callhook connects and registers', async () => {
    const { page, frames, console } = await open('/iife.html');
    try {
      assert.equal(await page.evaluate(() => typeof window.Callhook.connect), 'function');
      const result = await page.evaluate(
        async ({ url, sip, ms }) => {
          window.session = await window.Callhook.connect({ url, sip });
          const registered = await window.nextEvent(window.session, 'registered', ms);
          return { info: registered.info, status: window.session.status, registration: window.session.registration, version: window.Callhook.SDK_VERSION };
        },
        { url: ts.wsUrl, sip: sip('alice'), ms: STEP_MS },
      );
      assert.deepEqual(result, { info: 'SIP 200 OK', status: 'ESTABLISHED', registration: 'REGISTERED', version: built.sdk.SDK_VERSION });
      const connection = frames.find((f) => f.direction === 'sent' && f.message === 'connection');
      assert.match(String(connection?.data[0]?.['clientBrowserVersion']), /Chrome/);
      await page.evaluate(() => window.session.disconnect());
      await kamailio.waitForLocations((b) => b.length === 0, STEP_MS);
    } catch (err) {
      throw new Error(`${String(err)}\nconsole:\n${console.join('\n')}`, { cause: err });
    } finally {
      await page.close();
    }
  });

  it('a call between two pages through callhook and Kamailio: answered, audio both ways, hold and unhold, hang-up', async () => {
    const alice = await open('/esm.html');
    const bob = await open('/esm.html');
    const pages = [alice, bob];
    let step = 'connect and register both pages';
    try {
      for (const [p, user] of [[alice, 'alice'], [bob, 'bob']] as const) {
        await p.page.waitForFunction(() => window.CallhookEsm !== undefined, undefined, { timeout: STEP_MS });
        await p.page.evaluate(
          async ({ url, sip, ms }) => {
            window.session = await window.CallhookEsm.connect({ url, sip });
            await window.nextEvent(window.session, 'registered', ms);
            window.statuses = [];
            window.session.on('incomingCall', (call) => {
              window.call = call;
              call.on('status', (e) => window.statuses.push(e.status));
            });
          },
          { url: ts.wsUrl, sip: sip(user), ms: STEP_MS },
        );
      }
      await kamailio.waitForLocations((b) => b.length === 2, STEP_MS);

      step = 'call: incoming at bob';
      await alice.page.evaluate(() => {
        window.call = window.session.call({ callee: 'bob' });
        window.call.on('status', (e) => window.statuses.push(e.status));
      });
      await bob.page.waitForFunction(() => window.call !== undefined, undefined, { timeout: STEP_MS });
      assert.deepEqual(await bob.page.evaluate(() => [window.call.incoming, window.call.caller]), [true, 'alice']);
      await bob.page.evaluate(() => window.session.answer(window.call));
      step = 'answered: ESTABLISHED at both pages';
      const established = () => window.call.status === 'ESTABLISHED';
      await alice.page.waitForFunction(established, undefined, { timeout: STEP_MS });
      await bob.page.waitForFunction(established, undefined, { timeout: STEP_MS });

      // Audio both ways: each side's peer connection sends and receives RTP.
      step = 'audio both ways';
      await alice.page.waitForFunction(audioBothWays, undefined, { timeout: STEP_MS, polling: 200 });
      await bob.page.waitForFunction(audioBothWays, undefined, { timeout: STEP_MS, polling: 200 });

      step = 'hold: HOLD at both pages';
      await alice.page.evaluate(() => window.call.hold());
      await alice.page.waitForFunction(() => window.call.status === 'HOLD', undefined, { timeout: STEP_MS });
      await bob.page.waitForFunction(() => window.call.status === 'HOLD', undefined, { timeout: STEP_MS });
      step = 'unhold: ESTABLISHED at both pages';
      await alice.page.evaluate(() => window.call.unhold());
      await alice.page.waitForFunction(established, undefined, { timeout: STEP_MS });
      await bob.page.waitForFunction(established, undefined, { timeout: STEP_MS });

      step = 'hang-up: FINISH at both pages';
      await alice.page.evaluate(() => window.call.hangup());
      for (const p of pages) {
        await p.page.waitForFunction(() => window.call.status === 'FINISH', undefined, { timeout: STEP_MS });
        assert.deepEqual(await p.page.evaluate(() => [window.call.info, window.session.calls.length, document.querySelectorAll('audio').length]), [
          'Normal call clearing',
          0,
          0,
        ]);
      }
      for (const p of pages) {
        const seen = await p.page.evaluate(() => window.statuses);
        assert.deepEqual(seen.slice(-4), ['ESTABLISHED', 'HOLD', 'ESTABLISHED', 'FINISH'], seen.join(' '));
        assert.ok(seen.slice(0, -4).every((x) => ['TRYING', 'RING', 'RING_MEDIA', 'SESSION_PROGRESS'].includes(x)), seen.join(' '));
      }
      for (const p of pages) await p.page.evaluate(() => window.session.disconnect());
      await kamailio.waitForLocations((b) => b.length === 0, STEP_MS);
    } catch (err) {
      const statuses = await Promise.all(pages.map((p) => p.page.evaluate(() => window.statuses?.join(' ')).catch(() => '?')));
      throw new Error(`${String(err)}\nat step: ${step}; statuses alice: ${statuses[0]}, bob: ${statuses[1]}\nalice console:\n${alice.console.join('\n')}\nbob console:\n${bob.console.join('\n')}`, { cause: err });
    } finally {
      for (const p of pages) await p.page.close();
    }
  });

  it('the ESM bundle by import: connects, and a call goes out and ends with the server reason', async () => {
    const { page, frames, console } = await open('/esm.html');
    try {
      await page.waitForFunction(() => window.CallhookEsm !== undefined, undefined, { timeout: STEP_MS });
      const outcome = await page.evaluate(
        async ({ url, sip, ms }) => {
          const sdk = window.CallhookEsm;
          window.session = await sdk.connect({ url, sip });
          await window.nextEvent(window.session, 'registered', ms);
          const call = window.session.call({ callee: 'nobody' });
          const statuses: string[] = [];
          call.on('status', (e) => statuses.push(e.status));
          const final = await window.nextEvent(call, 'status', ms, (e) => sdk.isFinalCallStatus(e.status));
          return {
            callId: call.id,
            statuses,
            final: { status: final.status, info: final.info },
            pcState: call.peerConnection?.signalingState,
            micEnded: call.localStream?.getTracks().every((t) => t.readyState === 'ended'),
            audioElements: document.querySelectorAll('audio').length,
          };
        },
        { url: ts.wsUrl, sip: sip('bob'), ms: STEP_MS },
      );
      const callFrame = frames.find((f) => f.direction === 'sent' && f.message === 'call')?.data[0];
      assert.ok(callFrame, `no call frame: ${JSON.stringify(frames.map((f) => f.message))}`);
      assert.deepEqual(
        [callFrame['callId'], callFrame['callee'], callFrame['caller'], callFrame['hasAudio'], callFrame['hasVideo'], callFrame['status'], callFrame['mediaProvider']],
        [outcome.callId, 'nobody', 'bob', true, false, 'PENDING', 'WebRTC'],
      );
      const sdp = String(callFrame['sdp']);
      assert.match(sdp, /^v=0\r\n/);
      assert.match(sdp, /\r\nm=audio /);

      // The call ended with the reason the server gave for it, in the server's own frame.
      const about = frames.filter((f) => {
        const d = f.data[0];
        if (f.direction !== 'received' || d === undefined) return false;
        if (f.message === 'fail') return d['callId'] === outcome.callId || (d['callId'] === undefined && d['apiMethod'] === 'call');
        return d['callId'] === outcome.callId && ['finish', 'ring', 'talk', 'notifyTryingResponse'].includes(f.message);
      });
      const last = about.at(-1);
      assert.ok(last, `the server said nothing about the call: ${JSON.stringify(frames.filter((f) => f.direction === 'received'))}`);
      assert.equal(outcome.final.info, last.data[0]!['info']);
      assert.equal(outcome.final.status, last.message === 'fail' ? 'FAILED' : last.data[0]!['status']);
      assert.ok(typeof outcome.final.info === 'string' && outcome.final.info !== '');
      assert.deepEqual([outcome.pcState, outcome.micEnded, outcome.audioElements], ['closed', true, 0], 'the media is released');
      await page.evaluate(() => window.session.disconnect());
    } catch (err) {
      throw new Error(`${String(err)}\nconsole:\n${console.join('\n')}`, { cause: err });
    } finally {
      await page.close();
    }
  });

  it('post-dial delay: with ICE gathering that never completes, the INVITE reaches the SIP peer at once after the click, and the call has audio both ways', async (t) => {
    const sipp = await runSipp({ scenarioFile: scenarioFile('uas-answer'), mode: 'uas', transport: 'u1', extraArgs: ['-rtp_echo'], timeoutMs: 60_000 });
    const { page, console } = await open('/esm.html');
    try {
      await page.waitForFunction(() => window.CallhookEsm !== undefined, undefined, { timeout: STEP_MS });
      await page.evaluate(
        async ({ url, sip, iceServers }) => {
          window.session = await window.CallhookEsm.connect({ url, sip, media: { iceServers } });
          window.statuses = [];
          const button = document.createElement('button');
          button.id = 'dial';
          button.textContent = 'Call';
          button.addEventListener('click', () => {
            (window as unknown as { clickedAt: number }).clickedAt = Date.now();
            window.call = window.session.call({ callee: 'bob' });
            // With the info, so a failure says why the call ended (e.g. which leg failed).
            window.call.on('status', (e) => window.statuses.push(e.info === undefined ? e.status : `${e.status} (${e.info})`));
          });
          document.body.append(button);
        },
        // No registration: the next hop is sipp itself.
        { url: ts.wsUrl, sip: { login: 'alice', password: 'alice-pw', domain: LOOPBACK, outboundProxy: LOOPBACK, port: sipp.port, register: false }, iceServers: [{ urls: `stun:${LOOPBACK}:${(silentStun.address() as AddressInfo).port}` }] },
      );
      await page.click('#dial');
      const clickedAt = await page.evaluate(() => (window as unknown as { clickedAt: number }).clickedAt);
      await page.waitForFunction(() => window.call?.status === 'ESTABLISHED', undefined, { timeout: STEP_MS });
      const invite = parseMessageTrace(sipp.messages()).find((m) => m.direction === 'received' && m.firstLine.startsWith('INVITE '));
      assert.ok(invite, 'sipp received no INVITE');
      const postDialMs = invite.at - clickedAt;
      t.diagnostic(`post-dial delay, click → INVITE at sipp: ${postDialMs.toFixed(1)} ms (load average ${(await readFile('/proc/loadavg', 'utf8')).split(' ')[0]})`);
      assert.ok(stunRequests > 0, 'the browser never asked the STUN server, so gathering was not held back');
      assert.ok(postDialMs < POST_DIAL_BOUND_MS, `click → INVITE took ${postDialMs.toFixed(0)} ms`);

      // callhook learns the browser's address from its connectivity checks (a peer-reflexive candidate): audio
      // makes the round trip browser → callhook → sipp's echo → callhook → browser.
      await page.waitForFunction(audioBothWays, undefined, { timeout: STEP_MS, polling: 200 });
      await page.evaluate(() => window.call.hangup());
      await page.waitForFunction(() => window.call.status === 'FINISH', undefined, { timeout: STEP_MS });
      await page.evaluate(() => window.session.disconnect());
    } catch (err) {
      const statuses = await page.evaluate(() => window.statuses?.join(' ')).catch(() => '?');
      throw new Error(`${String(err)}\nstatuses: ${statuses}\nconsole:\n${console.join('\n')}`, { cause: err });
    } finally {
      await page.close();
      await sipp.kill();
    }
  });
});
