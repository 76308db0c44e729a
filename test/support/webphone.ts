/**
 * The web phone (web/, served by callhook at `/` on wsPort) in headless Chromium, driven the way a person uses it:
 * by the accessible names of docs/webphone.md (labels, button texts, roles), never by CSS selectors.
 *
 *   startPhoneServer()      a callhook on 127.0.0.1 whose pino log is kept in memory (what the server reports)
 *   PhonePage.open(b, url)  a tab on the phone that records every WebSocket frame, its console, and screenshots
 *
 * The only look inside the page is `window.webphone` (the SDK's Session and Call), for what no control shows:
 * the peer connection's statistics and the call's id.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { createLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import type { Call, Session } from '../../sdk/src/index.ts';
import { eventually } from './eventually.ts';
import { freePort, LOOPBACK } from './ports.ts';

/** Screenshots of the browser tests: git-ignored, kept after the run for a person to look at. */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/webphone/', import.meta.url));

const STEP_MS = 15_000;
/** Each check reads the page: at most every 50 ms. */
const PAGE_POLL_MS = 50;
const CONSOLE_LIMIT = 500;
const LOG_RECORD_LIMIT = 20_000;

/** One pino record of the server's log. */
export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface PhoneServer {
  server: RunningServer;
  /** `http://127.0.0.1:<wsPort>/`: the web phone. 127.0.0.1 is a secure context, so the page gets a microphone. */
  pageUrl: string;
  /** `ws://127.0.0.1:<wsPort>/`: what the page's Server URL is pre-filled with. */
  wsUrl: string;
  /** The server's log records so far (info and up), oldest first. */
  readonly log: readonly LogRecord[];
  stop(): Promise<void>;
}

