/**
 * The SDK's Call state machine with a fake microphone and RTCPeerConnection (test/unit/sdk-fakes.ts) and a
 * WebSocket the test plays the server of: the `call` / `answer` frames and when they go out (at once, not after ICE gathering),
 * the server's status frames, `fail` routing, hangup in each phase, and the release of the media.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CallhookError, connect, type Call, type CallStatusEvent, type ConnectOptions, type Session, type Warning } from '../../sdk/src/index.ts';
import { eventually } from '../support/eventually.ts';
import { FAKE_CANDIDATE, FakePeerConnection, FakeWebSocket, fakeGetUserMedia } from './sdk-fakes.ts';

/** How long a fake may take to do what the test waits for. */
const WAIT_MS = 2000;
const ANSWER_SDP = 'v=0\r\no=callhook 1 1 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 35000 UDP/TLS/RTP/SAVPF 0\r\n';
const sessions: Session[] = [];

async function connected(extra: Partial<ConnectOptions> = {}, gum = fakeGetUserMedia()) {
  const before = FakeWebSocket.all.length;
  const pending = connect({
    url: 'ws://callhook.test/',
    WebSocket: FakeWebSocket,
    media: { getUserMedia: gum.getUserMedia, RTCPeerConnection: FakePeerConnection as unknown as typeof RTCPeerConnection },
    ...extra,
  });
  await eventually(() => FakeWebSocket.all.length > before && FakeWebSocket.last.sent.length > 0, WAIT_MS, 'the connection frame');
  const ws = FakeWebSocket.last;
  ws.deliver('getUserData', { status: 'ESTABLISHED', sessionId: '/1.2.3.4:5/6.7.8.9:8080', sipLogin: 'alice' });
  const session = await pending;
  sessions.push(session);
  return { session, ws, gum };
}

function statuses(call: Call): CallStatusEvent[] {
  const seen: CallStatusEvent[] = [];
  call.on('status', (e) => seen.push(e));
  return seen;
}

const callFrame = (ws: FakeWebSocket) => ws.sentNamed('call')[0];

