/**
 * Codecs beyond G.711 with real peers (issue 15): the official SDK in headless Chromium, with its default offer
 * (Opus first, then G.722, PCMU, PCMA) and a fake microphone playing a 1 kHz tone, through callhook and the test
 * Kamailio to baresip restricted to G.722 (passed through) or to PCMA (transcoded, per `codecPolicy`). baresip
 * records what it receives (sndfile), so the tone is checked where it arrives: its dominant frequency.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createLogger } from '../../src/log.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { decodeWav, dominantFrequency, encodeWav, tone } from '../support/audio-analysis.ts';
import { startBaresip, type BaresipInstance } from '../support/baresip.ts';
import { eventually } from '../support/eventually.ts';
import { type SdkPageServer, type SdkSession, SdkPage, launchChromium, serveSdkPage } from '../support/browser.ts';
import { type KamailioInstance, startKamailio } from '../support/kamailio.ts';
import { LOOPBACK, freePort } from '../support/ports.ts';

const alice = { username: 'alice', password: 'alice-secret' };
const bobUser = { username: 'bob', password: 'bob-secret' };
const STEP_MS = 15_000;
const SERVER_LOG_LIMIT = 300;
const TONE_HZ = 1000;

describe('G.722 passthrough: the SDK in Chromium (default offer) and baresip with G.722 only', { timeout: 180_000 }, () => {
  let kamailio: KamailioInstance;
  let bob: BaresipInstance;
  let dir: string;
  let server: RunningServer;
  let browser: Browser;
  let pageServer: SdkPageServer;
  let page: SdkPage;
  const serverLog: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callhook-codecs-browser-'));
    const recordings = join(dir, 'recordings');
    await mkdir(recordings);
    const microphone = join(dir, 'tone.wav');
    await writeFile(microphone, encodeWav({ sampleRate: 48000, samples: tone(TONE_HZ, 48000, 2) }));
    kamailio = await startKamailio({ users: [alice, bobUser] });
    bob = await startBaresip({
      user: bobUser.username, password: bobUser.password, domain: kamailio.domain, outboundProxy: kamailio,
      audioCodecs: ['G722'], recordDir: recordings,
    });
    server = await startServer({
      overrides: {
        wsPort: 0, wsHost: LOOPBACK, adminPort: 0, sipPort: await freePort('both'), localIp: LOOPBACK,
        rtpPortMin: 46000, rtpPortMax: 46999, webrtcPortMin: 47000, webrtcPortMax: 47999,
        dataDir: join(dir, 'data'),
        // The SIP side's preference: G.722 first, so an outgoing call gives the browser G.722 and offers it alone.
        codecs: 'g722,pcmu,pcma,telephone-event',
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
    browser = await launchChromium([`--use-file-for-fake-audio-capture=${microphone}`]);
    pageServer = await serveSdkPage();
    page = await SdkPage.open(browser, pageServer);
  });

  after(async () => {
    const closers: Array<() => Promise<unknown> | undefined> = [
      () => page?.close(),
      () => browser?.close(),
      () => pageServer?.close(),
      () => server?.close(),
      () => bob?.stop(),
      () => kamailio?.stop(),
      () => (dir === undefined ? undefined : rm(dir, { recursive: true, force: true })),
    ];
    const errors: unknown[] = [];
    for (const close of closers) await Promise.resolve().then(close).catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw new AggregateError(errors, 'codecs-browser test cleanup failed');
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

  async function withServerLog<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      throw new Error(`${String(err)}\ncallhook log (last lines):\n${serverLog.slice(-60).join('')}`, { cause: err });
    }
  }

  /** The browser's audio counters must grow by 30 both ways (0.6 s of audio at 50 packets/s) within three seconds. */
  async function assertAudioFlows(callId: string): Promise<void> {
    const first = await page.audioPackets(callId);
    let now = first;
    await eventually(async () => {
      now = await page.audioPackets(callId);
      return now.sent - first.sent >= 30 && now.received - first.received >= 30;
    }, 3000, () => `30 audio packets each way (the browser sent ${now.sent - first.sent}, received ${now.received - first.received})`);
  }

  /** The codec callhook reports for the call, once it has one. */
  function callCodec(callId: string): string | undefined {
    const calls = server.gateway.calls();
    return calls.find((c) => c.callId === callId)?.codec ?? `none (calls: ${JSON.stringify(calls)})`;
  }

  /** The recording of what baresip received in its latest call, once that call's file is complete. */
  async function latestReceived(before: ReadonlySet<string>): Promise<ReturnType<typeof decodeWav>> {
    const recordings = join(dir, 'recordings');
    let name: string | undefined;
    await eventually(async () => {
      name = (await readdir(recordings)).find((f) => f.endsWith('-dec.wav') && !before.has(f));
      return name !== undefined;
    }, STEP_MS, 'baresip to record the call');
    return decodeWav(await readFile(join(recordings, name!)));
  }

  const closedAtBob = () => bob.events().filter((e) => e.type === 'CALL_CLOSED').length;

  test('alice calls bob (G.722 only): ESTABLISHED on G722, audio both ways, bob hears the 1 kHz tone at 16 kHz', async () => {
    const recorded = new Set(await readdir(join(dir, 'recordings')));
    const session = await registeredSession();
    const callId = await session.call('bob');
    await withServerLog(() => page.waitForCallStatus(callId, 'ESTABLISHED', STEP_MS));
    assert.equal(callCodec(callId), 'G722');
    await withServerLog(() => assertAudioFlows(callId));
    const closedBefore = closedAtBob();
    await page.hangup(callId);
    await withServerLog(() => page.waitForCallStatus(callId, 'FINISH', STEP_MS));
    await eventually(() => closedAtBob() > closedBefore, STEP_MS, 'bob to see the call end');
    const heard = await latestReceived(recorded);
    assert.equal(heard.sampleRate, 16000, 'G.722 is decoded at 16 kHz');
    const hz = dominantFrequency(heard);
    assert.ok(Math.abs(hz - TONE_HZ) < 20, `bob hears ${hz.toFixed(0)} Hz, expected ${TONE_HZ} Hz`);
    await session.disconnect();
    await session.waitForStatus('DISCONNECTED', STEP_MS);
  });

  test('bob (G.722 only) calls alice: the browser answers on G722, audio both ways', async () => {
    const session = await registeredSession();
    await bob.command('dial', `sip:alice@${kamailio.domain}`);
    const incoming = await withServerLog(() => session.waitForStatus('INCOMING_CALL', STEP_MS));
    const { callId } = incoming.data as { callId: string };
    await page.answer(callId);
    await withServerLog(() => page.waitForCallStatus(callId, 'ESTABLISHED', STEP_MS));
    assert.equal(callCodec(callId), 'G722');
    await withServerLog(() => assertAudioFlows(callId));
    const closedBefore = closedAtBob();
    await page.hangup(callId);
    await withServerLog(() => page.waitForCallStatus(callId, 'FINISH', STEP_MS));
    await eventually(() => closedAtBob() > closedBefore, STEP_MS, 'bob to see the call end');
    await session.disconnect();
    await session.waitForStatus('DISCONNECTED', STEP_MS);
  });
});

