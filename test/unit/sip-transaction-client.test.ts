import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SipError } from '../../src/sip/errors.ts';
import { getCallId, getCSeq, getTo, getVias } from '../../src/sip/message/headers.ts';
import { InviteClientState } from '../../src/sip/transaction/invite-client.ts';
import { NonInviteClientState } from '../../src/sip/transaction/non-invite-client.ts';
import { harness, RecordingUser, request } from '../support/transaction-harness.ts';
import { flushPromises } from '../support/recording-transport.ts';

const FINALS_NON_2XX = [300, 404, 486, 503, 603];

describe('RFC 3261 §17.1.1 INVITE client transaction (https://www.rfc-editor.org/rfc/rfc3261#section-17.1.1)', () => {
  describe('§17.1.1.2 Calling: Timers A and B', () => {
    it('MUST retransmit the INVITE at T1, 2*T1, 4*T1 ... on UDP (Timer A doubles without a cap)', () => {
      const h = harness('UDP');
      h.layer.sendRequest(request('INVITE'), h.destination, new RecordingUser());
      h.clock.advance(31_999);
      assert.deepEqual(h.transport.requestTimes('INVITE'), [0, 500, 1500, 3500, 7500, 15500, 31500]);
      h.layer.close();
    });

    it('MUST report a timeout when Timer B fires at 64*T1 and terminate (§8.1.3.1: a 408 for the TU)', () => {
      const h = harness('UDP');
      const user = new RecordingUser();
      const tx = h.layer.sendRequest(request('INVITE'), h.destination, user);
      h.clock.advance(31_999);
      assert.equal(user.timeouts.length, 0);
      assert.equal(tx.state, InviteClientState.Calling);
      h.clock.advance(1);
      assert.equal(user.timeouts.length, 1);
      assert.ok(user.timeouts[0] instanceof SipError && user.timeouts[0].code === 'SIP_TIMEOUT');
      assert.equal(user.timeouts[0].code, 'SIP_TIMEOUT');
      assert.match(user.timeouts[0].message, /Timer B/);
      assert.equal(tx.state, InviteClientState.Terminated);
      assert.equal(user.terminated, 1);
      assert.equal(h.layer.size, 0);
      assert.equal(h.clock.pendingCount, 0, 'no timer outlives the transaction');
    });

    it('derives Timers A and B from a configured T1', () => {
      const h = harness('UDP', { t1: 100 });
      const user = new RecordingUser();
      h.layer.sendRequest(request('INVITE'), h.destination, user);
      h.clock.advance(6399);
      assert.deepEqual(h.transport.requestTimes('INVITE'), [0, 100, 300, 700, 1500, 3100, 6300]);
      assert.equal(user.timeouts.length, 0);
      h.clock.advance(1);
      assert.equal(user.timeouts.length, 1);
    });

    it('MUST NOT start Timer A on a reliable transport; Timer B still applies', () => {
      const h = harness('TCP');
      const user = new RecordingUser();
      h.layer.sendRequest(request('INVITE', { protocol: 'TCP' }), h.destination, user);
      h.clock.advance(32_000);
      assert.deepEqual(h.transport.requestTimes('INVITE'), [0]);
      assert.equal(user.timeouts.length, 1);
    });
  });

  describe('§17.1.1.2 Proceeding', () => {
    it('MUST pass a provisional response to the TU, move to Proceeding and stop retransmitting', () => {
      const h = harness('UDP');
      const user = new RecordingUser();
      const req = request('INVITE');
      const tx = h.layer.sendRequest(req, h.destination, user);
      h.clock.advance(600);
      h.answer(req, 100);
      h.answer(req, 180);
      assert.equal(tx.state, InviteClientState.Proceeding);
      assert.deepEqual(user.statuses, [100, 180]);
      h.clock.advance(60_000);
      assert.deepEqual(h.transport.requestTimes('INVITE'), [0, 500], 'no retransmission after a provisional');
      assert.equal(user.timeouts.length, 0, 'Timer B only concerns the Calling state');
      assert.equal(tx.state, InviteClientState.Proceeding);
      h.layer.close();
    });
  });

  describe('§17.1.1.2 Completed and §17.1.1.3 the ACK for a non-2xx final response', () => {
    for (const status of FINALS_NON_2XX) {
      it(`MUST pass a ${status} to the TU, send the ACK and move to Completed`, () => {
        const h = harness('UDP');
        const user = new RecordingUser();
        const req = request('INVITE');
        const tx = h.layer.sendRequest(req, h.destination, user);
        h.answer(req, 180);
        h.answer(req, status);
        assert.equal(tx.state, InviteClientState.Completed);
        assert.deepEqual(user.statuses, [180, status]);
        assert.equal(h.transport.requests('ACK').length, 1);
        h.layer.close();
      });
    }

    it('MUST build the ACK with the INVITE branch, Request-URI, From, Call-ID, the response To and CSeq <n> ACK', () => {
      const h = harness('UDP');
      const req = request('INVITE', { branch: 'z9hG4bKinv7', cseq: 42 });
      req.headers.append('Route', '<sip:proxy.example.com;lr>');
      h.layer.sendRequest(req, h.destination, new RecordingUser());
      h.answer(req, 486, 'callee9');
      const sent = h.transport.sent.find((s) => s.message.kind === 'request' && s.message.method === 'ACK');
      assert.ok(sent && sent.message.kind === 'request');
      const ack = sent.message;
      assert.deepEqual(sent.remote, h.destination.remote, 'the ACK goes where the INVITE went');
      assert.equal(ack.uri, req.uri);
      const vias = getVias(ack);
      assert.equal(vias.length, 1);
      assert.equal(vias[0]!.params.get('branch'), 'z9hG4bKinv7');
      assert.equal(ack.headers.get('From'), req.headers.get('From'));
      assert.equal(getCallId(ack), getCallId(req));
      assert.equal(getTo(ack).params.get('tag'), 'callee9');
      assert.deepEqual(getCSeq(ack), { seq: 42, method: 'ACK' });
      assert.deepEqual(ack.headers.getAll('Route'), ['<sip:proxy.example.com;lr>']);
      h.layer.close();
    });

    it('MUST send the ACK even on a reliable transport', () => {
      const h = harness('TCP');
      const req = request('INVITE', { protocol: 'TCP' });
      h.layer.sendRequest(req, h.destination, new RecordingUser());
      h.answer(req, 404);
      assert.equal(h.transport.requests('ACK').length, 1);
      h.layer.close();
    });

    it('MUST resend the ACK for each retransmission of the final response and NOT pass it to the TU', () => {
      const h = harness('UDP');
      const user = new RecordingUser();
      const req = request('INVITE');
      h.layer.sendRequest(req, h.destination, user);
      const final = h.answer(req, 486);
      h.clock.advance(1000);
      h.deliver(final);
      h.deliver(final);
      assert.deepEqual(user.statuses, [486]);
      assert.equal(h.transport.requests('ACK').length, 3);
      h.layer.close();
    });

    it('MUST stop Timers A and B in Completed and keep the state for Timer D = 32 s on UDP', () => {
      const h = harness('UDP');
      const user = new RecordingUser();
      const req = request('INVITE');
      const tx = h.layer.sendRequest(req, h.destination, user);
      h.clock.advance(700);
      h.answer(req, 486);
      h.clock.advance(31_999);
      assert.equal(tx.state, InviteClientState.Completed);
      assert.deepEqual(h.transport.requestTimes('INVITE'), [0, 500]);
      assert.equal(user.timeouts.length, 0);
      h.clock.advance(1);
      assert.equal(tx.state, InviteClientState.Terminated);
      assert.equal(user.terminated, 1);
      assert.equal(h.layer.size, 0);
    });

    it('MUST set Timer D to 0 on a reliable transport', () => {
      const h = harness('TCP');
      const req = request('INVITE', { protocol: 'TCP' });
      const tx = h.layer.sendRequest(req, h.destination, new RecordingUser());
      h.answer(req, 486);
      h.clock.advance(0);
      assert.equal(tx.state, InviteClientState.Terminated);
      assert.equal(h.layer.size, 0);
    });
  });

  describe('RFC 6026 §8.4 Accepted (https://www.rfc-editor.org/rfc/rfc6026#section-8.4)', () => {
    it('MUST pass a 2xx to the TU, move to Accepted and send no ACK (the TU ACKs a 2xx, §13.2.2.4)', () => {
      const h = harness('UDP');
      const user = new RecordingUser();
      const req = request('INVITE');
      const tx = h.layer.sendRequest(req, h.destination, user);
      h.answer(req, 200);
      assert.equal(tx.state, InviteClientState.Accepted);
      assert.deepEqual(user.statuses, [200]);
      assert.equal(h.transport.requests('ACK').length, 0);
      h.clock.advance(10_000);
      assert.deepEqual(h.transport.requestTimes('INVITE'), [0], 'no retransmission after a 2xx');
      h.layer.close();
    });

    it('MUST pass every further 2xx (retransmissions and other forks) to the TU until Timer M (64*T1)', () => {
      const h = harness('UDP');
      const user = new RecordingUser();
      const req = request('INVITE');
      const tx = h.layer.sendRequest(req, h.destination, user);
      const ok = h.answer(req, 200, 'fork1');
      h.clock.advance(500);
      h.deliver(ok);
      h.answer(req, 200, 'fork2');
      h.answer(req, 486, 'fork3');
      assert.deepEqual(user.responses.map((r) => getTo(r).params.get('tag')), ['fork1', 'fork1', 'fork2']);
      h.clock.advance(31_499);
      assert.equal(tx.state, InviteClientState.Accepted);
      h.clock.advance(1);
      assert.equal(tx.state, InviteClientState.Terminated);
      h.deliver(ok);
      assert.equal(user.responses.length, 3);
      assert.equal(h.core.strayResponses.length, 1, 'after Timer M a 2xx is a stray for the core');
    });
  });

  describe('§17.1.4 transport errors', () => {
    it('MUST inform the TU (a 503 for §8.1.3.1) and terminate', async () => {
      const h = harness('UDP');
      const user = new RecordingUser();
      h.transport.failWith = new SipError('SIP_TRANSPORT', 'ECONNREFUSED');
      const tx = h.layer.sendRequest(request('INVITE'), h.destination, user);
      await flushPromises();
      assert.equal(user.transportErrors.length, 1);
      assert.equal(user.transportErrors[0]!.code, 'SIP_TRANSPORT');
      assert.equal(tx.state, InviteClientState.Terminated);
      assert.equal(h.layer.size, 0);
      assert.equal(h.clock.pendingCount, 0);
    });

    it('reports a failed ACK the same way', async () => {
      const h = harness('UDP');
      const user = new RecordingUser();
      const req = request('INVITE');
      h.layer.sendRequest(req, h.destination, user);
      await flushPromises();
      h.transport.failWith = new SipError('SIP_TRANSPORT', 'EHOSTUNREACH');
      h.answer(req, 486);
      await flushPromises();
      assert.deepEqual(user.statuses, [486]);
      assert.equal(user.transportErrors.length, 1);
      assert.equal(h.layer.size, 0);
    });
  });
});