describe('SDK Call', () => {
  beforeEach(() => {
    FakeWebSocket.reset();
    FakePeerConnection.reset();
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.disconnect();
  });

  describe('outgoing', () => {
    it('sends `call` with the offer at once, without waiting for ICE gathering, then follows the server statuses', async () => {
      const { session, ws, gum } = await connected();
      const call = session.call({ callee: 'bob', custom: { ref: 7 }, visibleName: 'Alice A.' });
      const seen = statuses(call);
      assert.equal(call.status, 'PENDING');
      assert.equal(call.incoming, false);
      assert.deepEqual(session.calls, [call]);
      await eventually(() => callFrame(ws) !== undefined, WAIT_MS, 'the call frame');
      assert.deepEqual(gum.constraints, [{ audio: true, video: false }]);
      const frame = callFrame(ws)!;
      assert.deepEqual({ ...frame, sdp: undefined }, {
        callId: call.id,
        incoming: false,
        status: 'PENDING',
        mediaProvider: 'WebRTC',
        callee: 'bob',
        caller: 'alice',
        visibleName: 'Alice A.',
        custom: { ref: 7 },
        hasAudio: true,
        hasVideo: false,
        sdp: undefined,
      });
      assert.ok(!String(frame['sdp']).includes(FAKE_CANDIDATE), 'the offer waited for ICE gathering');
      const pc = FakePeerConnection.all[0]!;
      assert.equal(pc.tracks.length, 1);

      ws.deliver('setRemoteSDP', call.id, ANSWER_SDP);
      await eventually(() => pc.remoteDescription !== null, WAIT_MS, 'the answer applied');
      assert.deepEqual(pc.remoteDescription, { type: 'answer', sdp: ANSWER_SDP });

      const base = { callId: call.id, callee: 'bob', caller: 'alice', incoming: false };
      ws.deliver('notifyTryingResponse', { ...base, status: 'TRYING', info: 'SIP 100 Trying', sipStatus: 100 });
      ws.deliver('ring', { ...base, status: 'RING', info: 'SIP 180 Ringing', sipStatus: 180 });
      ws.deliver('talk', { ...base, status: 'ESTABLISHED' });
      assert.deepEqual(
        seen.map((e) => [e.status, e.info, e.sipStatus]),
        [
          ['TRYING', 'SIP 100 Trying', 100],
          ['RING', 'SIP 180 Ringing', 180],
          ['ESTABLISHED', undefined, undefined],
        ],
      );
      assert.equal(call.info, undefined, 'a status without info clears the previous one');

      call.hold();
      ws.deliver('hold', { ...base, status: 'HOLD' });
      call.unhold();
      call.sendDtmf('12#A');
      call.sendDtmf('5', 'INFO');
      call.transfer('carol');
      assert.deepEqual(
        ws.sent.slice(-5).map((f) => [f.message, f.data[0]]),
        [
          ['hold', { callId: call.id }],
          ['unhold', { callId: call.id }],
          ['sendDtmf', { callId: call.id, dtmf: '12#A', type: 'RFC2833' }],
          ['sendDtmf', { callId: call.id, dtmf: '5', type: 'INFO' }],
          ['transfer', { callId: call.id, target: 'carol' }],
        ],
      );
      const transfers: unknown[] = [];
      call.on('transfer', (e) => transfers.push(e));
      ws.deliver('notifyTransferEvent', { callId: call.id, status: 'ACCEPTED', info: 'SIP 202 Accepted' });
      assert.deepEqual(transfers, [{ status: 'ACCEPTED', info: 'SIP 202 Accepted' }]);

      ws.deliver('finish', { ...base, status: 'FINISH', info: 'Normal call clearing' });
      assert.deepEqual(seen.at(-1)?.status, 'FINISH');
      assert.equal(call.info, 'Normal call clearing');
      assert.equal(call.ended, true);
      assert.equal(pc.closed, true);
      assert.equal(gum.streams[0]?.tracks[0]?.stopped, true, 'the microphone is released');
      assert.deepEqual(session.calls, []);
      assert.throws(() => call.sendDtmf('1'), (e: CallhookError) => e.code === 'INVALID_STATE');
      call.hangup(); // nothing to do on an ended call
      assert.equal(ws.sentNamed('hangup').length, 0);
    });

    it('a refused hold is a warning on the call; the call goes on', async () => {
      const { session, ws } = await connected();
      const call = session.call({ callee: 'bob' });
      await eventually(() => callFrame(ws) !== undefined, WAIT_MS, 'the call frame');
      ws.deliver('talk', { callId: call.id, status: 'ESTABLISHED' });
      const warnings: Warning[] = [];
      call.on('warning', (w) => warnings.push(w));
      ws.deliver('fail', { status: 'FAILED', info: 'Hold is not allowed', apiMethod: 'hold', callId: call.id });
      assert.deepEqual(warnings, [{ apiMethod: 'hold', info: 'Hold is not allowed', callId: call.id }]);
      assert.equal(call.status, 'ESTABLISHED');
    });

    it('a hook refusal (fail CallStatusEvent) is a warning; the status comes with the server finish', async () => {
      const { session, ws } = await connected();
      const call = session.call({ callee: '999' });
      const seen = statuses(call);
      const warnings: Warning[] = [];
      call.on('warning', (w) => warnings.push(w));
      await eventually(() => callFrame(ws) !== undefined, WAIT_MS, 'the call frame');
      ws.deliver('fail', { status: 'FAILED', info: 'Calls to 999 are not allowed', apiMethod: 'CallStatusEvent', callId: call.id });
      assert.equal(call.status, 'PENDING');
      ws.deliver('finish', { callId: call.id, status: 'FAILED', info: 'Calls to 999 are not allowed', callee: '999' });
      assert.deepEqual(warnings, [{ apiMethod: 'CallStatusEvent', info: 'Calls to 999 are not allowed', callId: call.id }]);
      assert.deepEqual(seen.map((e) => [e.status, e.info]), [['FAILED', 'Calls to 999 are not allowed']]);
    });

    it('a refused `call` message ends the call FAILED with the server reason, with or without a callId in the fail', async () => {
      const { session, ws } = await connected();
      const first = session.call({ callee: 'bob' });
      const second = session.call({ callee: 'carol' });
      await eventually(() => ws.sentNamed('call').length === 2, WAIT_MS, 'two call frames');
      // As callhook answers a call message it cannot take: no callId, frames answered in order.
      ws.deliver('fail', { status: 'FAILED', info: 'call: calls are not available in this version of callhook', apiMethod: 'call' });
      assert.deepEqual([first.status, first.info], ['FAILED', 'call: calls are not available in this version of callhook']);
      assert.equal(second.status, 'PENDING');
      ws.deliver('fail', { status: 'FAILED', info: 'Calls to carol are not allowed', apiMethod: 'call', callId: second.id });
      assert.deepEqual([second.status, second.info], ['FAILED', 'Calls to carol are not allowed']);
      assert.ok(FakePeerConnection.all.every((pc) => pc.closed));
      assert.deepEqual(session.calls, []);
    });

    it('ICE gathering that never completes (an unreachable STUN server) does not hold the `call` frame back', async () => {
      FakePeerConnection.gatheringMs = -1;
      const { session, ws } = await connected();
      session.call({ callee: 'bob' });
      // The SDK used to wait 3 s for gathering here: the post-dial delay of issue 18.
      await eventually(() => callFrame(ws) !== undefined, WAIT_MS, 'the call frame');
      assert.equal(FakePeerConnection.all[0]!.iceGatheringState, 'gathering');
    });

    it('fails locally, with the reason and no `call` frame, when the microphone is refused or WebRTC is missing', async () => {
      const { session, ws } = await connected({}, fakeGetUserMedia({ refuse: true }));
      const denied = session.call({ callee: 'bob' });
      await eventually(() => denied.ended, WAIT_MS, 'the call to fail');
      assert.deepEqual([denied.status, denied.info], ['FAILED', 'getUserMedia failed: NotAllowedError: Permission denied']);

      const bare = await connected({ media: {} });
      const noWebRtc = bare.session.call({ callee: 'bob' });
      await eventually(() => noWebRtc.ended, WAIT_MS, 'the call to fail');
      assert.deepEqual([noWebRtc.status, noWebRtc.info], ['FAILED', 'WebRTC is not available here (no RTCPeerConnection)']);
      assert.equal(ws.sentNamed('call').length + bare.ws.sentNamed('call').length, 0);
    });

    it('hangup before the `call` frame went out ends it here (FINISH) and sends nothing', async () => {
      const { session, ws, gum } = await connected({}, fakeGetUserMedia({ delayMs: 30 }));
      const call = session.call({ callee: 'bob' });
      const seen = statuses(call);
      await eventually(() => gum.constraints.length === 1, WAIT_MS, 'the microphone to be asked for');
      call.hangup();
      // The microphone comes after the hangup: the call must still not go out.
      await eventually(() => FakePeerConnection.all[0]?.closed === true, WAIT_MS, 'the peer connection to be made and closed');
      assert.deepEqual(seen.map((e) => [e.status, e.info]), [['FINISH', 'Hung up before the call was placed']]);
      assert.equal(ws.sentNamed('call').length + ws.sentNamed('hangup').length, 0);
      assert.equal(FakePeerConnection.all[0]!.closed, true);
    });

    it('hangup after placing sends `hangup`, releases the microphone at once, and ends at the server finish', async () => {
      const { session, ws, gum } = await connected();
      const call = session.call({ callee: 'bob' });
      await eventually(() => callFrame(ws) !== undefined, WAIT_MS, 'the call frame');
      call.hangup();
      assert.deepEqual(ws.sentNamed('hangup'), [{ callId: call.id }]);
      assert.equal(gum.streams[0]?.tracks[0]?.stopped, true);
      assert.equal(call.status, 'PENDING', 'the server decides the final status');
      ws.deliver('finish', { callId: call.id, status: 'FINISH', info: 'Normal call clearing' });
      assert.equal(call.status, 'FINISH');
    });

    it('mute() disables the microphone track, unmute() enables it', async () => {
      const { session, ws, gum } = await connected();
      const call = session.call({ callee: 'bob' });
      await eventually(() => callFrame(ws) !== undefined, WAIT_MS, 'the call frame');
      call.mute();
      assert.deepEqual([call.muted, gum.streams[0]?.tracks[0]?.enabled], [true, false]);
      call.unmute();
      assert.deepEqual([call.muted, gum.streams[0]?.tracks[0]?.enabled], [false, true]);
    });

    it('refuses bad arguments', async () => {
      const { session, ws } = await connected();
      assert.throws(() => session.call({ callee: ' ' }), (e: CallhookError) => e.code === 'INVALID_ARGUMENT');
      const call = session.call({ callee: 'bob' });
      assert.throws(() => call.hold(), (e: CallhookError) => e.code === 'INVALID_STATE' && e.info === 'hold: the call is not connected yet (PENDING)');
      await eventually(() => callFrame(ws) !== undefined, WAIT_MS, 'the call frame');
      assert.throws(() => call.sendDtmf('12x'), (e: CallhookError) => e.info === 'sendDtmf: digits must be 0-9, *, #, A-D, got "12x"');
      assert.throws(() => call.sendDtmf('1', 'SIP' as 'INFO'), (e: CallhookError) => e.code === 'INVALID_ARGUMENT');
      assert.throws(() => call.transfer(''), (e: CallhookError) => e.info === 'transfer: target must be a non-empty string');
      await assert.rejects(session.answer(call), (e: CallhookError) => e.code === 'INVALID_STATE' && e.info === 'answer: this is an outgoing call');
    });
  });

  describe('incoming', () => {
    const OFFER = 'v=0\r\no=callhook 2 1 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 35002 UDP/TLS/RTP/SAVPF 0 8\r\n';
    const incoming = { callId: 'srv-1', status: 'PENDING', incoming: true, caller: 'sip:bob@pbx.test', callee: 'alice', visibleName: 'Bob' };

    async function ringing() {
      const c = await connected();
      const calls: Call[] = [];
      c.session.on('incomingCall', (call) => calls.push(call));
      c.ws.deliver('setRemoteSDP', 'srv-1', OFFER);
      c.ws.deliver('notifyIncomingCall', incoming);
      assert.equal(calls.length, 1);
      return { ...c, call: calls[0]! };
    }

    it('the offer (setRemoteSDP) then notifyIncomingCall make an incomingCall; answer sends our answer after gathering', async () => {
      const { session, ws, call, gum } = await ringing();
      assert.deepEqual([call.id, call.incoming, call.status, call.caller, call.visibleName], ['srv-1', true, 'PENDING', 'sip:bob@pbx.test', 'Bob']);
      assert.deepEqual(session.calls, [call]);
      const seen = statuses(call);
      await session.answer(call);
      const pc = FakePeerConnection.all[0]!;
      assert.deepEqual(pc.remoteDescription, { type: 'offer', sdp: OFFER });
      assert.deepEqual(gum.constraints, [{ audio: true, video: false }]);
      const answer = ws.sentNamed('answer')[0]!;
      assert.deepEqual({ ...answer, sdp: undefined }, {
        callId: 'srv-1',
        incoming: true,
        status: 'PENDING',
        mediaProvider: 'WebRTC',
        caller: 'sip:bob@pbx.test',
        callee: 'alice',
        hasAudio: true,
        hasVideo: false,
        sdp: undefined,
      });
      assert.ok(!String(answer['sdp']).includes(FAKE_CANDIDATE), 'the answer waited for ICE gathering');
      await assert.rejects(session.answer(call), (e: CallhookError) => e.info === 'answer: the call is already answered or hung up');
      ws.deliver('talk', { ...incoming, status: 'ESTABLISHED' });
      assert.deepEqual(seen.map((e) => e.status), ['ESTABLISHED']);
    });

    it('hangup before answering declines: `hangup` is sent and the server finish ends it', async () => {
      const { ws, call } = await ringing();
      call.hangup();
      assert.deepEqual(ws.sentNamed('hangup'), [{ callId: 'srv-1' }]);
      ws.deliver('finish', { ...incoming, status: 'FINISH', info: 'Normal call clearing' });
      assert.equal(call.status, 'FINISH');
      assert.equal(FakePeerConnection.all.length, 0, 'no media was opened');
    });

    it('the caller giving up (finish before answer) ends it; answer is then refused', async () => {
      const { session, ws, call } = await ringing();
      ws.deliver('finish', { ...incoming, status: 'FINISH', info: 'Normal call clearing' });
      assert.equal(call.ended, true);
      await assert.rejects(session.answer(call), (e: CallhookError) => e.code === 'INVALID_ARGUMENT');
    });

    it('a failed answer (microphone refused) declines the call and rejects with the reason', async () => {
      const c = await connected({}, fakeGetUserMedia({ refuse: true }));
      const calls: Call[] = [];
      c.session.on('incomingCall', (call) => calls.push(call));
      c.ws.deliver('setRemoteSDP', 'srv-2', OFFER);
      c.ws.deliver('notifyIncomingCall', { ...incoming, callId: 'srv-2' });
      const call = calls[0]!;
      await assert.rejects(c.session.answer(call), (e: CallhookError) => e.code === 'MEDIA_FAILED' && e.info === 'getUserMedia failed: NotAllowedError: Permission denied');
      assert.deepEqual(c.ws.sentNamed('hangup'), [{ callId: 'srv-2' }]);
      assert.deepEqual([call.status, call.info], ['FAILED', 'getUserMedia failed: NotAllowedError: Permission denied']);
    });
  });

  it('a call whose session closes while the microphone opens releases it when it arrives', async () => {
    const { session, ws, gum } = await connected({}, fakeGetUserMedia({ delayMs: 30 }));
    const call = session.call({ callee: 'bob' });
    ws.serverClose(1006);
    assert.deepEqual([call.status, call.info], ['FAILED', 'Connection lost (WebSocket close code 1006)']);
    await eventually(() => gum.streams.length === 1, WAIT_MS, 'the microphone');
    await eventually(() => gum.streams[0]!.tracks.every((t) => t.stopped), WAIT_MS, 'the microphone released');
    assert.ok(FakePeerConnection.all.every((pc) => pc.closed));
    assert.equal(ws.sentNamed('call').length, 0);
  });

  it('the connection dropping ends every call FAILED with the close code', async () => {
    const { session, ws } = await connected();
    const call = session.call({ callee: 'bob' });
    await eventually(() => callFrame(ws) !== undefined, WAIT_MS, 'the call frame');
    ws.serverClose(1006);
    assert.deepEqual([call.status, call.info], ['FAILED', 'Connection lost (WebSocket close code 1006)']);
    assert.equal(FakePeerConnection.all[0]!.closed, true);
  });
});
