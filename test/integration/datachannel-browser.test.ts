/**
 * The comparison kit's libdatachannel browser (bench/datachannel-browser.ts) places a real call: through the test
 * client's WCS protocol to an in-process callhook, which calls a sipp UAS with `-rtp_echo`. Its offer must be what
 * the werift browser's is (Chrome's audio formats, no candidates), DTLS must come up with callhook finding it through
 * its checks alone, RTP must make the round trip both ways through its SRTP, and its close must release its socket.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataChannelBrowserPeer } from '../../bench/datachannel-browser.ts';
import { BrowserPeer } from '../../bench/media-peers.ts';
import { parseSdp } from '../../src/media/sdp/parse.ts';
import { openUdpSockets } from '../support/ports.ts';
import { runSipp, scenarioFile, type SippProcess } from '../support/sipp.ts';
import { WebRtcClient } from '../support/webrtc-client.ts';
import { eventually, startTestServer, type TestServer } from '../support/ws-client.ts';

const PACKETS = 100;
const ENOUGH = 90;

/** An offer's audio stream: its formats with their rtpmap, and whether it lists candidates. */
function audioOffer(sdp: string): { formats: string[]; rtpmaps: string[]; candidates: number } {
  const audio = parseSdp(sdp).media.find((m) => m.type === 'audio')!;
  return {
    formats: audio.formats,
    rtpmaps: audio.attributes.filter((a) => a.name === 'rtpmap').map((a) => a.value!).sort(),
    candidates: audio.attributes.filter((a) => a.name === 'candidate').length,
  };
}

describe('the libdatachannel browser of the comparison kit', { timeout: 60_000 }, () => {
  let ts: TestServer;
  let sipp: SippProcess;

  before(async () => {
    ts = await startTestServer({ webrtcConnectTimeoutMs: 5000, sipT1Ms: 100, sipT2Ms: 400 });
    sipp = await runSipp({ scenarioFile: scenarioFile('uas-answer'), mode: 'uas', transport: 'u1', extraArgs: ['-rtp_echo'], timeoutMs: 30_000 });
  });

  after(async () => {
    await sipp?.kill();
    await ts?.stop();
  });

  it('offers what the werift browser offers, without candidates', async () => {
    const werift = new BrowserPeer();
    const libdatachannel = new DataChannelBrowserPeer();
    try {
      const [w, l] = [audioOffer(await werift.createOffer()), audioOffer(await libdatachannel.createOffer())];
      assert.deepEqual(l.formats, w.formats);
      assert.deepEqual(l.rtpmaps, w.rtpmaps);
      assert.equal(l.candidates, 0);
    } finally {
      await werift.close();
      await libdatachannel.close();
    }
  });

  it('calls through callhook to sipp: answered, DTLS up, RTP both ways, and its socket released when closed', async () => {
    const udpBefore = openUdpSockets();
    const client = await WebRtcClient.connect(ts.wsUrl, { sipLogin: 'alice', sipDomain: '127.0.0.1', sipPort: sipp.port });
    const peer = new DataChannelBrowserPeer();
    let connectedAt = 0;
    peer.onConnected(() => {
      connectedAt = performance.now();
    });
    const call = await client.call('bob', {}, peer);
    await call.waitStatus('ESTABLISHED');
    await call.connected();
    // connected() may read the state before libdatachannel's thread has delivered the state callback.
    await eventually(() => connectedAt > 0, 2000, 'onConnected to be called');
    assert.equal(call.audioPayloadType, 0);
    const echoed = await call.exchangeAudio(PACKETS, ENOUGH);
    assert.ok(echoed >= ENOUGH, `${echoed}/${PACKETS} packets made the round trip`);
    call.hangup();
    assert.equal((await call.waitEnd())['status'], 'FINISH');
    await client.close();
    await eventually(() => ts.server.gateway.calls().length === 0, 10_000, 'the call to end');
    await eventually(() => openUdpSockets() <= udpBefore, 5000, `UDP sockets to close (${openUdpSockets()} open, ${udpBefore} before)`);
  });
});
