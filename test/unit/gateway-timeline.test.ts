/**
 * The per-session timeline recorder (src/gateway/timeline.ts): what it keeps, for how long, and how SIP messages
 * find their session. Real SIP messages from the parser; the hook attempts as the engine reports them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimelineRecorder } from '../../src/gateway/timeline.ts';
import { parseMessage } from '../../src/sip/message/parse.ts';
import { serializeMessage } from '../../src/sip/message/serialize.ts';
import type { SipMessage } from '../../src/sip/message/message.ts';

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
const send = (r: TimelineRecorder, m: SipMessage) => r.sipObserver('out', m, PEER, serializeMessage(m));

const registerRequest = (callId: string, cseq: number, expires: number) =>
  parseMessage(
    Buffer.from(
      [
        'REGISTER sip:example.com SIP/2.0', `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-r${cseq}`, 'Max-Forwards: 70', 'To: <sip:alice@example.com>',
        'From: <sip:alice@example.com>;tag=a', `Call-ID: ${callId}`, `CSeq: ${cseq} REGISTER`, 'Contact: <sip:k3j4@127.0.0.1:5070>', `Expires: ${expires}`, 'Content-Length: 0', '', '',
      ].join('\r\n'),
    ),
  );
const registerResponse = (callId: string, cseq: number, status: string) =>
  Buffer.from(
    [`SIP/2.0 ${status}`, `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-r${cseq}`, 'To: <sip:alice@example.com>;tag=b', 'From: <sip:alice@example.com>;tag=a', `Call-ID: ${callId}`, `CSeq: ${cseq} REGISTER`, 'Content-Length: 0', '', ''].join('\r\n'),
  );
/** One REGISTER round as the registerer sends it: challenged, answered with credentials, then `final`. */
function registerRound(r: TimelineRecorder, callId: string, cseq: number, final = '200 OK', expires = 60): void {
  send(r, registerRequest(callId, cseq, expires));
  receive(r, registerResponse(callId, cseq, '401 Unauthorized'));
  send(r, registerRequest(callId, cseq + 1, expires));
  receive(r, registerResponse(callId, cseq + 1, final));
}

