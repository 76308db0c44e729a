/**
 * SRTP towards SIP against a real Asterisk 22 (issue 13): PJSIP endpoints with `media_encryption=sdes` (alice) and
 * without (bob), callhook as its own process with a session whose `sipSrtp` the connection sets; each scenario over
 * UDP, TCP and TLS against the one Asterisk (test/support/asterisk-bench.ts).
 *
 * Echo() proves both directions at once: what the browser sends comes back only if Asterisk decrypted callhook's
 * SRTP and callhook decrypted Asterisk's. Hold and unhold re-key callhook's side (RFC 4568 §7.1.4), which Asterisk's
 * SIP log shows: the a=crypto keys it received change with each re-INVITE. DTMF both ways runs inside SRTP.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ASTERISK_TRANSPORTS, startAsteriskBench, type AsteriskBench } from '../support/asterisk-bench.ts';
import type { AsteriskInstance } from '../support/asterisk.ts';
import { eventually } from '../support/eventually.ts';
import type { ClientCall, WebRtcClient } from '../support/webrtc-client.ts';

const ALICE = { username: 'alice', password: 'alice-pw', endpoint: { media_encryption: 'sdes' } };
const BOB = { username: 'bob', password: 'bob-pw' };
/** SRTP when offered, plain otherwise: what docs/configuration.md tells a user to set for `sipSrtp: optional`. */
const CAROL = { username: 'carol', password: 'carol-pw', endpoint: { media_encryption: 'sdes', media_encryption_optimistic: 'yes' } };
const STEP_MS = 10_000;

