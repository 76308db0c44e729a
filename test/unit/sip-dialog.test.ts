/**
 * Dialogs (RFC 3261 §12): creation on both sides, route sets, remote target refresh, CSeq rules, in-dialog request
 * construction with loose and strict routing, and the ACK for a 2xx (§13.2.2.4).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Dialog, DialogState, dialogKey, incomingRequestDialogId, incomingResponseDialogId,
} from '../../src/sip/dialog/index.ts';
import { createResponse } from '../../src/sip/message/builders.ts';
import { getCSeq, getFrom, getTo } from '../../src/sip/message/headers.ts';
import { Headers, SipRequest, type SipResponse } from '../../src/sip/message/message.ts';
import { formatUri, parseUri } from '../../src/sip/message/uri.ts';

/** An INVITE as we send it (From tag, no To tag), with optional extra header lines. */
function invite(extra: [string, string][] = []): SipRequest {
  const headers = new Headers([
    { name: 'Via', value: 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport' },
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: '"Alice" <sip:alice@a.example>;tag=fromtag' },
    { name: 'To', value: '<sip:bob@b.example>' },
    { name: 'Call-ID', value: 'call-1@a.example' },
    { name: 'CSeq', value: '7 INVITE' },
    { name: 'Contact', value: '<sip:alice@10.0.0.1:5060>' },
    ...extra.map(([name, value]) => ({ name, value })),
  ]);
  return new SipRequest('INVITE', parseUri('sip:bob@b.example'), headers);
}

/** The far end's response to `request`, with To tag `tt`, a Contact and the given Record-Route lines. */
function answer(request: SipRequest, status: number, recordRoute: string[] = [], contact = '<sip:bob@10.0.0.2:5070;transport=tcp>'): SipResponse {
  const response = createResponse(request, status, undefined, {
    toTag: 'tt',
    headers: [
      ...recordRoute.map((value) => ({ name: 'Record-Route', value })),
      { name: 'Contact', value: contact },
    ],
  });
  return response;
}

describe('UAC dialogs (RFC 3261 §12.1.2)', () => {
  it('a 180 with a To tag makes an early dialog; the 2xx confirms it and recomputes route set and target (§13.2.2.4)', () => {
    const request = invite();
    const early = Dialog.fromUac(request, answer(request, 180, ['<sip:p1.example;lr>'], '<sip:bob@early.example>'));
    assert.equal(early.state, DialogState.Early);
    assert.equal(formatUri(early.remoteTarget), 'sip:bob@early.example');
    early.confirm(answer(request, 200, ['<sip:p2.example;lr>', '<sip:p1.example;lr>']));
    assert.equal(early.state, DialogState.Confirmed);
    assert.deepEqual(early.routeSet.map((r) => formatUri(r.uri)), ['sip:p1.example;lr', 'sip:p2.example;lr']);
    assert.equal(formatUri(early.remoteTarget), 'sip:bob@10.0.0.2:5070;transport=tcp');
  });

  it('takes id, URIs and CSeq from the INVITE and its 2xx; the route set is Record-Route reversed', () => {
    const request = invite();
    const dialog = Dialog.fromUac(request, answer(request, 200, ['<sip:p2.example;lr>', '<sip:p1.example;lr>']));
    assert.equal(dialog.state, DialogState.Confirmed);
    assert.deepEqual(dialog.id, { callId: 'call-1@a.example', localTag: 'fromtag', remoteTag: 'tt' });
    assert.equal(dialog.localSeq, 7);
    assert.equal(dialog.remoteSeq, undefined);
    assert.equal(dialog.local.displayName, 'Alice');
    assert.equal(dialog.local.params.has('tag'), false);
    assert.deepEqual(dialog.routeSet.map((r) => formatUri(r.uri)), ['sip:p1.example;lr', 'sip:p2.example;lr']);
    assert.equal(dialog.secure, false);
  });

  it('refuses a response without a To tag', () => {
    const request = invite();
    const response = createResponse(request, 200);
    response.headers.set('To', '<sip:bob@b.example>');
    assert.throws(() => Dialog.fromUac(request, response), { code: 'SIP_PARSE' });
  });
});

