import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SipError } from '../../src/sip/errors.ts';
import { createCancel, createResponse } from '../../src/sip/message/builders.ts';
import type { SipResponse } from '../../src/sip/message/message.ts';
import { InviteServerState } from '../../src/sip/transaction/invite-server.ts';
import { NonInviteClientState } from '../../src/sip/transaction/non-invite-client.ts';
import { TimerValues } from '../../src/sip/transaction/timers.ts';
import { flushPromises } from '../support/recording-transport.ts';
import { harness, RecordingUser, request } from '../support/transaction-harness.ts';

describe('RFC 3261 §17.1.3 matching responses to client transactions (https://www.rfc-editor.org/rfc/rfc3261#section-17.1.3)', () => {
  it('MUST match on the top Via branch and the CSeq method', () => {
    const h = harness();
    const inviteUser = new RecordingUser();
    const cancelUser = new RecordingUser();
    const invite = request('INVITE', { branch: 'z9hG4bKsame' });
    h.layer.sendRequest(invite, h.destination, inviteUser);
    const cancel = createCancel(invite);
    h.layer.sendRequest(cancel, h.destination, cancelUser);
    h.answer(cancel, 200);
    h.answer(invite, 487);
    assert.deepEqual(cancelUser.statuses, [200], 'the 200 with CSeq CANCEL belongs to the CANCEL transaction');
    assert.deepEqual(inviteUser.statuses, [487]);
    h.layer.close();
  });

  it('compares branches case-insensitively (§7.3.1)', () => {
    const h = harness();
    const user = new RecordingUser();
    const req = request('OPTIONS', { branch: 'z9hG4bKMiXeD' });
    h.layer.sendRequest(req, h.destination, user);
    const res = createResponse(req, 200);
    res.headers.set('Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKmixed');
    h.deliver(res);
    assert.deepEqual(user.statuses, [200]);
    h.layer.close();
  });

  it('MUST pass a response that matches no transaction to the core (stray, e.g. a 2xx retransmission)', () => {
    const h = harness();
    const user = new RecordingUser();
    h.layer.sendRequest(request('OPTIONS', { branch: 'z9hG4bKone' }), h.destination, user);
    h.answer(request('OPTIONS', { branch: 'z9hG4bKother' }), 200);
    h.answer(request('INVITE', { branch: 'z9hG4bKone' }), 200);
    assert.equal(user.responses.length, 0);
    assert.equal(h.core.strayResponses.length, 2);
    h.layer.close();
  });

  it('drops a response whose CSeq cannot be read, without throwing', () => {
    const h = harness();
    const user = new RecordingUser();
    const req = request('OPTIONS');
    h.layer.sendRequest(req, h.destination, user);
    const res = createResponse(req, 200);
    res.headers.set('CSeq', 'garbage');
    h.deliver(res);
    assert.equal(user.responses.length, 0);
    assert.equal(h.core.strayResponses.length, 0);
    h.layer.close();
  });
});

describe('RFC 3261 §17.2.3 matching requests to server transactions (https://www.rfc-editor.org/rfc/rfc3261#section-17.2.3)', () => {
  it('MUST match a retransmission on branch, sent-by and method, so the TU sees the request once', () => {
    const h = harness();
    h.deliver(request('REGISTER', { branch: 'z9hG4bKa', sentBy: '192.0.2.1:5060' }));
    h.deliver(request('REGISTER', { branch: 'z9hG4bKa', sentBy: '192.0.2.1:5060' }));
    assert.equal(h.core.requests.length, 1);
    h.deliver(request('REGISTER', { branch: 'z9hG4bKa', sentBy: '192.0.2.2:5060' }));
    assert.equal(h.core.requests.length, 2, 'another sent-by is another transaction');
    h.deliver(request('REGISTER', { branch: 'z9hG4bKb', sentBy: '192.0.2.1:5060' }));
    assert.equal(h.core.requests.length, 3, 'another branch is another transaction');
    assert.equal(h.layer.size, 3);
    h.layer.close();
  });

  it('MUST match the ACK for a non-2xx to the INVITE server transaction', () => {
    const h = harness();
    h.deliver(request('INVITE', { branch: 'z9hG4bKinv', sentBy: '192.0.2.1:5060' }));
    const tx = h.core.tx();
    tx.respond(createResponse(tx.request, 404));
    h.deliver(request('ACK', { branch: 'z9hG4bKinv', sentBy: '192.0.2.1:5060' }));
    assert.equal(tx.state, InviteServerState.Confirmed);
    assert.equal(h.core.requests.length, 1, 'an ACK never creates a server transaction');
    assert.equal(h.core.strayAcks.length, 0);
    h.layer.close();
  });

  it('MUST give a CANCEL its own transaction and find the INVITE it cancels (§9.2)', () => {
    const h = harness();
    const invite = request('INVITE', { branch: 'z9hG4bKc', sentBy: '192.0.2.1:5060' });
    h.deliver(invite);
    h.deliver(createCancel(invite));
    assert.equal(h.core.requests.length, 2);
    const inviteTx = h.core.tx(0);
    const cancelTx = h.core.tx(1);
    assert.equal(cancelTx.kind, 'non-invite-server');
    assert.equal(h.layer.findInviteForCancel(cancelTx.request), inviteTx);
    assert.equal(h.layer.findInviteForCancel(createCancel(request('INVITE', { branch: 'z9hG4bKzz' }))), undefined);
    h.layer.close();
  });

  it('passes an ACK that matches nothing to the core', () => {
    const h = harness();
    h.deliver(request('ACK', { branch: 'z9hG4bKnone', toTag: 'x' }));
    assert.equal(h.core.strayAcks.length, 1);
    assert.equal(h.core.requests.length, 0);
    assert.equal(h.layer.size, 0);
  });

  it('tells requests of RFC 2543 peers (no magic cookie) apart by Call-ID and CSeq and absorbs their retransmissions', () => {
    const h = harness();
    h.deliver(request('MESSAGE', { branch: 'old1', cseq: 1 }));
    h.deliver(request('MESSAGE', { branch: 'old1', cseq: 1 }));
    h.deliver(request('MESSAGE', { branch: 'old1', cseq: 2 }));
    assert.equal(h.core.requests.length, 2);
    h.layer.close();
  });
});

