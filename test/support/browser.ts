/**
 * The official Flashphoner Web SDK 2.0 (`@flashphoner/websdk`), unchanged, in Debian's headless Chromium, driven
 * through playwright-core: the "real client, real browser" peer of the integration tests.
 *
 *   launchChromium()      Chromium with a fresh profile, fake media devices, no background traffic
 *   serveSdkPage()        node:http on 127.0.0.1:0 serving sdk-page/ and the SDK bundle at http://localhost:<port>/
 *   SdkPage.open(b, s)    a tab on that page with Flashphoner.init done; createSession() → SdkSession
 *
 * The page is served from `localhost` because getUserMedia needs a secure context, and http://localhost is one
 * (W3C Secure Contexts §3.2, "potentially trustworthy origin").
 *
 * WebRTC and ICE: no Chromium switch limits ICE candidates to 127.0.0.1 (--force-webrtc-ip-handling-policy only
 * chooses between "all interfaces", "the default route's interface" and "proxy only"). For signalling-only tests it
 * does not matter: `createSession` and SIP registration make no RTCPeerConnection, so no candidate is gathered (the
 * page counts peer connections, SdkPage.peerConnectionCount, so a test can assert it). Calls do: callhook is
 * ICE-lite with one host candidate on 127.0.0.1 in the tests, and Chromium only pairs its loopback address with it
 * under --allow-loopback-in-peer-connection; the checks then never leave the machine.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Browser, type Page, type WebSocket as PageWebSocket, chromium } from 'playwright-core';
import { eventually } from './eventually.ts';
import { LOOPBACK } from './ports.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Every switch the suite relies on, passed explicitly even where playwright adds it too. playwright's launch()
 * also creates a fresh temporary --user-data-dir per browser and removes it on close (it refuses one in `args`).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox', // containers and CI run as root, where the setuid/namespace sandbox cannot start
  '--disable-gpu',
  '--use-fake-ui-for-media-stream', // grant camera/microphone without a prompt
  '--use-fake-device-for-media-stream', // synthetic camera and microphone
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--allow-loopback-in-peer-connection', // calls: ICE with callhook's 127.0.0.1 candidate
];

const LAUNCH_TIMEOUT_MS = 30_000;
const PAGE_TIMEOUT_MS = 15_000;
/** Each check reads the page: at most every 50 ms. */
const PAGE_POLL_MS = 50;
const CONSOLE_LIMIT = 500;

const PAGE_DIR = new URL('./sdk-page/', import.meta.url);
const SDK_BUNDLE = pathToFileURL(createRequire(import.meta.url).resolve('@flashphoner/websdk/flashphoner.js'));

/** What the page server serves; everything else is 404. */
const ROUTES: Readonly<Record<string, { file: URL; type: string }>> = {
  '/': { file: new URL('index.html', PAGE_DIR), type: 'text/html; charset=utf-8' },
  '/sdk-page.js': { file: new URL('sdk-page.js', PAGE_DIR), type: 'text/javascript; charset=utf-8' },
  '/flashphoner.js': { file: SDK_BUNDLE, type: 'text/javascript; charset=utf-8' },
};

/** `extraArgs`: switches a test needs besides CHROMIUM_ARGS (e.g. --ignore-certificate-errors for a test certificate). */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} not found: install Debian's chromium (sh scripts/ensure-deps.sh does)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    timeout: LAUNCH_TIMEOUT_MS,
  });
}

export interface SdkPageServer {
  /** `http://localhost:<port>/` */
  readonly url: string;
  close(): Promise<void>;
}

