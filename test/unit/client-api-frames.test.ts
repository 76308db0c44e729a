/**
 * The client frames (docs/client-protocol.md "Endpoint", "Bad input"): decoding with zod, the
 * wording of every refusal, the server's frame shape, and the per-connection token bucket.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeFrame, encodeFrame, failFrame, FrameError } from '../../src/client-api/index.ts';
import { TokenBucket } from '../../src/token-bucket.ts';

function refusal(text: string): Pick<FrameError, 'code' | 'apiMethod' | 'info' | 'id'> {
  try {
    decodeFrame(text);
  } catch (e) {
    assert.ok(e instanceof FrameError, String(e));
    return { code: e.code, apiMethod: e.apiMethod, info: e.info, id: e.id };
  }
  throw new Error(`${text} was accepted`);
}

const frame = (message: string, ...data: unknown[]) => JSON.stringify({ message, data });

describe('decodeFrame', () => {
  it('reads an SDK 2.0 connection, keeping unknown fields for the connect hook', () => {
    const f = decodeFrame(frame('connection', {
      appKey: 'defaultApp', mediaProviders: ['WebRTC', 'MSE'], clientVersion: '2.0', msePacketizationVersion: 2,
      clientInfo: {}, sipLogin: 'alice', sipPort: '5060', sipRegisterRequired: true, custom: { a: [1] },
    }));
    assert.equal(f.message, 'connection');
    assert.ok(f.message === 'connection');
    assert.equal(f.connection['msePacketizationVersion'], 2);
    assert.deepEqual(f.connection['custom'], { a: [1] });
    assert.equal(f.connection['sipPort'], '5060');
  });

  it('drops top-level nulls of a connection (null = not given)', () => {
    const f = decodeFrame(frame('connection', { appKey: null, sipPassword: null, custom: { x: null } }));
    assert.ok(f.message === 'connection');
    assert.deepEqual(f.connection, { custom: { x: null } });
  });

  it('reads sendMessage: the four fields, everything else as extra', () => {
    const f = decodeFrame(frame('sendMessage', { id: 'm1', to: 'bob', body: '', contentType: 'text/plain; charset=utf-8', isImdnRequired: false, from: 'x' }));
    assert.ok(f.message === 'sendMessage');
    assert.deepEqual(f.request, { id: 'm1', to: 'bob', body: '', contentType: 'text/plain; charset=utf-8', extra: { isImdnRequired: false, from: 'x' } });
  });

  it('accepts pong / ping with data [null] or without data, and any notificationResult object', () => {
    assert.deepEqual(decodeFrame('{"message":"pong","data":[null]}'), { message: 'pong' });
    assert.deepEqual(decodeFrame('{"message":"pong"}'), { message: 'pong' });
    assert.deepEqual(decodeFrame(frame('ping', null)), { message: 'ping' });
    assert.deepEqual(decodeFrame(frame('notificationResult', { id: 'n', status: 'OK' })), { message: 'notificationResult', result: { id: 'n', status: 'OK' } });
  });

  it('reads an SDK 2.0 call: callId, callee, sdp, inviteParameters; everything else as extra for the hook', () => {
    const f = decodeFrame(frame('call', {
      callId: 'c-1', incoming: false, hasVideo: false, hasAudio: true, status: 'PENDING', mediaProvider: 'WebRTC',
      sdp: 'v=0\r\n', caller: 'alice', callee: '1000', visibleName: 'Alice', custom: { k: 1 }, localMediaInfo: { audio: [] },
      inviteParameters: { 'X-Tag': 'a' },
    }));
    assert.ok(f.message === 'call');
    assert.deepEqual(f.request, {
      callId: 'c-1', callee: '1000', sdp: 'v=0\r\n', inviteParameters: { 'X-Tag': 'a' },
      extra: { incoming: false, hasVideo: false, hasAudio: true, status: 'PENDING', mediaProvider: 'WebRTC', caller: 'alice', visibleName: 'Alice', custom: { k: 1 }, localMediaInfo: { audio: [] } },
    });
    const noCallee = decodeFrame(frame('call', { callId: 'c-2', sdp: 'v=0' }));
    assert.ok(noCallee.message === 'call' && noCallee.request.callee === undefined, 'callee may come from the call hook');
  });

  it('reads answer, hangup, hold (holdForTransfer), unhold, sendDtmf (RFC2833 by default) and transfer', () => {
    assert.deepEqual(decodeFrame(frame('answer', { callId: 'c', sdp: 'v=0', hasAudio: true })), { message: 'answer', request: { callId: 'c', sdp: 'v=0', extra: { hasAudio: true } } });
    assert.deepEqual(decodeFrame(frame('hangup', { callId: 'c' })), { message: 'hangup', request: { callId: 'c', extra: {} } });
    assert.deepEqual(decodeFrame(frame('hold', { callId: 'c', holdForTransfer: true })), { message: 'hold', request: { callId: 'c', extra: { holdForTransfer: true } } });
    assert.deepEqual(decodeFrame(frame('unhold', { callId: 'c' })), { message: 'unhold', request: { callId: 'c', extra: {} } });
    assert.deepEqual(decodeFrame(frame('sendDtmf', { callId: 'c', dtmf: '12#' })), { message: 'sendDtmf', request: { callId: 'c', dtmf: '12#', type: 'RFC2833' } });
    assert.deepEqual(decodeFrame(frame('sendDtmf', { callId: 'c', dtmf: 'A', type: 'INFO_RELAY' })), { message: 'sendDtmf', request: { callId: 'c', dtmf: 'A', type: 'INFO_RELAY' } });
    assert.deepEqual(decodeFrame(frame('transfer', { callId: 'c', target: 'carol' })), { message: 'transfer', request: { callId: 'c', target: 'carol' } });
  });

  it('refuses bad call messages naming the field, with the callId', () => {
    const refused = (text: string) => {
      try {
        decodeFrame(text);
      } catch (e) {
        assert.ok(e instanceof FrameError);
        return { apiMethod: e.apiMethod, info: e.info, callId: e.callId };
      }
      throw new Error('accepted');
    };
    assert.deepEqual(refused(frame('call', { callId: 'c', callee: 'bob' })), { apiMethod: 'call', info: 'call: sdp is required', callId: 'c' });
    assert.deepEqual(refused(frame('sendDtmf', { callId: 'c', dtmf: '5x', type: 'SMS' })), {
      apiMethod: 'sendDtmf', info: 'sendDtmf: dtmf must be DTMF digits 0-9, *, #, A-D; type must be RFC2833, INFO or INFO_RELAY', callId: 'c',
    });
    assert.deepEqual(refused(frame('transfer', { callId: 'c', target: '' })), { apiMethod: 'transfer', info: 'transfer: target must not be empty', callId: 'c' });
    assert.deepEqual(refused(frame('call', { callId: 'c', sdp: 'v=0', inviteParameters: { a: 1 } })), { apiMethod: 'call', info: 'call: inviteParameters.a must be a string', callId: 'c' });
  });

  it('names the message and the problem of each refusal', () => {
    assert.deepEqual(refusal('{"message":"x","data":5}'), { code: 'INVALID_DATA', apiMethod: 'x', info: 'x: "data" must be an array', id: undefined });
    assert.deepEqual(refusal(frame('hold', {})), { code: 'INVALID_DATA', apiMethod: 'hold', info: 'hold: callId is required', id: undefined });
    assert.deepEqual(refusal(frame('pushLogs', { logs: '' })), { code: 'UNKNOWN_MESSAGE', apiMethod: 'pushLogs', info: 'unknown message "pushLogs"', id: undefined });
    assert.deepEqual(refusal('null'), { code: 'NO_MESSAGE', apiMethod: 'unknown', info: 'frame must be a JSON object {"message": <name>, "data": [...]}', id: undefined });
    assert.deepEqual(refusal(frame('connection', { sipPort: 70000, sipRegisterRequired: 'yes', mediaProviders: ['a', 3] })), {
      code: 'INVALID_DATA',
      apiMethod: 'connection',
      info: 'connection: sipPort must be at most 65535; sipRegisterRequired must be a boolean; mediaProviders[1] must be a string',
      id: undefined,
    });
    assert.deepEqual(refusal(frame('connection', { sipTransport: 'sctp', sipLogin: 'x'.repeat(2000) })), {
      code: 'INVALID_DATA',
      apiMethod: 'connection',
      info: 'connection: sipLogin must have at most 1024 characters; sipTransport must be udp, tcp or tls',
      id: undefined,
    });
    assert.deepEqual(refusal(frame('sendMessage', { id: 'q', to: '', body: 1 })), {
      code: 'INVALID_DATA',
      apiMethod: 'sendMessage',
      info: 'sendMessage: to must not be empty; body must be a string',
      id: 'q',
    });
    assert.equal(refusal(frame('sendMessage')).info, 'sendMessage: data[0] is required');
  });

  it('refuses JSON nested deeper than the limit, naming it, without walking it', () => {
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const expected = { code: 'JSON_TOO_DEEP', apiMethod: 'unknown', info: 'frame nests JSON deeper than the limit of 32 levels', id: undefined };
    assert.deepEqual(refusal(`{"message":"sendMessage","data":[{"id":"a","to":"b","body":"c","x":${deep(100_000)}}]}`), expected);
    assert.deepEqual(refusal(deep(33)), expected);
    // Brackets inside strings are text, not nesting.
    assert.doesNotThrow(() => decodeFrame(frame('sendMessage', { id: 'a', to: 'b', body: '['.repeat(1000), custom: deep(20) })));
  });

  it('refuses a content type that could inject header lines', () => {
    for (const contentType of ['text/plain\r\nX-Evil: 1', 'text', 'text/plain;', 'text/plain; charset="a\nb"']) {
      assert.equal(refusal(frame('sendMessage', { id: 'i', to: 't', body: '', contentType })).info, 'sendMessage: contentType must be a media type such as text/plain');
    }
    for (const contentType of ['text/plain', 'application/im-iscomposing+xml', 'text/plain;charset=UTF-8', 'text/plain; charset="utf-8"; x=y']) {
      assert.doesNotThrow(() => decodeFrame(frame('sendMessage', { id: 'i', to: 't', body: '', contentType })));
    }
  });
});

describe('server frames', () => {
  it('always carry a data array', () => {
    assert.equal(encodeFrame('ping'), '{"message":"ping","data":[]}');
    assert.equal(encodeFrame('notifyMessage', [{ id: 'a' }, { id: 'a' }]), '{"message":"notifyMessage","data":[{"id":"a"},{"id":"a"}]}');
    assert.deepEqual(JSON.parse(failFrame('sendMessage', 'bad', { id: 'x' })), {
      message: 'fail',
      data: [{ id: 'x', status: 'FAILED', info: 'bad', apiMethod: 'sendMessage' }],
    });
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then the rate', () => {
    const b = new TokenBucket(5, 5, 0);
    assert.deepEqual(Array.from({ length: 7 }, () => b.take(0)), [true, true, true, true, true, false, false]);
    assert.equal(b.take(100), false, '0.5 token after 100 ms');
    assert.equal(b.take(200), true, 'one token after 200 ms');
    assert.equal(b.take(200), false);
    assert.equal(b.take(10_000), true);
    assert.deepEqual(Array.from({ length: 5 }, () => b.take(10_000)), [true, true, true, true, false], 'never more than the burst');
  });

  it('does not refill when the clock goes backwards', () => {
    const b = new TokenBucket(1, 1, 1000);
    assert.equal(b.take(1000), true);
    assert.equal(b.take(0), false);
    assert.equal(b.take(500), false);
  });
});