describe('UAS dialogs (RFC 3261 §12.1.1)', () => {
  it('takes the route set in order, the remote CSeq, and leaves the local CSeq empty until the first request', () => {
    const request = invite([['Record-Route', '<sip:p1.example;lr>, <sip:p2.example;lr>']]);
    const dialog = Dialog.fromUas(request, 'ourtag', DialogState.Confirmed);
    assert.deepEqual(dialog.id, { callId: 'call-1@a.example', localTag: 'ourtag', remoteTag: 'fromtag' });
    assert.equal(dialog.remoteSeq, 7);
    assert.equal(dialog.localSeq, undefined);
    assert.deepEqual(dialog.routeSet.map((r) => formatUri(r.uri)), ['sip:p1.example;lr', 'sip:p2.example;lr']);
    assert.equal(formatUri(dialog.remoteTarget), 'sip:alice@10.0.0.1:5060');
    const bye = dialog.createRequest('BYE');
    const seq = getCSeq(bye).seq;
    // §8.1.1.5: an initial CSeq below 2^31.
    assert.ok(seq >= 1 && seq < 2 ** 31, `initial CSeq ${seq}`);
    assert.equal(getCSeq(dialog.createRequest('INFO')).seq, seq + 1);
  });

  it('a request without Contact leaves the From address as the remote target', () => {
    const request = invite();
    request.headers.delete('Contact');
    assert.equal(formatUri(Dialog.fromUas(request, 't', DialogState.Early).remoteTarget), 'sip:alice@a.example');
  });
});

describe('requests within a dialog (RFC 3261 §12.2.1.1)', () => {
  it('with an empty route set: Request-URI = remote target, no Route; To/From/Call-ID/CSeq from the dialog', () => {
    const request = invite();
    const dialog = Dialog.fromUac(request, answer(request, 200));
    const bye = dialog.createRequest('BYE');
    assert.equal(bye.method, 'BYE');
    assert.equal(formatUri(bye.uri), 'sip:bob@10.0.0.2:5070;transport=tcp');
    assert.equal(bye.headers.has('Route'), false);
    assert.equal(getTo(bye).params.get('tag'), 'tt');
    assert.equal(getFrom(bye).params.get('tag'), 'fromtag');
    assert.equal(bye.headers.get('Call-ID'), 'call-1@a.example');
    assert.deepEqual(getCSeq(bye), { seq: 8, method: 'BYE' });
    assert.equal(bye.headers.get('Max-Forwards'), '70');
    assert.equal(bye.headers.has('Via'), false, 'Via is the sender\'s');
    assert.equal(formatUri(dialog.nextHopUri()), 'sip:bob@10.0.0.2:5070;transport=tcp');
  });

  it('loose routing (first route has lr): Request-URI = remote target, Route = route set in order', () => {
    const request = invite();
    const dialog = Dialog.fromUac(request, answer(request, 200, ['<sip:p2.example;lr>', '<sip:p1.example;lr;ftag=x>']));
    const info = dialog.createRequest('INFO', {
      body: { contentType: 'application/dtmf-relay', content: Buffer.from('Signal=1\r\n') },
      contact: parseUri('sip:me@10.0.0.1'),
    });
    assert.equal(formatUri(info.uri), 'sip:bob@10.0.0.2:5070;transport=tcp');
    assert.deepEqual(info.headers.getAll('Route'), ['<sip:p1.example;lr;ftag=x>', '<sip:p2.example;lr>']);
    assert.equal(info.headers.get('Content-Type'), 'application/dtmf-relay');
    assert.equal(info.headers.get('Contact'), '<sip:me@10.0.0.1>');
    assert.equal(formatUri(dialog.nextHopUri()), 'sip:p1.example;lr;ftag=x');
  });

  it('strict routing (no lr): Request-URI = first route, Route = the rest then the remote target', () => {
    const request = invite();
    const dialog = Dialog.fromUac(request, answer(request, 200, ['<sip:p2.example;lr>', '<sip:p1.example;method=INVITE>']));
    const bye = dialog.createRequest('BYE');
    assert.equal(formatUri(bye.uri), 'sip:p1.example', 'method= is not allowed in a Request-URI (§19.1.1)');
    assert.deepEqual(bye.headers.getAll('Route'), ['<sip:p2.example;lr>', '<sip:bob@10.0.0.2:5070;transport=tcp>']);
  });

  it('refuses ACK and CANCEL (built elsewhere) and anything in a terminated dialog', () => {
    const request = invite();
    const dialog = Dialog.fromUac(request, answer(request, 200));
    assert.throws(() => dialog.createRequest('ACK'));
    assert.throws(() => dialog.createRequest('CANCEL'));
    dialog.terminate();
    assert.equal(dialog.state, DialogState.Terminated);
    assert.throws(() => dialog.createRequest('BYE'));
    assert.throws(() => dialog.confirm(), /not allowed/);
  });

  it('the ACK for a 2xx has the INVITE\'s CSeq number, its credentials, and the SDP answer when given (§13.2.2.4)', () => {
    const request = invite([['Proxy-Authorization', 'Digest username="alice", realm="r", nonce="n", uri="sip:bob@b.example", response="0123"']]);
    const dialog = Dialog.fromUac(request, answer(request, 200, ['<sip:p1.example;lr>']));
    dialog.createRequest('INFO'); // the local CSeq moves on; the ACK's does not
    const ack = dialog.createAck(request, { contentType: 'application/sdp', content: Buffer.from('v=0\r\n') });
    assert.deepEqual(getCSeq(ack), { seq: 7, method: 'ACK' });
    assert.equal(ack.headers.get('Proxy-Authorization'), request.headers.get('Proxy-Authorization'));
    assert.deepEqual(ack.headers.getAll('Route'), ['<sip:p1.example;lr>']);
    assert.equal(ack.headers.get('Content-Type'), 'application/sdp');
    assert.equal(ack.body.toString(), 'v=0\r\n');
  });
});

