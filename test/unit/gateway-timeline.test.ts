/**
 * The per-session timeline recorder (src/gateway/timeline.ts): what it keeps, for how long, and how SIP messages
 * find their session. Real SIP messages from the parser; the hook attempts as the engine reports them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimelineRecorder } from '../../src/gateway/timeline.ts';
import { parseMessage } from '../../src/sip/message/parse.ts';

const PEER = { address: '127.0.0.1', port: 5060 };

function invite(callId: string): Buffer {
  return Buffer.from(
    [
      'INVITE sip:bob@example.com SIP/2.0',
      'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1',
      'Max-Forwards: 70',
      'To: <sip:bob@example.com>',
      'From: <sip:alice@example.com>;tag=a',
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      'Proxy-Authorization: Digest username="alice", response="0123456789abcdef"',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

function response(callId: string, status: string): Buffer {
  return Buffer.from(
    [`SIP/2.0 ${status}`, 'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1', 'To: <sip:bob@example.com>;tag=b', 'From: <sip:alice@example.com>;tag=a', `Call-ID: ${callId}`, 'CSeq: 1 INVITE', 'Content-Length: 0', '', ''].join('\r\n'),
  );
}

const receive = (r: TimelineRecorder, raw: Buffer) => r.sipObserver('in', parseMessage(raw), PEER, raw);

describe('timeline recorder', () => {
  it('keeps at most maxSteps per session, the newest, and counts what it let go', () => {
    const r = new TimelineRecorder({ keepEnded: 5, maxSteps: 10 });
    const t = r.open('/1.1.1.1:1/2.2.2.2:2', 'app');
    for (let i = 0; i < 25; i++) t.fromClient(`frame-${i}`);
    const view = r.view(t.sessionId)!;
    assert.equal(view.timeline.length, 10);
    assert.equal(view.droppedSteps, 15);
    assert.equal(view.timeline[0]!.label, 'frame-15');
  });

  it('keeps the keepEnded sessions that ended last, besides every live one', () => {
    const r = new TimelineRecorder({ keepEnded: 2, maxSteps: 10 });
    const ts = ['a', 'b', 'c', 'd'].map((id) => r.open(id, 'app'));
    for (const t of ts.slice(0, 3)) r.close(t);
    assert.deepEqual(r.list().map((s) => [s.sessionId, s.endedAt === null]), [['d', true], ['c', false], ['b', false]]);
    assert.equal(r.view('a'), undefined);
  });

  it('a SIP message seen before its Call-ID is tracked (an incoming INVITE) still joins its session; others stay out', () => {
    const r = new TimelineRecorder({ keepEnded: 2, maxSteps: 50 });
    const t = r.open('s', 'app');
    receive(r, invite('early@x'));
    receive(r, invite('someone-else@x'));
    t.trackSip('early@x');
    receive(r, response('early@x', '486 Busy Here'));
    const steps = r.view('s')!.timeline;
    assert.deepEqual(steps.map((s) => [s.lane, s.direction, s.label, s.failed]), [
      ['sip', 'in', 'INVITE', false],
      ['sip', 'in', '486 Busy Here', true],
    ]);
    assert.match(steps[0]!.raw!, /^Proxy-Authorization: Digest \[redacted\]/m, 'credentials redacted');
    assert.equal(steps[1]!.detail, 'SIP 486 Busy Here (INVITE)');
  });

  it('a hook attempt is two steps with the hook log\'s bodies, the answer failed in the hook log\'s words', () => {
    const r = new TimelineRecorder({ keepEnded: 2, maxSteps: 50 });
    r.open('s', 'app');
    r.hookAttempt({
      time: 1_000, appKey: 'app', sessionId: 's', method: 'connect', url: 'http://127.0.0.1:9/connect', status: 500, latencyMs: 12.4,
      error: 'HTTP 500 Internal Server Error', requestBody: '{"sipLogin":"alice","sipPassword":"[redacted]"}', responseBody: 'Internal Server Error',
    });
    const [request, answer] = r.view('s')!.timeline;
    assert.deepEqual([request!.label, request!.direction, request!.failed], ['connect', 'out', false]);
    assert.deepEqual([answer!.label, answer!.direction, answer!.failed, answer!.gapMs], ['500', 'in', true, 12]);
    assert.equal(answer!.detail, 'connect in 12 ms: HTTP 500 Internal Server Error');
    assert.match(request!.raw!, /"sipLogin": "alice"/);
    assert.match(request!.raw!, /"sipPassword": "\[redacted\]"/);
    assert.match(answer!.raw!, /"response": "Internal Server Error"/);
  });

  it('with keepEnded 0 it records nothing at all', () => {
    const r = new TimelineRecorder({ keepEnded: 0, maxSteps: 50 });
    const t = r.open('s', 'app');
    t.fromClient('connection');
    t.trackSip('x@y');
    receive(r, invite('x@y'));
    assert.equal(r.view('s'), undefined);
    assert.deepEqual(r.list(), []);
  });
});