describe('transcoding: the SDK in Chromium (default offer) and baresip with PCMA only, per codecPolicy', { timeout: 240_000 }, () => {
  let kamailio: KamailioInstance;
  let bob: BaresipInstance;
  let dir: string;
  let server: RunningServer | undefined;
  let browser: Browser;
  let pageServer: SdkPageServer;
  let page: SdkPage;
  const serverLog: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callhook-transcode-browser-'));
    await mkdir(join(dir, 'recordings'));
    const microphone = join(dir, 'tone.wav');
    await writeFile(microphone, encodeWav({ sampleRate: 48000, samples: tone(TONE_HZ, 48000, 2) }));
    kamailio = await startKamailio({ users: [alice, bobUser] });
    bob = await startBaresip({
      user: bobUser.username, password: bobUser.password, domain: kamailio.domain, outboundProxy: kamailio,
      audioCodecs: ['PCMA'], recordDir: join(dir, 'recordings'),
    });
    await bob.waitRegistered(STEP_MS);
    browser = await launchChromium([`--use-file-for-fake-audio-capture=${microphone}`]);
    pageServer = await serveSdkPage();
    page = await SdkPage.open(browser, pageServer);
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  after(async () => {
    const closers: Array<() => Promise<unknown> | undefined> = [
      () => page?.close(),
      () => browser?.close(),
      () => pageServer?.close(),
      () => bob?.stop(),
      () => kamailio?.stop(),
      () => (dir === undefined ? undefined : rm(dir, { recursive: true, force: true })),
    ];
    const errors: unknown[] = [];
    for (const close of closers) await Promise.resolve().then(close).catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw new AggregateError(errors, 'transcode-browser test cleanup failed');
  });

  /** callhook with the default `codecs` (pcmu,pcma,g722,telephone-event) and `codecPolicy`; a registered SDK session. */
  async function callhookWith(codecPolicy: string): Promise<{ running: RunningServer; session: SdkSession }> {
    serverLog.length = 0;
    const running = await startServer({
      overrides: {
        wsPort: 0, wsHost: LOOPBACK, adminPort: 0, sipPort: await freePort('both'), localIp: LOOPBACK,
        rtpPortMin: 46000, rtpPortMax: 46999, webrtcPortMin: 47000, webrtcPortMax: 47999,
        dataDir: join(dir, `data-${codecPolicy}`), codecPolicy,
      },
      handleSignals: false,
      logger: createLogger('debug', { write: (line: string) => void serverLog.push(line) }),
    });
    server = running;
    const session = await page.createSession({
      urlServer: `ws://${LOOPBACK}:${running.wsPort}`,
      sipOptions: {
        login: alice.username, authenticationName: alice.username, password: alice.password, domain: kamailio.domain,
        outboundProxy: kamailio.host, port: kamailio.port, registerRequired: true,
      },
    });
    await session.waitForStatus('REGISTERED', STEP_MS);
    return { running, session };
  }

  async function withServerLog<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      throw new Error(`${String(err)}\ncallhook log (last lines):\n${serverLog.slice(-60).join('')}`, { cause: err });
    }
  }

  /** Places a call to bob, checks the codecs callhook reports and audio both ways, hangs up; what bob heard. */
  async function callBob(running: RunningServer, session: SdkSession, codec: string): Promise<ReturnType<typeof decodeWav>> {
    const recorded = new Set(await readdir(join(dir, 'recordings')));
    const callId = await session.call('bob');
    await withServerLog(() => page.waitForCallStatus(callId, 'ESTABLISHED', STEP_MS));
    assert.equal(running.gateway.calls().find((c) => c.callId === callId)?.codec, codec);
    const first = await page.audioPackets(callId);
    let now = first;
    await withServerLog(() => eventually(async () => {
      now = await page.audioPackets(callId);
      return now.sent - first.sent >= 50 && now.received - first.received >= 50;
    }, 5000, () => `50 audio packets each way (the browser sent ${now.sent - first.sent}, received ${now.received - first.received})`));
    const closed = bob.events().filter((e) => e.type === 'CALL_CLOSED').length;
    await page.hangup(callId);
    await withServerLog(() => page.waitForCallStatus(callId, 'FINISH', STEP_MS));
    await eventually(() => bob.events().filter((e) => e.type === 'CALL_CLOSED').length > closed, STEP_MS, 'bob to see the call end');
    let name: string | undefined;
    await eventually(async () => {
      name = (await readdir(join(dir, 'recordings'))).find((f) => f.endsWith('-dec.wav') && !recorded.has(f));
      return name !== undefined;
    }, STEP_MS, 'baresip to record the call');
    await session.disconnect();
    return decodeWav(await readFile(join(dir, 'recordings', name!)));
  }

  test('passthrough: the browser keeps PCMU, bob answers PCMA; transcoded PCMU/PCMA, audio both ways, bob hears 1 kHz', async () => {
    const { running, session } = await callhookWith('passthrough');
    const heard = await callBob(running, session, 'PCMU/PCMA');
    const hz = dominantFrequency(heard);
    assert.ok(Math.abs(hz - TONE_HZ) < 20, `bob hears ${hz.toFixed(0)} Hz`);
  });

  test('opus-to-browser: the browser, which offers PCMU and PCMA too, gets Opus; OPUS/PCMA, audio both ways, bob hears 1 kHz', async () => {
    const { running, session } = await callhookWith('opus-to-browser');
    const heard = await callBob(running, session, 'OPUS/PCMA');
    const hz = dominantFrequency(heard);
    assert.ok(Math.abs(hz - TONE_HZ) < 20, `bob hears ${hz.toFixed(0)} Hz`);
  });

  test('fail: no transcoding, so PCMU is offered alone and bob (PCMA only) refuses it: FAILED, 488', async () => {
    const { session } = await callhookWith('fail');
    const callId = await session.call('bob');
    await withServerLog(() => page.waitForCallStatus(callId, 'FAILED', STEP_MS));
    assert.match(JSON.stringify(session.frames), /SIP 488 Not Acceptable Here/);
    await session.disconnect();
  });
});