describe('SRTP (SDES) against Asterisk: media_encryption=sdes', { timeout: 480_000 }, () => {
  let bench: AsteriskBench;
  let asterisk: AsteriskInstance;

  /** `client` calls `callee`, which answers: ESTABLISHED (its status frame) and the browser's media connected. */
  async function answered(client: WebRtcClient, callee: string): Promise<{ call: ClientCall; established: Record<string, unknown> }> {
    const call = await client.call(callee);
    const established = await call.waitStatus('ESTABLISHED', STEP_MS);
    await call.connected();
    return { call, established };
  }

  async function liveCall(): Promise<Record<string, unknown> | undefined> {
    const res = await fetch(`${bench.callhook.adminUrl}/api/calls`, { headers: { Authorization: `Bearer ${bench.callhook.adminToken}` } });
    return ((await res.json()) as Array<Record<string, unknown>>)[0];
  }

  /** The live call's SRTP suite as the admin API shows it (undefined: plain RTP), its audio echoed both ways; then hung up. */
  async function echoedWithSuite(call: ClientCall, suite: string | undefined): Promise<void> {
    assert.equal((await liveCall())?.['sipSrtpSuite'], suite);
    assert.ok((await call.exchangeAudio(50, 40)) >= 40);
    call.hangup();
    await call.waitEnd();
  }

  /** The a=crypto keys of the SIP messages Asterisk received, in order (its SIP debug log). */
  function keysAsteriskReceived(): string[] {
    const received = asterisk.logs().split(/<--- Received SIP /).slice(1).map((m) => m.split(/<--- |---> /)[0]!);
    return received.flatMap((m) => [...m.matchAll(/a=crypto:\d+ \S+ inline:([^|\s]+)/g)].map((x) => x[1]!));
  }

  before(async () => {
    bench = await startAsteriskBench({ endpoints: [ALICE, BOB, CAROL], modules: ['res_srtp.so'], tls: true });
    asterisk = bench.asterisk;
  });
  afterEach(() => bench.settle());
  after(() => bench?.stop());

  for (const transport of ASTERISK_TRANSPORTS) {
    describe(`over ${transport.toUpperCase()}`, () => {
      async function connect(user: { username: string }, sipSrtp: string): Promise<WebRtcClient> {
        const client = await bench.connect(user.username, { sipSrtp, sipTransport: transport });
        await asterisk.waitFor(() => asterisk.contacts(), (c) => c.some((x) => x.aor === user.username), STEP_MS, `${user.username} registered`);
        return client;
      }
      /** Asterisk's log entry of an INVITE it received over this transport. */
      const inviteOver = new RegExp(`Received SIP request \\(\\d+ bytes\\) from ${transport.toUpperCase()}:127\\.0\\.0\\.1:\\d+ --->\\nINVITE sip:`);

      it('required: alice calls Echo() — SRTP both ways; hold and unhold re-key, and the echo comes back after each', async () => {
        const alice = await connect(ALICE, 'required');
        const { call, established } = await answered(alice, 'echo');
        assert.match(String(established['sipMessageRaw']), /m=audio \d+ RTP\/SAVP[\s\S]*a=crypto:\d AES_CM_128_HMAC_SHA1_(80|32) inline:\[redacted\]/);
        assert.equal((await liveCall())?.['sipSrtpSuite'], 'AES_CM_128_HMAC_SHA1_80');
        assert.match(asterisk.logs(), inviteOver);
        assert.ok((await call.exchangeAudio(50, 40)) >= 40, 'Echo() sends back what alice sends, through SRTP both ways');
        const keysBefore = keysAsteriskReceived();
        call.hold();
        await call.waitStatus('HOLD', STEP_MS);
        call.unhold();
        await eventually(() => call.statuses().filter((s) => s === 'ESTABLISHED').length === 2, STEP_MS, 'ESTABLISHED again');
        const newKeys = keysAsteriskReceived().slice(keysBefore.length);
        assert.ok(newKeys.length >= 4, `the hold and unhold offers carried keys (${newKeys.length})`);
        assert.ok(newKeys.every((k) => !keysBefore.includes(k)), 'each re-INVITE re-keys');
        assert.ok((await call.exchangeAudio(50, 40)) >= 40, 'echoed again after the re-key');
        assert.doesNotMatch(JSON.stringify(bench.backend.requests.map((r) => r.json)) + JSON.stringify(alice.ws.frames), /inline:(?!\[redacted\])/,
          'no SRTP key reached the backend or the client');
        call.hangup();
        assert.equal((await call.waitEnd())['status'], 'FINISH');
      });

      it('required: DTMF both ways inside SRTP — RFC 4733 read by Asterisk, SendDTMF() at the browser', async () => {
        const alice = await connect(ALICE, 'required');
        const { call: toAsterisk } = await answered(alice, 'dtmf');
        await asterisk.dbDel('callhook', 'dtmf');
        toAsterisk.sendDtmf('1234');
        assert.equal(await asterisk.waitFor(() => asterisk.dbGet('callhook', 'dtmf'), (d) => d !== undefined, STEP_MS, 'Read() to finish'), '1234');
        toAsterisk.hangup();
        await toAsterisk.waitEnd();

        await asterisk.dbPut('callhook', 'send-dtmf', '59');
        const { call: fromAsterisk } = await answered(alice, 'send-dtmf');
        await eventually(() => fromAsterisk.received(126) >= 6, STEP_MS, () => `the digits' RFC 4733 events at the browser (${fromAsterisk.received(126)})`);
        fromAsterisk.hangup();
        await fromAsterisk.waitEnd();
      });

      it('required: Asterisk calls alice with an SDES offer — answered with SRTP, echoed both ways', async () => {
        const alice = await connect(ALICE, 'required');
        await asterisk.originate('alice', { callerIdNumber: '5551234' });
        const call = await alice.nextIncoming(STEP_MS);
        await call.waitStatus('RING');
        await call.answer();
        await call.waitStatus('ESTABLISHED', STEP_MS);
        await call.connected();
        await echoedWithSuite(call, 'AES_CM_128_HMAC_SHA1_80');
      });

      it('optional against an optimistic SDES endpoint (carol): best-effort RTP/AVP with a=crypto is taken, SRTP both ways', async () => {
        const carol = await connect(CAROL, 'optional');
        const { call } = await answered(carol, 'echo');
        await echoedWithSuite(call, 'AES_CM_128_HMAC_SHA1_80');
      });

      it('optional against an endpoint without SRTP (bob): plain RTP, echoed both ways', async () => {
        const bob = await connect(BOB, 'optional');
        const { call } = await answered(bob, 'echo');
        await echoedWithSuite(call, undefined);
      });

      it('required against an endpoint without SRTP (bob): its plain offer is refused `No common crypto`, ours is refused by it', async () => {
        const bob = await connect(BOB, 'required');
        await asterisk.originate('bob', { callerIdNumber: '5550000' });
        await asterisk.waitFor(() => asterisk.dialStatus('bob'), (s) => s !== undefined, STEP_MS, 'Dial() to bob to return');
        await eventually(() => bench.backend.requests.some((r) => r.hook === 'CallStatusEvent' && r.json?.['status'] === 'FAILED'), STEP_MS, 'CallStatusEvent FAILED');
        const failed = bench.backend.requests.find((r) => r.hook === 'CallStatusEvent' && r.json?.['status'] === 'FAILED')!.json!;
        assert.equal(failed['info'], 'No common crypto');
        assert.ok(!bob.ws.frames.some((f) => f.message === 'notifyIncomingCall'), 'the client never rang');

        const call = await bob.call('echo');
        const end = await call.waitEnd(STEP_MS);
        assert.equal(end['status'], 'FAILED');
        assert.equal(end['sipStatus'], 488, 'Asterisk refuses RTP/SAVP on an endpoint without media_encryption');
        assert.equal(end['info'], 'No common crypto');
      });
    });
  }
});