/** A callhook on 127.0.0.1 (free ports, temp dataDir, no signal handlers) whose log is kept for the test. */
export async function startPhoneServer(overrides: Record<string, unknown> = {}): Promise<PhoneServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'callhook-webphone-'));
  const log: LogRecord[] = [];
  const destination = {
    write(line: string): void {
      log.push(JSON.parse(line) as LogRecord);
      if (log.length > LOG_RECORD_LIMIT) log.shift();
    },
  };
  try {
    const server = await startServer({
      overrides: { wsPort: 0, wsHost: LOOPBACK, adminPort: 0, sipPort: await freePort('both'), localIp: LOOPBACK, dataDir, ...overrides },
      logger: createLogger('info', destination),
      handleSignals: false,
    });
    return {
      server,
      pageUrl: `http://${LOOPBACK}:${server.wsPort}/`,
      wsUrl: `ws://${LOOPBACK}:${server.wsPort}/`,
      log,
      stop: async () => {
        await server.close();
        await rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      },
    };
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/** One WebSocket frame of the page, as Chromium sent or received it. */
export interface PageFrame {
  direction: 'sent' | 'received';
  message: string;
  data: unknown[];
  /** The frame's text as it went over the wire. */
  raw: string;
}

/** What the account form is filled with; a field left out is left as it is. */
export interface AccountFields {
  'Server URL'?: string;
  'SIP login'?: string;
  'Auth name'?: string;
  Password?: string;
  Domain?: string;
  'Outbound proxy'?: string;
  Port?: string;
  'App key'?: string;
  Token?: string;
  Register?: boolean;
}

/** `window.webphone`, as web/webphone.js defines it. */
interface WebPhoneGlobal {
  readonly session: Session | undefined;
  readonly call: Call | undefined;
  readonly ringing: Call | undefined;
}

declare global {
  interface Window {
    webphone: WebPhoneGlobal;
  }
}

export class PhonePage {
  /** Every frame of every WebSocket the page opened, in order. */
  readonly frames: PageFrame[] = [];
  private readonly console: string[] = [];
  private shots = 0;

  private constructor(
    readonly page: Page,
    /** Names the screenshots (`<prefix>-<nn>-<step>.png`) and the page in failure messages. */
    readonly prefix: string,
  ) {
    page.setDefaultTimeout(STEP_MS);
    page.on('console', (m) => this.note(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => this.note(`pageerror: ${e.message}`));
    page.on('websocket', (ws) => {
      const add = (direction: PageFrame['direction'], payload: string | Buffer): void => {
        const raw = typeof payload === 'string' ? payload : payload.toString('utf8');
        const parsed = JSON.parse(raw) as { message: string; data: unknown[] };
        this.frames.push({ direction, message: parsed.message, data: parsed.data, raw });
      };
      ws.on('framesent', ({ payload }) => add('sent', payload));
      ws.on('framereceived', ({ payload }) => add('received', payload));
    });
  }

  /** A new tab (`viewport` default 1280×900) on the phone at `url`, loaded. */
  static async open(browser: Browser, url: string, prefix: string, viewport = { width: 1280, height: 900 }): Promise<PhonePage> {
    const context = await browser.newContext({ viewport });
    const phone = new PhonePage(await context.newPage(), prefix);
    try {
      await phone.page.goto(url, { waitUntil: 'load' });
      await phone.page.waitForFunction(() => window.webphone !== undefined, undefined, { timeout: STEP_MS });
      return phone;
    } catch (err) {
      await context.close();
      throw new Error(`${prefix}: the web phone did not load: ${String(err)}\n${phone.diagnostics()}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }

  // --- the controls, by their accessible names (docs/webphone.md) ---------------------------------------

  field(label: string): Locator {
    return this.page.getByLabel(label, { exact: true });
  }

  button(name: string): Locator {
    return this.page.getByRole('button', { name, exact: true });
  }

  status(name: 'Connection status' | 'Registration status' | 'Call status'): Locator {
    return this.page.getByRole('status', { name, exact: true });
  }

  get incomingBanner(): Locator {
    return this.page.getByRole('alertdialog', { name: 'Incoming call', exact: true });
  }

  get eventLog(): Locator {
    return this.page.getByRole('log', { name: 'Event log', exact: true });
  }

  get messages(): Locator {
    return this.page.getByRole('log', { name: 'Messages', exact: true });
  }

  async fill(fields: AccountFields): Promise<void> {
    for (const [label, value] of Object.entries(fields)) {
      if (typeof value === 'boolean') await this.field(label).setChecked(value);
      else await this.field(label).fill(value as string);
    }
  }

  /** Fills the form, presses Connect, and waits for Connection status ESTABLISHED (and REGISTERED, if asked). */
  async connect(fields: AccountFields, expect: { registered: boolean }): Promise<void> {
    await this.fill(fields);
    await this.button('Connect').click();
    await this.waitForText(this.status('Connection status'), 'ESTABLISHED');
    if (expect.registered) await this.waitForText(this.status('Registration status'), 'REGISTERED');
  }

  /** The Event log's entries, without their time stamps. */
  async events(): Promise<string[]> {
    const entries = await this.eventLog.getByRole('listitem').allTextContents();
    return entries.map((e) => e.replace(/^\d{1,2}:\d{2}:\d{2} /, ''));
  }

  /** Waits for an Event log entry equal to `line` (or matching it); returns it. */
  waitForEvent(line: string | RegExp, timeoutMs = STEP_MS): Promise<string> {
    const matches = (e: string) => (typeof line === 'string' ? e === line : line.test(e));
    return this.waitFor(async () => (await this.events()).find(matches), timeoutMs, () => `Event log entry ${String(line)}`);
  }

  /** Waits until `locator`'s text is `expected` (or matches it). */
  async waitForText(locator: Locator, expected: string | RegExp, timeoutMs = STEP_MS): Promise<void> {
    let text: string | null = null;
    await this.waitFor(async () => {
      text = await locator.textContent({ timeout: timeoutMs });
      return typeof expected === 'string' ? text === expected : expected.test(text ?? '');
    }, timeoutMs, () => `${String(locator)} to show ${String(expected)} (it shows ${JSON.stringify(text)})`);
  }

  /** `eventually`, with the page's event log, console and frames added to the error when it times out. */
  private async waitFor<T>(check: () => Promise<T | false | undefined>, timeoutMs: number, what: () => string): Promise<T> {
    try {
      return await eventually(check, timeoutMs, () => `${this.prefix}: ${what()}`, { maxPollMs: PAGE_POLL_MS });
    } catch (err) {
      const events = await this.events().catch(() => []);
      throw new Error(`${(err as Error).message}\n${this.diagnostics(events)}`, { cause: err });
    }
  }

  /** A full-page screenshot in ARTIFACTS_DIR, numbered in the order taken. */
  async snap(step: string): Promise<void> {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const n = String(++this.shots).padStart(2, '0');
    await this.page.screenshot({ path: join(ARTIFACTS_DIR, `${this.prefix}-${n}-${step}.png`), fullPage: true });
  }

  // --- what no control shows -------------------------------------------------------------------------------------

  /** The current call's id (the server's callId), from `window.webphone.call`. */
  callId(): Promise<string | undefined> {
    return this.page.evaluate(() => window.webphone.call?.id);
  }

  /** The current call's audio RTP counters from its RTCPeerConnection's getStats(). */
  audioPackets(): Promise<{ sent: number; received: number }> {
    return this.page.evaluate(async () => {
      const call = window.webphone.call;
      if (call === undefined || call.peerConnection === undefined) return { sent: 0, received: 0 };
      const stats = await call.getStats();
      let sent = 0;
      let received = 0;
      stats.forEach((r: { type: string; kind?: string; packetsSent?: number; packetsReceived?: number }) => {
        if (r.type === 'outbound-rtp' && r.kind === 'audio') sent += r.packetsSent ?? 0;
        if (r.type === 'inbound-rtp' && r.kind === 'audio') received += r.packetsReceived ?? 0;
      });
      return { sent, received };
    });
  }

  /** Waits until the call's audio counters both grow by `packets` (audio flowing both ways, now). */
  async waitForAudioBothWays(packets: number, timeoutMs = STEP_MS): Promise<{ sent: number; received: number }> {
    const start = await this.audioPackets();
    let now = start;
    return this.waitFor(async () => {
      now = await this.audioPackets();
      return now.sent - start.sent >= packets && now.received - start.received >= packets && now;
    }, timeoutMs, () => `audio both ways (${JSON.stringify(start)} → ${JSON.stringify(now)})`);
  }

  /** The frames received whose message is `name`. */
  received(name: string): PageFrame[] {
    return this.frames.filter((f) => f.direction === 'received' && f.message === name);
  }

  sent(name: string): PageFrame[] {
    return this.frames.filter((f) => f.direction === 'sent' && f.message === name);
  }

  /** At `width` px: nothing scrolls sideways, and every control that is shown lies within the width. */
  async assertFitsWidth(width: number): Promise<void> {
    const report = await this.page.evaluate(() => {
      const scrollWidth = document.scrollingElement?.scrollWidth ?? Number.POSITIVE_INFINITY;
      const controls = [...document.querySelectorAll('button, input, textarea, output, [role="log"], [role="alertdialog"], [role="timer"]')];
      const outside = controls
        .filter((el) => el.getClientRects().length > 0)
        .map((el) => ({ el, rect: el.getBoundingClientRect() }))
        .filter(({ rect }) => rect.left < 0 || rect.right > window.innerWidth + 0.5)
        .map(({ el, rect }) => `${el.tagName.toLowerCase()}#${el.id} [${Math.round(rect.left)}, ${Math.round(rect.right)}]`);
      return { scrollWidth, innerWidth: window.innerWidth, outside };
    });
    assert.equal(report.innerWidth, width, 'the viewport width');
    assert.ok(report.scrollWidth <= width, `${this.prefix}: the page scrolls sideways (scrollWidth ${report.scrollWidth} > ${width})`);
    assert.deepEqual(report.outside, [], `${this.prefix}: controls outside the ${width} px width`);
  }

  /** Asserts each locator is visible once scrolled to (the page may be taller than the screen, never wider). */
  async assertVisible(what: Record<string, Locator>): Promise<void> {
    for (const [name, locator] of Object.entries(what)) {
      await locator.scrollIntoViewIfNeeded();
      assert.ok(await locator.isVisible(), `${this.prefix}: ${name} is not visible`);
      const box = await locator.boundingBox();
      const width = this.page.viewportSize()?.width ?? 0;
      assert.ok(box !== null && box.x >= 0 && box.x + box.width <= width + 0.5, `${this.prefix}: ${name} is outside the width: ${JSON.stringify(box)}`);
    }
  }

  /** Console errors and uncaught exceptions of the page. */
  consoleErrors(): string[] {
    return this.console.filter((line) => line.startsWith('error: ') || line.startsWith('pageerror: '));
  }

  /** The console, the Event log and the frame names, for a failure message. */
  diagnostics(events?: string[]): string {
    return [
      `event log:\n  ${(events ?? []).join('\n  ')}`,
      `console:\n  ${this.console.slice(-30).join('\n  ')}`,
      `frames: ${this.frames.map((f) => `${f.direction === 'sent' ? '>' : '<'}${f.message}`).join(' ')}`,
    ].join('\n');
  }

  private note(line: string): void {
    this.console.push(line);
    if (this.console.length > CONSOLE_LIMIT) this.console.shift();
  }
}
