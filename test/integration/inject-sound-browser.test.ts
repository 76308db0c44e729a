/**
 * `call/inject_sound` into a browser call with real peers (issue 14, docs/rest-api.md "Steering any call"): the
 * official SDK in headless Chromium, whose fake microphone plays a 1 kHz tone, calls baresip bob (PCMU only) through
 * callhook and the test Kamailio. While the injected file (a 500 Hz tone) plays, bob hears it instead of the browser;
 * once it has ended, he hears the browser again. baresip records what it receives (sndfile), and the recording is
 * read in short windows, each by its dominant frequency.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createLogger } from '../../src/log.ts';
import { type RunningServer, startServer } from '../../src/server.ts';
import { decodeWav, dominantFrequency, encodeWav, rms, tone, type Pcm } from '../support/audio-analysis.ts';
import { startBaresip, type BaresipInstance } from '../support/baresip.ts';
import { type SdkPageServer, type SdkSession, SdkPage, launchChromium, serveSdkPage } from '../support/browser.ts';
import { closeAll } from '../support/close-all.ts';
import { eventually } from '../support/eventually.ts';
import { type KamailioInstance, startKamailio } from '../support/kamailio.ts';
import { LOOPBACK, freePort } from '../support/ports.ts';
import { restApi } from '../support/rest-api.ts';

const alice = { username: 'alice', password: 'alice-secret' };
const bobUser = { username: 'bob', password: 'bob-secret' };
const STEP_MS = 15_000;
const BROWSER_HZ = 1000;
const SOUND_HZ = 500;
const SOUND_SECONDS = 1.5;
/** 64 ms windows at 8 kHz: 15.6 Hz per FFT bin, fine enough to tell the tones apart. */
const WINDOW = 512;
const PACKETS_PER_SECOND = 50;

/** Each window of what bob heard: `B` the browser's tone, `S` the injected sound, `.` anything else (silence, a switch). */
function windows(heard: Pcm): string {
  let out = '';
  for (let at = 0; at + WINDOW <= heard.samples.length; at += WINDOW) {
    const samples = heard.samples.subarray(at, at + WINDOW);
    const hz = rms(samples) < 500 ? 0 : dominantFrequency({ sampleRate: heard.sampleRate, samples });
    out += Math.abs(hz - BROWSER_HZ) < 30 ? 'B' : Math.abs(hz - SOUND_HZ) < 30 ? 'S' : '.';
  }
  return out;
}

describe('inject_sound into a call of the official SDK in Chromium, heard by baresip', { timeout: 180_000 }, () => {
  let dir: string;
  let kamailio: KamailioInstance;
  let bob: BaresipInstance;
  let browser: Browser;
  let pageServer: SdkPageServer;
  let page: SdkPage;
  let server: RunningServer;
  let session: SdkSession;
  let sound: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callhook-inject-browser-'));
    await mkdir(join(dir, 'recordings'));
    const microphone = join(dir, 'browser.wav');
    await writeFile(microphone, encodeWav({ sampleRate: 48000, samples: tone(BROWSER_HZ, 48000, 2) }));
    sound = join(dir, 'sound.wav');
    await writeFile(sound, encodeWav({ sampleRate: 8000, samples: tone(SOUND_HZ, 8000, SOUND_SECONDS) }));
    kamailio = await startKamailio({ users: [alice, bobUser] });
    bob = await startBaresip({
      user: bobUser.username, password: bobUser.password, domain: kamailio.domain, outboundProxy: kamailio,
      audioCodecs: ['PCMU'], recordDir: join(dir, 'recordings'),
    });
    await bob.waitRegistered(STEP_MS);
    server = await startServer({
      overrides: { wsPort: 0, wsHost: LOOPBACK, adminPort: 0, sipPort: await freePort('both'), localIp: LOOPBACK, dataDir: join(dir, 'data') },
      handleSignals: false,
      logger: createLogger('warn'),
    });
    browser = await launchChromium([`--use-file-for-fake-audio-capture=${microphone}`]);
    pageServer = await serveSdkPage();
    page = await SdkPage.open(browser, pageServer);
    session = await page.createSession({
      urlServer: `ws://${LOOPBACK}:${server.wsPort}`,
      sipOptions: {
        login: alice.username, authenticationName: alice.username, password: alice.password,
        domain: kamailio.domain, outboundProxy: kamailio.host, port: kamailio.port, registerRequired: true,
      },
    });
    await session.waitForStatus('REGISTERED', STEP_MS);
  });

  after(() => closeAll('inject-sound-browser test', [
    () => page?.close(), () => browser?.close(), () => pageServer?.close(), () => server?.close(),
    () => bob?.stop(), () => kamailio?.stop(), () => (dir === undefined ? undefined : rm(dir, { recursive: true, force: true })),
  ]));

  test('bob hears the browser, then the injected file instead, then the browser again', async () => {
    const callId = await session.call('bob');
    await page.waitForCallStatus(callId, 'ESTABLISHED', STEP_MS);
    await page.waitForAudioBothWays(callId, PACKETS_PER_SECOND, STEP_MS);

    const injected = await restApi(server)('/rest-api/call/inject_sound', { callId, file: sound });
    assert.equal(injected.status, 200, JSON.stringify(injected.json));
    // The media's own clock: the sound's length and as long again of the browser, as the browser sends it.
    await page.waitForAudioBothWays(callId, 2 * SOUND_SECONDS * PACKETS_PER_SECOND, STEP_MS);
    const closed = () => bob.events().filter((e) => e.type === 'CALL_CLOSED').length;
    await page.hangup(callId);
    await eventually(() => closed() > 0, STEP_MS, 'bob to see the call end');

    let name: string | undefined;
    await eventually(async () => {
      name = (await readdir(join(dir, 'recordings'))).find((f) => f.endsWith('-dec.wav'));
      return name !== undefined;
    }, STEP_MS, 'baresip to record the call');
    const heard = windows(decodeWav(await readFile(join(dir, 'recordings', name!))));
    const first = heard.indexOf('S');
    const last = heard.lastIndexOf('S');
    assert.ok(first > 0, `the sound reached bob: ${heard}`);
    assert.ok(heard.slice(0, first).includes('BBB'), `the browser before the sound: ${heard}`);
    // While it plays, the sound replaces the browser's audio (one window may straddle a switch).
    assert.ok(!heard.slice(first, last + 1).includes('B'), `nothing of the browser during the sound: ${heard}`);
    const soundWindows = (SOUND_SECONDS * 8000) / WINDOW;
    assert.ok(Math.abs(last + 1 - first - soundWindows) <= 3, `the whole sound, once: ${last + 1 - first} windows, expected ${soundWindows.toFixed(0)}: ${heard}`);
    assert.ok(heard.slice(last + 1).includes('BBBBB'), `the browser again after the sound: ${heard}`);
  });
});