describe('RFC 3261 §17.1.2 non-INVITE client transaction (https://www.rfc-editor.org/rfc/rfc3261#section-17.1.2)', () => {
  describe('§17.1.2.2 Trying: Timers E and F', () => {
    it('MUST retransmit at T1, 2*T1, 4*T1 ... capped at T2 = 4 s (Timer E)', () => {
      const h = harness('UDP');
      h.layer.sendRequest(request('REGISTER'), h.destination, new RecordingUser());
      h.clock.advance(31_999);
      assert.deepEqual(
        h.transport.requestTimes('REGISTER'),
        [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
      );
      h.layer.close();
    });

    it('MUST retransmit every T2 once a provisional response arrived (Timer E in Proceeding)', () => {
      const h = harness('UDP');
      const user = new RecordingUser();
      const req = request('MESSAGE');
      const tx = h.layer.sendRequest(req, h.destination, user);
      h.clock.advance(600);
      h.answer(req, 100);
      assert.equal(tx.state, NonInviteClientState.Proceeding);
      assert.deepEqual(user.statuses, [100]);
      h.clock.advance(15_000);
      assert.deepEqual(h.transport.requestTimes('MESSAGE'), [0, 500, 1500, 5500, 9500, 13500]);
      h.layer.close();
    });

    it('MUST report a timeout when Timer F fires at 64*T1, in Trying or Proceeding (§8.1.3.1: a 408)', () => {
      for (const provisional of [false, true]) {
        const h = harness('UDP');
        const user = new RecordingUser();
        const req = request('OPTIONS');
        const tx = h.layer.sendRequest(req, h.destination, user);
        if (provisional) h.answer(req, 100);
        h.clock.advance(31_999);
        assert.equal(user.timeouts.length, 0);
        h.clock.advance(1);
        assert.equal(user.timeouts.length, 1);
        assert.ok(user.timeouts[0] instanceof SipError && user.timeouts[0].code === 'SIP_TIMEOUT');
        assert.match(user.timeouts[0].message, /Timer F/);
        assert.equal(tx.state, NonInviteClientState.Terminated);
        assert.equal(user.terminated, 1);
        assert.equal(h.layer.size, 0);
        assert.equal(h.clock.pendingCount, 0);
      }
    });

    it('MUST NOT retransmit on a reliable transport; Timer F still applies', () => {
      const h = harness('TCP');
      const user = new RecordingUser();
      h.layer.sendRequest(request('REGISTER', { protocol: 'TCP' }), h.destination, user);
      h.clock.advance(32_000);
      assert.deepEqual(h.transport.requestTimes('REGISTER'), [0]);
      assert.equal(user.timeouts.length, 1);
    });

    it('derives Timers E and F from configured T1 and T2', () => {
      const h = harness('UDP', { t1: 100, t2: 300 });
      const user = new RecordingUser();
      h.layer.sendRequest(request('REGISTER'), h.destination, user);
      h.clock.advance(1500);
      assert.deepEqual(h.transport.requestTimes('REGISTER'), [0, 100, 300, 600, 900, 1200, 1500]);
      h.clock.advance(4899);
      assert.equal(user.timeouts.length, 0);
      h.clock.advance(1);
      assert.equal(user.timeouts.length, 1);
    });
  });

  describe('§17.1.2.2 Completed: Timer K', () => {
    it('MUST pass a final response to the TU once, stop E and F, and absorb retransmissions', () => {
      const h = harness('UDP');
      const user = new RecordingUser();
      const req = request('REGISTER');
      const tx = h.layer.sendRequest(req, h.destination, user);
      h.clock.advance(600);
      const ok = h.answer(req, 200);
      assert.equal(tx.state, NonInviteClientState.Completed);
      h.deliver(ok);
      h.answer(req, 401);
      assert.deepEqual(user.statuses, [200]);
      h.clock.advance(4_999);
      assert.deepEqual(h.transport.requestTimes('REGISTER'), [0, 500]);
      assert.equal(user.timeouts.length, 0);
      assert.equal(tx.state, NonInviteClientState.Completed);
    });

    it('MUST set Timer K to T4 on UDP', () => {
      const h = harness('UDP');
      const user = new RecordingUser();
      const req = request('REGISTER');
      const tx = h.layer.sendRequest(req, h.destination, user);
      h.answer(req, 404);
      h.clock.advance(4_999);
      assert.equal(tx.state, NonInviteClientState.Completed);
      h.clock.advance(1);
      assert.equal(tx.state, NonInviteClientState.Terminated);
      assert.equal(user.terminated, 1);
      assert.equal(h.layer.size, 0);
    });

    it('MUST set Timer K to 0 on a reliable transport', () => {
      const h = harness('TCP');
      const req = request('REGISTER', { protocol: 'TCP' });
      const tx = h.layer.sendRequest(req, h.destination, new RecordingUser());
      h.answer(req, 200);
      h.clock.advance(0);
      assert.equal(tx.state, NonInviteClientState.Terminated);
    });
  });

  describe('§17.1.4 transport errors', () => {
    it('MUST inform the TU (a 503 for §8.1.3.1) and terminate, on the first send or a retransmission', async () => {
      const h = harness('UDP');
      const user = new RecordingUser();
      const tx = h.layer.sendRequest(request('MESSAGE'), h.destination, user);
      await flushPromises();
      assert.equal(user.transportErrors.length, 0);
      h.transport.failWith = new SipError('SIP_TRANSPORT', 'EHOSTUNREACH');
      h.clock.advance(500);
      await flushPromises();
      assert.equal(user.transportErrors.length, 1);
      assert.equal(tx.state, NonInviteClientState.Terminated);
      assert.equal(user.terminated, 1);
      assert.equal(h.clock.pendingCount, 0);
      assert.equal(user.timeouts.length, 0);
    });

    it('wraps a failure that is not a SIP_TRANSPORT SipError into one', async () => {
      const h = harness('UDP');
      const user = new RecordingUser();
      h.transport.failWith = new Error('boom') as SipError;
      h.layer.sendRequest(request('MESSAGE'), h.destination, user);
      await flushPromises();
      const [error] = user.transportErrors;
      assert.ok(error instanceof SipError && error.code === 'SIP_TRANSPORT');
      assert.match(error.message, /boom/);
    });
  });

  it('dispose() ends the transaction at once and is idempotent', () => {
    const h = harness('UDP');
    const user = new RecordingUser();
    const tx = h.layer.sendRequest(request('MESSAGE'), h.destination, user);
    tx.dispose();
    tx.dispose();
    assert.equal(tx.state, NonInviteClientState.Terminated);
    assert.equal(user.terminated, 1);
    assert.equal(h.clock.pendingCount, 0);
    assert.equal(h.layer.size, 0);
    h.clock.advance(64_000);
    assert.deepEqual(h.transport.requestTimes('MESSAGE'), [0]);
    assert.equal(user.timeouts.length, 0);
  });
});
