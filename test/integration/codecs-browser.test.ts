/**
 * Codecs beyond G.711 with real peers (issue 15): the official SDK in headless Chromium, with its default offer
 * (Opus first, then G.722, PCMU, PCMA) and a fake microphone playing a 1 kHz tone, through callhook and the test
 * Kamailio to baresip restricted to G.722 (passed through, or transcoded from Opus) or to PCMA (transcoded, per
 * `codecPolicy`). baresip
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
import { decodeWav, dominantFrequency, encodeWav, tone, type Pcm } from '../support/audio-analysis.ts';
import { startBaresip, type BaresipInstance, type BaresipOptions } from '../support/baresip.ts';
import { eventually } from '../support/eventually.ts';
import { type SdkPageServer, type SdkSession, SdkPage, launchChromium, serveSdkPage } from '../support/browser.ts';
import { type KamailioInstance, startKamailio } from '../support/kamailio.ts';
import { LOOPBACK, freePort } from '../support/ports.ts';

const alice = { username: 'alice', password: 'alice-secret' };
const bobUser = { username: 'bob', password: 'bob-secret' };
const STEP_MS = 15_000;
const SERVER_LOG_LIMIT = 300;
const TONE_HZ = 1000;

/** Kamailio, bob (baresip with `codecs`, recording what it hears), Chromium whose microphone plays the tone. */
class Rig {
  readonly serverLog: string[] = [];
  server: RunningServer | undefined;
  private constructor(
    readonly dir: string,
    readonly kamailio: KamailioInstance,
    readonly bob: BaresipInstance,
    readonly browser: Browser,
    readonly pageServer: SdkPageServer,
    readonly page: SdkPage,
  ) {}

  static async start(codecs: BaresipOptions['audioCodecs']): Promise<Rig> {
    const dir = await mkdtemp(join(tmpdir(), 'callhook-codecs-browser-'));
    await mkdir(join(dir, 'recordings'));
    const microphone = join(dir, 'tone.wav');
    await writeFile(microphone, encodeWav({ sampleRate: 48000, samples: tone(TONE_HZ, 48000, 2) }));
    const kamailio = await startKamailio({ users: [alice, bobUser] });
    const bob = await startBaresip({
      user: bobUser.username, password: bobUser.password, domain: kamailio.domain, outboundProxy: kamailio,
      audioCodecs: codecs, recordDir: join(dir, 'recordings'),
    });
    await bob.waitRegistered(STEP_MS);
    const browser = await launchChromium([`--use-file-for-fake-audio-capture=${microphone}`]);
    const pageServer = await serveSdkPage();
    return new Rig(dir, kamailio, bob, browser, pageServer, await SdkPage.open(browser, pageServer));
  }

  /** callhook in process with these settings (replacing the last one); a registered SDK session on it. */
  async callhook(overrides: Record<string, unknown>): Promise<SdkSession> {
    await this.stopCallhook();
    this.serverLog.length = 0;
    this.server = await startServer({
      overrides: {
        wsPort: 0, wsHost: LOOPBACK, adminPort: 0, sipPort: await freePort('both'), localIp: LOOPBACK,
        rtpPortMin: 46000, rtpPortMax: 46999, webrtcPortMin: 47000, webrtcPortMax: 47999,
        dataDir: join(this.dir, `data-${Date.now()}`), ...overrides,
      },
      handleSignals: false,
      logger: createLogger('debug', {
        write: (line: string) => {
          this.serverLog.push(line);
          if (this.serverLog.length > SERVER_LOG_LIMIT) this.serverLog.shift();
        },
      }),
    });
    const session = await this.page.createSession({
      urlServer: `ws://${LOOPBACK}:${this.server.wsPort}`,
      sipOptions: {
        login: alice.username, authenticationName: alice.username, password: alice.password,
        domain: this.kamailio.domain, outboundProxy: this.kamailio.host, port: this.kamailio.port, registerRequired: true,
      },
    });
    await session.waitForStatus('REGISTERED', STEP_MS);
    return session;
  }