describe('timeline recorder', () => {
  it('keeps at most maxSteps per session, the newest, and counts what it let go', () => {
    const r = new TimelineRecorder({ keepEnded: 5, maxSteps: 10, maxBytes: 65_536 });
    const t = r.open('/1.1.1.1:1/2.2.2.2:2', 'app');
    for (let i = 0; i < 25; i++) t.fromClient(`frame-${i}`);
    const view = r.view(t.sessionId)!;
    assert.equal(view.timeline.length, 10);
    assert.equal(view.droppedSteps, 15);
    assert.equal(view.timeline[0]!.label, 'frame-15');
  });

  it("a step's lane, direction, failed and rawDropped (packed into one field) read back as recorded, every combination", () => {
    const r = new TimelineRecorder({ keepEnded: 5, maxSteps: 100, maxBytes: 65_536 });
    const t = r.open('s', 'app');
    const lanes = ['browser', 'hooks', 'sip', 'media'] as const;
    const directions = ['in', 'out', 'local'] as const;
    const recorded = lanes.flatMap((lane) => directions.flatMap((direction) => [false, true].map((failed) => ({ lane, direction, failed }))));
    for (const [i, f] of recorded.entries()) t.add({ ...f, t: 1_000 + i, label: `step ${i}` });
    const shown = r.view('s')!.timeline.map(({ lane, direction, failed, rawDropped }) => ({ lane, direction, failed, ...(rawDropped && { rawDropped }) }));
    assert.deepEqual(shown, recorded);
    // Dropping a text marks its step and nothing else of it.
    const u = new TimelineRecorder({ keepEnded: 5, maxSteps: 10, maxBytes: 10 }).open('u', 'app');
    const first = u.add({ lane: 'hooks', direction: 'out', label: 'connect', failed: true, raw: 'x'.repeat(8) });
    u.add({ lane: 'sip', direction: 'in', label: '200 OK', failed: false, raw: 'y'.repeat(8) });
    assert.deepEqual([first.lane, first.direction, first.failed, first.rawDropped, first.raw], ['hooks', 'out', true, true, undefined]);
  });

  it('keeps the keepEnded sessions that ended last, besides every live one', () => {
    const r = new TimelineRecorder({ keepEnded: 2, maxSteps: 10, maxBytes: 65_536 });
    const ts = ['a', 'b', 'c', 'd'].map((id) => r.open(id, 'app'));
    for (const t of ts.slice(0, 3)) r.close(t);
    assert.deepEqual(r.list().map((s) => [s.sessionId, s.endedAt === null]), [['d', true], ['c', false], ['b', false]]);
    assert.equal(r.view('a'), undefined);
  });

  it('a SIP message seen before its Call-ID is tracked (an incoming INVITE) still joins its session; others stay out', () => {
    const r = new TimelineRecorder({ keepEnded: 2, maxSteps: 50, maxBytes: 65_536 });
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
    const r = new TimelineRecorder({ keepEnded: 2, maxSteps: 50, maxBytes: 65_536 });
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

  it("keeps a received message's text, not the transport's Buffer (a Buffer's own cost is ~0.4 KiB a message)", () => {
    const r = new TimelineRecorder({ keepEnded: 2, maxSteps: 50, maxBytes: 65_536 });
    const t = r.open('s', 'app');
    t.trackSip('x@y');
    const raw = response('x@y', '180 Ringing');
    receive(r, raw);
    // What a transport reusing its read buffer would do: the step must show what arrived, so it holds no view of it.
    raw.fill(0x58);
    assert.match(r.view('s')!.timeline[0]!.raw!, /^SIP\/2\.0 180 Ringing\r\n/);
  });

  it('keeps the raw texts within maxBytes: the oldest go first, their steps stay, marked', () => {
    const r = new TimelineRecorder({ keepEnded: 2, maxSteps: 50, maxBytes: 1_000 });
    const t = r.open('s', 'app');
    t.trackSip('x@y');
    for (let i = 0; i < 6; i++) receive(r, response('x@y', '180 Ringing'));
    const size = response('x@y', '180 Ringing').length;
    const kept = Math.floor(1_000 / size);
    const steps = r.view('s')!.timeline;
    assert.equal(steps.length, 6, 'every step stays');
    assert.deepEqual(steps.map((s) => s.raw !== undefined), [...Array<boolean>(6 - kept).fill(false), ...Array<boolean>(kept).fill(true)]);
    assert.deepEqual(steps.map((s) => s.rawDropped === true), [...Array<boolean>(6 - kept).fill(true), ...Array<boolean>(kept).fill(false)]);
    assert.ok(t.rawBytes <= 1_000 && t.rawBytes === kept * size, `rawBytes ${t.rawBytes}`);
  });

  it("a registration's alike refreshes fold into the latest round with a count; the first, failed and unregistering rounds stay whole", () => {
    let now = 1_000;
    const r = new TimelineRecorder({ keepEnded: 2, maxSteps: 500, maxBytes: 1_000_000, now: () => now });
    const t = r.open('s', 'app');
    t.trackSip('reg@x', true);
    let cseq = 1;
    const round = (final?: string, expires?: number) => {
      now += 30_000;
      registerRound(r, 'reg@x', cseq, final, expires);
      cseq += 2;
    };
    const secondAt = now + 60_000;
    for (let i = 0; i < 1_000; i++) round();
    let steps = r.view('s')!.timeline;
    assert.equal(steps.length, 8, 'the first registration and the latest refresh');
    assert.deepEqual(steps.map((s) => s.label), ['REGISTER', '401 Unauthorized', 'REGISTER', '200 OK', 'REGISTER', '401 Unauthorized', 'REGISTER', '200 OK']);
    assert.equal(steps[0]!.repeats, undefined);
    assert.deepEqual(steps[4]!.repeats, { count: 999, since: new Date(secondAt).toISOString() });
    assert.equal(steps[4]!.detail, 'REGISTER sip:example.com (Expires 60)');
    assert.match(steps[7]!.raw!, new RegExp(`CSeq: ${cseq - 1} REGISTER`), 'the latest round with its text');
    assert.ok(t.rawBytes < 8 * 400, `rawBytes ${t.rawBytes}`);

    round('503 Service Unavailable'); // a failed refresh stays whole; the rounds after it start a new count
    round();
    round();
    round(undefined, 0); // the unregistration is not a refresh
    steps = r.view('s')!.timeline;
    assert.deepEqual(steps.slice(8).map((s) => [s.label, s.failed, s.repeats?.count]), [
      ['REGISTER', false, undefined], ['401 Unauthorized', false, undefined], ['REGISTER', false, undefined], ['503 Service Unavailable', true, undefined],
      ['REGISTER', false, 2], ['401 Unauthorized', false, undefined], ['REGISTER', false, undefined], ['200 OK', false, undefined],
      ['REGISTER', false, undefined], ['401 Unauthorized', false, undefined], ['REGISTER', false, undefined], ['200 OK', false, undefined],
    ]);
    assert.equal(steps[16]!.detail, 'REGISTER sip:example.com (Expires 0)');
    assert.equal(steps[4]!.repeats?.count, 999, 'the rounds before the failure are left as they were');
  });

  it('with keepEnded 0 it records nothing at all', () => {
    const r = new TimelineRecorder({ keepEnded: 0, maxSteps: 50, maxBytes: 65_536 });
    const t = r.open('s', 'app');
    t.fromClient('connection');
    t.trackSip('x@y');
    receive(r, invite('x@y'));
    assert.equal(r.view('s'), undefined);
    assert.deepEqual(r.list(), []);
  });
});
