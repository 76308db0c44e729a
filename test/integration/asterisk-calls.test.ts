/**
 * Calls against a real Asterisk 22 (PJSIP; test/support/asterisk.ts) with callhook as its own process: a session
 * registered as alice, the werift test client as its browser. Echo() with audio both ways, an incoming call that
 * Asterisk originates to alice's Contact (the caller ID, and alice — not the Contact's user — as the callee in the
 * client protocol, the hooks, /api/calls and the CDR), hold/unhold, DTMF both ways, busy, unknown and early media,
 * a blind transfer, and missed and declined incoming calls: each over UDP, TCP and TLS against the one Asterisk.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ASTERISK_TRANSPORTS, startAsteriskBench, type AsteriskBench } from '../support/asterisk-bench.ts';
import type { AsteriskInstance } from '../support/asterisk.ts';
import { eventually } from '../support/eventually.ts';
import type { WebRtcClient } from '../support/webrtc-client.ts';

/**
 * `refer_blind_progress = no`: Asterisk reports a blind transfer into its dialplan done (NOTIFY 200) as soon as it
 * has carried it out; by default its NOTIFYs follow the transferee's channel, which, already answered, gives no
 * answer to report and ends in a 503 (docs/interop.md).
 */
const ALICE = { username: 'alice', password: 'alice-pw', endpoint: { refer_blind_progress: 'no' } };
const STEP_MS = 10_000;