  async stopCallhook(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  /** Runs `step`; on failure adds the tail of callhook's log to the error. */
  async withServerLog<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      throw new Error(`${String(err)}\ncallhook log (last lines):\n${this.serverLog.slice(-60).join('')}`, { cause: err });
    }
  }

  /** The codec callhook reports for the call. */
  codecOf(callId: string): string {
    const calls = this.server?.gateway.calls() ?? [];
    return calls.find((c) => c.callId === callId)?.codec ?? `none (calls: ${JSON.stringify(calls)})`;
  }

  /** The browser's payload bytes per audio packet it sent over the last checkEstablished. */
  browserBytesPerPacket = 0;

  /** An established call: its codec as expected, then 50 audio packets each way in the browser's getStats(). */
  async checkEstablished(callId: string, codec: string): Promise<void> {
    await this.withServerLog(() => this.page.waitForCallStatus(callId, 'ESTABLISHED', STEP_MS));
    assert.equal(this.codecOf(callId), codec);
    const first = await this.page.audioPackets(callId);
    let now = first;
    await this.withServerLog(() => eventually(async () => {
      now = await this.page.audioPackets(callId);
      return now.sent - first.sent >= 50 && now.received - first.received >= 50;
    }, 5000, () => `50 audio packets each way (the browser sent ${now.sent - first.sent}, received ${now.received - first.received})`));
    this.browserBytesPerPacket = (now.bytesSent - first.bytesSent) / (now.sent - first.sent);
  }

  /** Hangs up in the SDK; resolves once bob has closed the call too. */
  async hangUp(callId: string): Promise<void> {
    const closed = () => this.bob.events().filter((e) => e.type === 'CALL_CLOSED').length;
    const before = closed();
    await this.page.hangup(callId);
    await this.withServerLog(() => this.page.waitForCallStatus(callId, 'FINISH', STEP_MS));
    await eventually(() => closed() > before, STEP_MS, 'bob to see the call end');
  }

  /** alice calls bob: ESTABLISHED on `codec`, audio both ways, hung up; what bob heard. */
  async aliceCallsBob(session: SdkSession, codec: string): Promise<Pcm> {
    const recorded = await this.recordings();
    const callId = await session.call('bob');
    await this.checkEstablished(callId, codec);
    await this.hangUp(callId);
    return this.heardSince(recorded);
  }

  /** bob calls alice, who answers: ESTABLISHED on `codec`, audio both ways, hung up; what bob heard. */
  async bobCallsAlice(session: SdkSession, codec: string): Promise<Pcm> {
    const recorded = await this.recordings();
    await this.bob.command('dial', `sip:alice@${this.kamailio.domain}`);
    const incoming = await this.withServerLog(() => session.waitForStatus('INCOMING_CALL', STEP_MS));
    const { callId } = incoming.data as { callId: string };
    await this.page.answer(callId);
    await this.checkEstablished(callId, codec);
    await this.hangUp(callId);
    return this.heardSince(recorded);
  }

  recordings(): Promise<string[]> {
    return readdir(join(this.dir, 'recordings'));
  }

  /** What bob heard in a call recorded since `before` (a recordings() listing), once its file is there. */
  async heardSince(before: readonly string[]): Promise<Pcm> {
    let name: string | undefined;
    await eventually(async () => {
      name = (await this.recordings()).find((f) => f.endsWith('-dec.wav') && !before.includes(f));
      return name !== undefined;
    }, STEP_MS, 'baresip to record the call');
    return decodeWav(await readFile(join(this.dir, 'recordings', name!)));
  }

  async close(): Promise<void> {
    const closers: Array<() => Promise<unknown>> = [
      () => this.page.close(), () => this.browser.close(), () => this.pageServer.close(), () => this.stopCallhook(),
      () => this.bob.stop(), () => this.kamailio.stop(), () => rm(this.dir, { recursive: true, force: true }),
    ];
    const errors: unknown[] = [];
    for (const close of closers) await close().catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw new AggregateError(errors, 'codecs-browser test cleanup failed');
  }
}

/**
 * How far the heard peak may sit from the tone. Not the FFT's resolution (2–4 Hz here) but concealment: when a
 * starved machine makes callhook's transcoder drop late packets, libopus conceals them from the last pitch lag, and
 * narrowband SILK codes a 1 kHz tone on a lag of several periods, so a concealed stretch rings on a harmonic of that
 * lag, not on the tone (200 ms concealed after a narrowband 1 kHz tone peaks at 1031–1039 Hz, or at 875 Hz, with the
 * encoder's complexity), and a window partly concealed is pulled off 1 kHz (a CI run under load heard 1025 Hz). A
 * wrong sampling rate or codec is off by far more (halved, doubled, or noise).
 */
const TONE_TOLERANCE_HZ = 30;

function assertTone(heard: Pcm): void {
  const hz = dominantFrequency(heard);
  assert.ok(Math.abs(hz - TONE_HZ) <= TONE_TOLERANCE_HZ, `bob hears ${hz.toFixed(0)} Hz, expected ${TONE_HZ} ± ${TONE_TOLERANCE_HZ} Hz`);
}