describe('TransactionLayer client API', () => {
  it('sendRequest refuses a request without an RFC 3261 branch, an ACK, a CSeq of another method, a reused branch', () => {
    const h = harness();
    assert.throws(() => h.layer.sendRequest(request('OPTIONS', { branch: 'abc' }), h.destination, new RecordingUser()), /z9hG4bK/);
    assert.throws(() => h.layer.sendRequest(request('ACK'), h.destination, new RecordingUser()), /ACK/);
    const mismatched = request('OPTIONS');
    mismatched.headers.set('CSeq', '1 INFO');
    assert.throws(() => h.layer.sendRequest(mismatched, h.destination, new RecordingUser()), /CSeq/);
    h.layer.sendRequest(request('OPTIONS', { branch: 'z9hG4bKdup' }), h.destination, new RecordingUser());
    assert.throws(
      () => h.layer.sendRequest(request('OPTIONS', { branch: 'z9hG4bKdup' }), h.destination, new RecordingUser()),
      /fresh branch/,
    );
    assert.equal(h.layer.size, 1);
    assert.equal(h.transport.sent.length, 1);
    h.layer.close();
  });

  it('request() resolves with the final response, whatever its class, after the provisional ones', async () => {
    const h = harness();
    const req = request('REGISTER');
    const provisional: number[] = [];
    const pending = h.layer.request(req, h.destination, { onProvisional: (r) => provisional.push(r.status) });
    h.answer(req, 100);
    h.answer(req, 401);
    const res: SipResponse = await pending;
    assert.equal(res.status, 401);
    assert.deepEqual(provisional, [100]);
    h.layer.close();
  });

  it('request() rejects with SIP_TIMEOUT when Timer F fires', async () => {
    const h = harness();
    const pending = h.layer.request(request('MESSAGE'), h.destination);
    h.clock.advance(32_000);
    await assert.rejects(pending, { name: 'SipError', code: 'SIP_TIMEOUT' });
  });

  it('request() rejects with SIP_TRANSPORT when the transport fails', async () => {
    const h = harness();
    h.transport.failWith = new SipError('SIP_TRANSPORT', 'ECONNREFUSED');
    await assert.rejects(h.layer.request(request('MESSAGE'), h.destination), { name: 'SipError', code: 'SIP_TRANSPORT' });
    assert.equal(h.layer.size, 0);
  });

  it('request() rejects when the request is refused', async () => {
    const h = harness();
    await assert.rejects(h.layer.request(request('MESSAGE', { branch: 'nocookie' }), h.destination), /z9hG4bK/);
  });

  it('close() ends every transaction and leaves no timer behind', async () => {
    const h = harness();
    const user = new RecordingUser();
    const client = h.layer.sendRequest(request('OPTIONS', { branch: 'z9hG4bKx' }), h.destination, user);
    h.deliver(request('INVITE', { branch: 'z9hG4bKy', sentBy: '192.0.2.1:5060' }));
    h.deliver(request('MESSAGE', { branch: 'z9hG4bKz', sentBy: '192.0.2.1:5060' }));
    const server = h.core.tx(0);
    server.respond(createResponse(server.request, 200));
    assert.equal(h.layer.size, 3);
    h.layer.close();
    assert.equal(h.layer.size, 0);
    assert.equal(h.clock.pendingCount, 0);
    assert.equal(client.state, NonInviteClientState.Terminated);
    assert.equal(user.terminated, 1);
    await flushPromises();
  });
});

describe('RFC 3261 Table 4 timer values (https://www.rfc-editor.org/rfc/rfc3261#appendix-A)', () => {
  it('defaults to T1 = 500 ms, T2 = 4 s, T4 = 5 s and derives the timers from them', () => {
    const t = new TimerValues();
    assert.deepEqual([t.t1, t.t2, t.t4], [500, 4000, 5000]);
    assert.deepEqual([t.A, t.B, t.E, t.F, t.G, t.H, t.L, t.M], [500, 32_000, 500, 32_000, 500, 32_000, 32_000, 32_000]);
    assert.deepEqual([t.D(false), t.I(false), t.J(false), t.K(false)], [32_000, 5000, 32_000, 5000]);
    assert.deepEqual([t.D(true), t.I(true), t.J(true), t.K(true)], [0, 0, 0, 0]);
    assert.deepEqual([t.backoff(500), t.backoff(2000), t.backoff(4000)], [1000, 4000, 4000]);
  });

  it('refuses T values that are not positive integers, or T2 < T1', () => {
    assert.throws(() => new TimerValues({ t1: 0 }), /T1/);
    assert.throws(() => new TimerValues({ t4: 1.5 }), /T4/);
    assert.throws(() => new TimerValues({ t1: 5000, t2: 4000 }), /T2/);
  });
});