describe('requests received in a dialog (RFC 3261 §12.2.2)', () => {
  function received(method: string, seq: number): SipRequest {
    return new SipRequest(method, parseUri('sip:alice@10.0.0.1'), new Headers([
      { name: 'Via', value: 'SIP/2.0/UDP 10.0.0.2:5070;branch=z9hG4bKx' },
      { name: 'From', value: '<sip:bob@b.example>;tag=tt' },
      { name: 'To', value: '<sip:alice@a.example>;tag=fromtag' },
      { name: 'Call-ID', value: 'call-1@a.example' },
      { name: 'CSeq', value: `${seq} ${method}` },
      { name: 'Contact', value: '<sip:bob@10.0.0.9>' },
    ]));
  }

  it('sets the empty remote CSeq, takes higher ones, and answers a lower one 500', () => {
    const request = invite();
    const dialog = Dialog.fromUac(request, answer(request, 200));
    assert.equal(dialog.receiveRequest(received('INFO', 100)), undefined);
    assert.equal(dialog.remoteSeq, 100);
    assert.equal(dialog.receiveRequest(received('INFO', 101)), undefined);
    assert.equal(dialog.receiveRequest(received('BYE', 99)), 500);
    assert.equal(dialog.remoteSeq, 101);
    assert.equal(dialog.receiveRequest(received('ACK', 1)), undefined, 'ACK carries its INVITE\'s CSeq');
  });

  it('a re-INVITE refreshes the remote target from its Contact (§12.2)', () => {
    const request = invite();
    const dialog = Dialog.fromUac(request, answer(request, 200));
    const reinvite = received('INVITE', 5);
    dialog.refreshTarget(reinvite);
    assert.equal(formatUri(dialog.remoteTarget), 'sip:bob@10.0.0.9');
    reinvite.headers.delete('Contact');
    dialog.refreshTarget(reinvite);
    assert.equal(formatUri(dialog.remoteTarget), 'sip:bob@10.0.0.9', 'no Contact: unchanged');
  });

  it('finds the dialog id of a received request and response from our side', () => {
    const request = invite();
    const dialog = Dialog.fromUac(request, answer(request, 200));
    const id = incomingRequestDialogId(received('BYE', 3));
    assert.ok(id);
    assert.equal(dialogKey(id), dialog.key);
    assert.equal(dialogKey(incomingResponseDialogId(answer(request, 200))!), dialog.key);
    assert.equal(incomingRequestDialogId(request), undefined, 'no To tag: not in a dialog');
  });
});