describe('calls against Asterisk: callhook session alice ↔ Asterisk dialplan', { timeout: 480_000 }, () => {
  let bench: AsteriskBench;
  let asterisk: AsteriskInstance;

  const hookBodies = (hook: string, callId: string): Record<string, unknown>[] =>
    bench.backend.requests.filter((r) => r.hook === hook && r.json?.['callId'] === callId).map((r) => r.json!);

  async function adminGet(path: string): Promise<unknown> {
    const res = await fetch(`${bench.callhook.adminUrl}${path}`, { headers: { Authorization: `Bearer ${bench.callhook.adminToken}` } });
    assert.equal(res.status, 200, `GET ${path}`);
    return res.json();
  }

  before(async () => {
    bench = await startAsteriskBench({ endpoints: [ALICE], tls: true });
    asterisk = bench.asterisk;
  });
  afterEach(() => bench.settle());
  after(() => bench?.stop());

  for (const transport of ASTERISK_TRANSPORTS) {
    describe(`over ${transport.toUpperCase()}`, () => {
      const connectAlice = (): Promise<WebRtcClient> => bench.connect(ALICE.username, { sipTransport: transport });
      /** Asterisk's log entry of a request it sent over this transport, its request line starting with `start`. */
      const sentOver = (start: string) => new RegExp(`Transmitting SIP request \\(\\d+ bytes\\) to ${transport.toUpperCase()}:127\\.0\\.0\\.1:\\d+ --->\\n${start}`);
      /** … and one it received over this transport. */
      const receivedOver = (start: string) => new RegExp(`Received SIP request \\(\\d+ bytes\\) from ${transport.toUpperCase()}:127\\.0\\.0\\.1:\\d+ --->\\n${start}`);

      it('Asterisk calls alice (to her Contact): caller ID shown; callee is alice, the Request-URI kept apart', async () => {
        const alice = await connectAlice();
        const [contact] = await asterisk.waitFor(() => asterisk.contacts(), (c) => c.length === 1, STEP_MS, 'alice registered');
        await asterisk.originate('alice', { callerIdNumber: '5551234', callerIdName: 'Bob Caller' });
        const call = await alice.nextIncoming(STEP_MS);
        const notify = call.frames.find((f) => f.message === 'notifyIncomingCall')!.data[0] as Record<string, unknown>;
        assert.equal(notify['caller'], '5551234');
        assert.equal(notify['visibleName'], 'Bob Caller');
        // Asterisk addresses the INVITE to the registered Contact (sip:<random user>@…): alice is still the callee.
        assert.equal(notify['callee'], 'alice');
        assert.match(asterisk.logs(), sentOver('INVITE sip:'));
        const contactUser = /^sip:([^@]+)@/.exec(contact!.uri)?.[1];
        assert.ok(contactUser !== undefined && contactUser !== 'alice', `the Contact has callhook's own user: ${contact!.uri}`);
        assert.match(String(notify['sipRequestUri']), new RegExp(`^sip:${contactUser}@`));
        const onCall = hookBodies('OnCallEvent', call.callId)[0]!;
        assert.deepEqual([onCall['caller'], onCall['callee']], ['5551234', 'alice']);
        assert.equal(onCall['sipRequestUri'], notify['sipRequestUri']);
        const [listed] = (await adminGet('/api/calls')) as Array<Record<string, unknown>>;
        assert.deepEqual([listed?.['caller'], listed?.['callee'], listed?.['sipRequestUri']], ['5551234', 'alice', notify['sipRequestUri']]);

        await call.waitStatus('RING');
        await call.answer();
        await call.waitStatus('ESTABLISHED', STEP_MS);
        await call.connected();
        // The call runs Echo() once answered: what alice sends comes back.
        assert.ok((await call.exchangeAudio(50, 40)) >= 40);
        call.hangup();
        assert.equal((await call.waitEnd())['status'], 'FINISH');
        await asterisk.waitFor(() => asterisk.dialStatus('alice'), (s) => s === 'ANSWER', STEP_MS, 'Dial() to report ANSWER');
        await eventually(() => hookBodies('CallDetailRecord', call.callId).length === 1, STEP_MS, 'the CallDetailRecord');
        const cdr = hookBodies('CallDetailRecord', call.callId)[0]!;
        assert.deepEqual([cdr['direction'], cdr['caller'], cdr['callee']], ['incoming', '5551234', 'alice']);
      });

      it('alice calls Echo(): ESTABLISHED, audio both ways; hold (HOLD, nothing echoed) and unhold (echoed again)', async () => {
        const alice = await connectAlice();
        const call = await alice.call('echo');
        await call.waitStatus('ESTABLISHED', STEP_MS);
        await call.connected();
        assert.ok((await call.exchangeAudio(50, 40)) >= 40, 'Echo() sends back what alice sends');
        const [channel] = await asterisk.channels();
        assert.deepEqual([channel?.application, channel?.state], ['Echo', 'Up']);
        call.hold();
        await call.waitStatus('HOLD', STEP_MS);
        assert.match(asterisk.logs(), receivedOver('INVITE sip:'));
        const sentWhileHeld = await call.sendAudio(25);
        call.unhold();
        await eventually(() => call.statuses().filter((s) => s === 'ESTABLISHED').length === 2, STEP_MS, 'ESTABLISHED again');
        assert.equal(call.echoesOf(sentWhileHeld, 25), 0, 'nothing reaches a held Echo(), nothing comes back');
        assert.ok((await call.exchangeAudio(50, 40)) >= 40, 'echoed again after the unhold');
        call.hangup();
        assert.equal((await call.waitEnd())['status'], 'FINISH');
        // Answer() answers at once: no 180 before the 200.
        assert.deepEqual(call.statuses().filter((s) => s !== 'TRYING'), ['ESTABLISHED', 'HOLD', 'ESTABLISHED', 'FINISH']);
      });

      it('DTMF both ways: RFC 4733 and INFO digits read by Asterisk; SendDTMF() reaches the browser as RFC 4733 events', async () => {
        const alice = await connectAlice();
        const toAsterisk = await alice.call('dtmf');
        await toAsterisk.waitStatus('ESTABLISHED', STEP_MS);
        await toAsterisk.connected();
        await asterisk.dbDel('callhook', 'dtmf');
        toAsterisk.sendDtmf('12');
        // Asterisk takes INFO (application/dtmf-relay) whatever its dtmf_mode.
        toAsterisk.sendDtmf('3', 'INFO_RELAY');
        toAsterisk.sendDtmf('4');
        assert.equal(await asterisk.waitFor(() => asterisk.dbGet('callhook', 'dtmf'), (d) => d !== undefined, STEP_MS, 'Read() to finish'), '1234');
        assert.match(asterisk.logs(), receivedOver('INFO sip:'));
        toAsterisk.hangup();
        await toAsterisk.waitEnd();

        await asterisk.dbPut('callhook', 'send-dtmf', '59');
        const fromAsterisk = await alice.call('send-dtmf');
        await fromAsterisk.waitStatus('ESTABLISHED', STEP_MS);
        await fromAsterisk.connected();
        // callhook's telephone-event towards the browser is Chrome's 126 (telephone-event/8000 in the werift offer);
        // each digit is several event packets (RFC 4733 §2.5.1.2: updates, and the end packet sent three times).
        await eventually(() => fromAsterisk.received(126) >= 6, STEP_MS, () => `the digits' RFC 4733 events at the browser (${fromAsterisk.received(126)})`);
        fromAsterisk.hangup();
        await fromAsterisk.waitEnd();
      });

      it('busy → BUSY (486), an unknown extension → FAILED (404)', async () => {
        const alice = await connectAlice();
        const busy = await alice.call('busy');
        const busyEnd = await busy.waitEnd(STEP_MS);
        assert.deepEqual([busyEnd['status'], busyEnd['info'], busyEnd['sipStatus']], ['BUSY', 'SIP 486 Busy Here', 486]);

        const unknown = await alice.call('nobody-here');
        const unknownEnd = await unknown.waitEnd(STEP_MS);
        assert.deepEqual([unknownEnd['status'], unknownEnd['info'], unknownEnd['sipStatus']], ['FAILED', 'SIP 404 Not Found', 404]);
      });

      it('a missed incoming call (Dial() times out: CANCEL) and a declined one (486: Dial() reports BUSY)', async () => {
        const alice = await connectAlice();
        await asterisk.originate('alice', { callerIdNumber: '5550001', ringTimeoutS: 2 });
        const missed = await alice.nextIncoming(STEP_MS);
        await missed.waitStatus('RING');
        const missedEnd = await missed.waitEnd(STEP_MS);
        assert.equal(missedEnd['status'], 'FINISH');
        assert.match(String(missedEnd['sipMessageRaw']), new RegExp(`^CANCEL sip:[^ ]+ SIP/2\\.0\\r\\nVia: SIP/2\\.0/${transport.toUpperCase()} `));
        assert.equal(await asterisk.waitFor(() => asterisk.dialStatus('alice'), (s) => s !== undefined, STEP_MS, 'DIALSTATUS'), 'NOANSWER');

        await asterisk.originate('alice', { callerIdNumber: '5550002' });
        const declined = await alice.nextIncoming(STEP_MS);
        await declined.waitStatus('RING');
        declined.hangup();
        assert.equal((await declined.waitEnd())['status'], 'FINISH');
        assert.equal(await asterisk.waitFor(() => asterisk.dialStatus('alice'), (s) => s !== undefined, STEP_MS, 'DIALSTATUS'), 'BUSY');
      });

      it('early media → SESSION_PROGRESS with the prompt, then FAILED', async () => {
        const alice = await connectAlice();
        const early = await alice.call('early');
        // Progress(): 183 Session Progress with SDP.
        await early.waitStatus('SESSION_PROGRESS', STEP_MS);
        await early.connected();
        assert.match(asterisk.logs(), receivedOver('INVITE sip:early@'));
        // Playback(demo-congrats, noanswer): the prompt plays before any answer.
        await eventually(() => early.receivedAudio() >= 50, STEP_MS, () => `the early-media prompt at the browser (${early.receivedAudio()} packets)`);
        const earlyEnd = await early.waitEnd(30_000);
        assert.equal(earlyEnd['status'], 'FAILED');
        assert.ok(!early.statuses().includes('ESTABLISHED'), 'never answered');
      });

      it('blind transfer (REFER): 202 Accepted, Asterisk moves the caller to the target extension; its NOTIFY 200 → COMPLETED, our BYE → FINISH', async () => {
        const alice = await connectAlice();
        await asterisk.dbDel('callhook', 'transferred');
        await asterisk.originate('alice', { callerIdNumber: '5550003' });
        const call = await alice.nextIncoming(STEP_MS);
        await call.waitStatus('RING');
        await call.answer();
        await call.waitStatus('ESTABLISHED', STEP_MS);
        call.transfer(`sip:transferred@${asterisk.host}:${asterisk.port}`);
        // Over TCP the 202 and the NOTIFY behind it come in one chunk: ACCEPTED must still be reported, and first.
        await call.waitFrame('notifyTransferEvent', STEP_MS, (d) => d['status'] === 'COMPLETED');
        const transferEvents = call.frames.filter((f) => f.message === 'notifyTransferEvent').map((f) => (f.data[0] as Record<string, unknown>));
        assert.deepEqual(transferEvents.map((e) => [e['status'], e['info']]), [
          ['PENDING', `REFER to sip:transferred@${asterisk.host}:${asterisk.port}`],
          ['ACCEPTED', 'SIP 202 Accepted'],
          ['TRYING', 'SIP 100 Trying'],
          ['COMPLETED', 'SIP 200 OK'],
        ]);
        assert.match(asterisk.logs(), receivedOver('REFER sip:'));
        assert.match(asterisk.logs(), sentOver('NOTIFY sip:'));
        // The caller (the originate's Local channel) now runs the target extension.
        assert.equal(await asterisk.waitFor(() => asterisk.dbGet('callhook', 'transferred'), (v) => v !== undefined, STEP_MS, 'the transfer target to run'), '5550003');
        // COMPLETED: the far end talks to the target now, callhook's BYE ends alice's leg.
        assert.equal((await call.waitEnd())['status'], 'FINISH');
        // FINISH is reported as our BYE goes out; Asterisk's 200 to it is in its log a moment later. (Over TLS its log
        // may show the BYE inside an entry that starts with another message, so the answer is what is looked for.)
        const byeAnswered = new RegExp(`Transmitting SIP response \\(\\d+ bytes\\) to ${transport.toUpperCase()}:127\\.0\\.0\\.1:\\d+ --->\\nSIP/2\\.0 200 OK[^[]*CSeq: \\d+ BYE`);
        await eventually(() => byeAnswered.test(asterisk.logs()), STEP_MS, "Asterisk's 200 to callhook's BYE");
      });
    });
  }
});