describe('G.722: the SDK in Chromium (default offer) and baresip with G.722 only, passed through or transcoded from Opus', { timeout: 180_000 }, () => {
  let rig: Rig;
  let session: SdkSession;

  before(async () => {
    rig = await Rig.start(['G722']);
    // The SIP side's preference: G.722 first, so an outgoing call gives the browser G.722 and offers it alone.
    session = await rig.callhook({ codecs: 'g722,pcmu,pcma,telephone-event' });
  });

  after(() => rig?.close());

  test('alice calls bob (G.722 only): ESTABLISHED on G722, audio both ways, bob hears the 1 kHz tone at 16 kHz', async () => {
    const heard = await rig.aliceCallsBob(session, 'G722');
    assert.equal(heard.sampleRate, 16000, 'G.722 is decoded at 16 kHz');
    assertTone(heard);
  });

  test('bob (G.722 only) calls alice: the browser answers on G722, audio both ways', async () => {
    await rig.bobCallsAlice(session, 'G722');
  });

  test('opus-to-browser: alice calls bob (G.722 only); OPUS/G722 transcoded at 16 kHz, audio both ways, bob hears 1 kHz', async () => {
    session = await rig.callhook({ codecs: 'g722,pcmu,pcma,telephone-event', codecPolicy: 'opus-to-browser' });
    const heard = await rig.aliceCallsBob(session, 'OPUS/G722');
    assert.equal(heard.sampleRate, 16000, 'G.722 is decoded at 16 kHz');
    assertTone(heard);
  });

  test('opus-to-browser: bob calls alice offering G.722 only; the browser answers with Opus; OPUS/G722, audio both ways, bob hears 1 kHz', async () => {
    session = await rig.callhook({ codecs: 'g722,pcmu,pcma,telephone-event', codecPolicy: 'opus-to-browser' });
    assertTone(await rig.bobCallsAlice(session, 'OPUS/G722'));
  });
});

describe('transcoding: the SDK in Chromium (default offer) and baresip with PCMA only, per codecPolicy', { timeout: 240_000 }, () => {
  let rig: Rig;

  before(async () => {
    rig = await Rig.start(['PCMA']);
  });

  afterEach(() => rig?.stopCallhook());
  after(() => rig?.close());

  /** With the default `codecs` (pcmu,pcma,g722,telephone-event): alice calls bob; what bob heard. */
  async function callBob(codecPolicy: string, codec: string): Promise<Pcm> {
    return rig.aliceCallsBob(await rig.callhook({ codecPolicy }), codec);
  }

  test('passthrough: the browser keeps PCMU, bob answers PCMA; transcoded PCMU/PCMA, audio both ways, bob hears 1 kHz', async () => {
    assertTone(await callBob('passthrough', 'PCMU/PCMA'));
  });

  // Unless told otherwise, Chrome sends fullband Opus at 32 kbit/s (about 80 bytes a packet). Told our rate
  // (maxplaybackrate), it sends wideband at 20 kbit/s (50 bytes) for a call that may reach G.722, narrowband at
  // 12 kbit/s (30 bytes) for G.711: what the transcoder keeps, at a third of the decoding cost.
  test('opus-to-browser: the browser, which offers PCMU and PCMA too, gets Opus; OPUS/PCMA, audio both ways, bob hears 1 kHz; the browser sends Opus no wider than G.722\'s band', async () => {
    assertTone(await callBob('opus-to-browser', 'OPUS/PCMA'));
    assert.ok(rig.browserBytesPerPacket <= 60, `the browser sent ${rig.browserBytesPerPacket.toFixed(1)} bytes per Opus packet`);
  });

  test('opus-to-browser: bob (PCMA only) calls alice; the browser is offered Opus alone and answers it; OPUS/PCMA, audio both ways; the browser sends narrowband Opus', async () => {
    assertTone(await rig.bobCallsAlice(await rig.callhook({ codecPolicy: 'opus-to-browser' }), 'OPUS/PCMA'));
    assert.ok(rig.browserBytesPerPacket <= 40, `the browser sent ${rig.browserBytesPerPacket.toFixed(1)} bytes per Opus packet`);
  });

  test('per app: the configuration says passthrough, the app (admin API) opus-to-browser; OPUS/PCMA, bob hears 1 kHz; cleared, PCMU/PCMA again', async () => {
    const session = await rig.callhook({ codecPolicy: 'passthrough' });
    const setAppPolicy = async (codecPolicy: string | null) => {
      const res = await fetch(`${rig.server!.adminUrl}/api/apps/defaultApp`, {
        method: 'PATCH', headers: { authorization: `Bearer ${rig.server!.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ codecPolicy }),
      });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.equal((JSON.parse(text) as { codecPolicy: string | null }).codecPolicy, codecPolicy);
    };
    await setAppPolicy('opus-to-browser');
    assertTone(await rig.aliceCallsBob(session, 'OPUS/PCMA'));
    // The app's policy is read as each call starts: cleared, the next call follows the configuration again.
    await setAppPolicy(null);
    await rig.aliceCallsBob(session, 'PCMU/PCMA');
  });

  test('fail: no transcoding, so PCMU is offered alone and bob (PCMA only) refuses it with 488: FAILED, No common codecs', async () => {
    const session = await rig.callhook({ codecPolicy: 'fail' });
    const callId = await session.call('bob');
    await rig.withServerLog(() => rig.page.waitForCallStatus(callId, 'FAILED', STEP_MS));
    const failed = session.frames.find((f) => JSON.stringify(f).includes('"FAILED"'));
    assert.match(JSON.stringify(failed), /No common codecs/);
  });
});