export async function serveSdkPage(): Promise<SdkPageServer> {
  const server = createServer((req, res) => {
    void respond(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://localhost:${port}/`, close: () => closeHttp(server) };
}

async function respond(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const route = req.method === 'GET' ? ROUTES[new URL(req.url ?? '/', 'http://localhost').pathname] : undefined;
  if (route === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  try {
    const body = await readFile(fileURLToPath(route.file));
    res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' }).end(body);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`cannot read ${route.file.pathname}: ${String(err)}\n`);
  }
}

function closeHttp(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
}

/** `sipOptions` of `Flashphoner.createSession`, as an application passes them (see docs/sdk-compatibility.md). */
export interface SdkSipOptions {
  login?: string;
  authenticationName?: string;
  password?: string;
  domain?: string;
  outboundProxy?: string;
  port?: number | string;
  registerRequired?: boolean;
}

export interface SdkSessionOptions {
  urlServer: string;
  appKey?: string;
  sipOptions?: SdkSipOptions;
  custom?: Record<string, unknown>;
  /** WebSocket connect timeout in ms (SDK option). */
  timeout?: number;
}

/** One SESSION_STATUS callback as the SDK fired it. */
export interface SdkEvent {
  status: string;
  /** The callback's argument other than the session (getUserData's object, the `fail` object), JSON-copied. */
  data?: unknown;
}

/** One WebSocket frame of the session, as Chromium sent or received it. */
export interface SdkFrame {
  direction: 'sent' | 'received';
  /** The parsed JSON, or the raw text when it is not JSON. */
  frame: { message?: unknown; data?: unknown } | string;
}

export class SdkSession {
  constructor(
    private readonly page: SdkPage,
    readonly id: number,
    private readonly socket: SocketLog,
  ) {}

  /** Every frame of the session's WebSocket so far, in order. */
  get frames(): readonly SdkFrame[] {
    return this.socket.frames;
  }

  /** The frames with message `name` in one direction, in order. */
  framesNamed(direction: SdkFrame['direction'], name: string): Array<{ message?: unknown; data?: unknown }> {
    return this.frames.flatMap((f) =>
      f.direction === direction && typeof f.frame !== 'string' && f.frame.message === name ? [f.frame] : [],
    );
  }

  events(): Promise<SdkEvent[]> {
    return this.page.evaluate((id) => window.sdkPage.events(id), this.id);
  }

  /** The SDK's own `session.status()`. */
  status(): Promise<string> {
    return this.page.evaluate((id) => window.sdkPage.status(id), this.id);
  }

  disconnect(): Promise<void> {
    return this.page.evaluate((id) => window.sdkPage.disconnect(id), this.id);
  }

  /** `session.createCall({callee, …}).call()` (audio only, as the SDK demo phone); resolves with the call's id. */
  call(callee: string): Promise<string> {
    return this.page.call(this.id, callee);
  }

  /** Resolves with the first event of `status`; throws after `timeoutMs` with everything seen so far. */
  waitForStatus(status: string, timeoutMs: number): Promise<SdkEvent> {
    let events: SdkEvent[] = [];
    return eventually(async () => {
      events = await this.events();
      return events.find((e) => e.status === status);
    }, timeoutMs, () =>
      `SDK session to reach ${status}\n` +
      `statuses: ${JSON.stringify(events)}\nframes: ${JSON.stringify(this.frames)}\n` +
      `console:\n${this.page.consoleLines().slice(-20).join('\n')}`, { maxPollMs: PAGE_POLL_MS });
  }
}

/**
 * The frames of one page WebSocket. Attached in the same tick as playwright's `websocket` event, before any
 * frame event of that socket can be delivered, so the `connection` frame is never missed.
 */
class SocketLog {
  readonly frames: SdkFrame[] = [];

  constructor(socket: PageWebSocket) {
    socket.on('framesent', ({ payload }) => this.frames.push({ direction: 'sent', frame: parseFrame(payload) }));
    socket.on('framereceived', ({ payload }) =>
      this.frames.push({ direction: 'received', frame: parseFrame(payload) }),
    );
  }
}

function parseFrame(payload: string | Buffer): SdkFrame['frame'] {
  const text = typeof payload === 'string' ? payload : `<binary ${payload.length} bytes>`;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : text;
  } catch {
    return text;
  }
}

/** The driver sdk-page.js installs on `window`. */
/** A call's audio RTP counters in the browser's getStats(): packets sent and received, payload bytes sent. */
export interface AudioPackets {
  sent: number;
  received: number;
  bytesSent: number;
}

interface SdkPageDriver {
  start(): Promise<string[]>;
  createSession(options: SdkSessionOptions): number;
  events(id: number): SdkEvent[];
  status(id: number): string;
  disconnect(id: number): void;
  peerConnectionCount(): number;
  call(id: number, callee: string): string;
  answer(callId: string): void;
  hangup(callId: string): void;
  callStatuses(callId: string): string[];
  setAutoAnswer(on: boolean): void;
  allCalls(): Array<{ id: string; statuses: string[] }>;
  audioPackets(callId: string): Promise<AudioPackets>;
}

declare global {
  interface Window {
    sdkPage: SdkPageDriver;
  }
}

export class SdkPage {
  private readonly console: string[] = [];
  private providers: readonly string[] = [];

  private constructor(private readonly page: Page) {
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    page.on('console', (msg) => this.log(`${msg.type()}: ${msg.text()}`));
    page.on('pageerror', (err) => this.log(`pageerror: ${err.message}`));
  }

  /** A new tab on the page server's page, with `Flashphoner.init({})` done. */
  static async open(browser: Browser, server: SdkPageServer): Promise<SdkPage> {
    const sdkPage = new SdkPage(await browser.newPage());
    try {
      await sdkPage.page.goto(server.url, { waitUntil: 'load' });
      sdkPage.providers = await sdkPage.page.evaluate(() => window.sdkPage.start());
      return sdkPage;
    } catch (err) {
      await sdkPage.close();
      throw new Error(`SDK page did not start: ${String(err)}\nconsole:\n${sdkPage.console.join('\n')}`, {
        cause: err,
      });
    }
  }

  /** What Flashphoner.init found, e.g. ["WebRTC", "MSE", "WSPlayer"]. */
  get mediaProviders(): readonly string[] {
    return this.providers;
  }

  /** `Flashphoner.createSession(options)`; resolves once Chromium has opened the session's WebSocket. */
  async createSession(options: SdkSessionOptions): Promise<SdkSession> {
    const socket = this.nextWebSocket();
    const id = await this.page.evaluate((opts) => window.sdkPage.createSession(opts), options);
    return new SdkSession(this, id, await socket);
  }

  private nextWebSocket(): Promise<SocketLog> {
    return new Promise((resolve, reject) => {
      const onSocket = (socket: PageWebSocket) => {
        clearTimeout(timer);
        resolve(new SocketLog(socket));
      };
      const timer = setTimeout(() => {
        this.page.off('websocket', onSocket);
        reject(new Error(`the SDK opened no WebSocket within ${PAGE_TIMEOUT_MS} ms`));
      }, PAGE_TIMEOUT_MS);
      this.page.once('websocket', onSocket);
    });
  }

  peerConnectionCount(): Promise<number> {
    return this.page.evaluate(() => window.sdkPage.peerConnectionCount());
  }

  /** The page's console messages and uncaught errors (the last 500), for failure messages. */
  consoleLines(): readonly string[] {
    return this.console;
  }

  /** Runs `fn` in the page with a session id (SdkSession's way into the page). */
  evaluate<R>(fn: (id: number) => R, id: number): Promise<R> {
    return this.page.evaluate(fn, id);
  }

  /** `session.createCall({callee, …}).call()` in session `id`; resolves with the call's id. */
  call(id: number, callee: string): Promise<string> {
    return this.page.evaluate((a) => window.sdkPage.call(a.id, a.callee), { id, callee });
  }

  /** `call.answer()` of an incoming call the page recorded at INCOMING_CALL. */
  answer(callId: string): Promise<void> {
    return this.page.evaluate((c) => window.sdkPage.answer(c), callId);
  }

  /** `call.hangup()`. */
  hangup(callId: string): Promise<void> {
    return this.page.evaluate((c) => window.sdkPage.hangup(c), callId);
  }

  /** Every CALL_STATUS the SDK fired for the call, in order. */
  callStatuses(callId: string): Promise<string[]> {
    return this.page.evaluate((c) => window.sdkPage.callStatuses(c), callId);
  }

  /** Whether the page answers every incoming call itself, as INCOMING_CALL fires (for calls in a loop). */
  setAutoAnswer(on: boolean): Promise<void> {
    return this.page.evaluate((o) => window.sdkPage.setAutoAnswer(o), on);
  }

  /** Every call the page has seen, in order, with the CALL_STATUS callbacks each fired. */
  allCalls(): Promise<Array<{ id: string; statuses: string[] }>> {
    return this.page.evaluate(() => window.sdkPage.allCalls());
  }

  /** The browser's own audio RTP counters for the call (getStats: outbound packetsSent and bytesSent, inbound packetsReceived). */
  audioPackets(callId: string): Promise<AudioPackets> {
    return this.page.evaluate((c) => window.sdkPage.audioPackets(c), callId);
  }

  /**
   * Waits until the browser's audio counters of the call have grown by `packets` both ways (50 a second flow);
   * throws after `timeoutMs` naming how many went each way.
   */
  async waitForAudioBothWays(callId: string, packets: number, timeoutMs: number): Promise<void> {
    const first = await this.audioPackets(callId);
    let now = first;
    await eventually(async () => {
      now = await this.audioPackets(callId);
      return now.sent - first.sent >= packets && now.received - first.received >= packets;
    }, timeoutMs, () => `${packets} audio packets each way (the browser sent ${now.sent - first.sent}, received ${now.received - first.received})`, { maxPollMs: PAGE_POLL_MS });
  }

  /** Polls the call's SDK statuses until `status` appears; throws after `timeoutMs` with what was seen. */
  async waitForCallStatus(callId: string, status: string, timeoutMs: number): Promise<void> {
    let statuses: string[] = [];
    await eventually(async () => {
      statuses = await this.callStatuses(callId);
      return statuses.includes(status);
    }, timeoutMs, () => `call ${callId} to reach ${status} (statuses: ${statuses.join(', ') || 'none'})\nconsole:\n${this.console.slice(-20).join('\n')}`, { maxPollMs: PAGE_POLL_MS });
  }

  close(): Promise<void> {
    return this.page.close();
  }

  private log(line: string): void {
    this.console.push(line);
    if (this.console.length > CONSOLE_LIMIT) this.console.shift();
  }
}
