import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SipError } from '../../src/sip/errors.ts';
import { createResponse } from '../../src/sip/message/builders.ts';
import { getTo, getVias } from '../../src/sip/message/headers.ts';
import type { SipRequest } from '../../src/sip/message/message.ts';
import { InviteServerState, type InviteServerTransaction } from '../../src/sip/transaction/invite-server.ts';
import {
  NonInviteServerState, type NonInviteServerTransaction,
} from '../../src/sip/transaction/non-invite-server.ts';
import type { InviteServerTransactionUser } from '../../src/sip/transaction/transaction-user.ts';
import { flushPromises } from '../support/recording-transport.ts';
import { harness, request, type RequestSpec } from '../support/transaction-harness.ts';

/** What the peer (a UAC at 192.0.2.1) sends us. */
const PEER_VIA: RequestSpec = { sentBy: '192.0.2.1:5060', branch: 'z9hG4bKpeer1' };

class InviteUser implements InviteServerTransactionUser {
  acks: SipRequest[] = [];
  ackTimeouts = 0;
  transportErrors: SipError[] = [];
  terminated = 0;
  onAck(ack: SipRequest): void {
    this.acks.push(ack);
  }
  onAckTimeout(): void {
    this.ackTimeouts++;
  }
  onTransportError(error: SipError): void {
    this.transportErrors.push(error);
  }
  onTerminated(): void {
    this.terminated++;
  }
}

function inviteServer(protocol: 'UDP' | 'TCP' = 'UDP') {
  const h = harness(protocol);
  const user = new InviteUser();
  h.core.onNew = (tx) => {
    if (tx.kind === 'invite-server') tx.user = user;
  };
  const invite = request('INVITE', { ...PEER_VIA, protocol });
  h.deliver(invite);
  const tx = h.core.tx() as InviteServerTransaction;
  const respond = (status: number): void => tx.respond(createResponse(tx.request, status, undefined, { toTag: 'uas1' }));
  return { ...h, user, invite, tx, respond };
}

describe('RFC 3261 §17.2.1 INVITE server transaction (https://www.rfc-editor.org/rfc/rfc3261#section-17.2.1)', () => {
  describe('Proceeding', () => {
    it('MUST pass a new INVITE to the TU with a server transaction in Proceeding', () => {
      const s = inviteServer();
      assert.equal(s.core.requests.length, 1);
      assert.equal(s.tx.state, InviteServerState.Proceeding);
      assert.equal(s.tx.request.method, 'INVITE');
      s.layer.close();
    });

    it('MUST send 100 Trying when the TU has not answered within 200 ms', () => {
      const s = inviteServer();
      s.clock.advance(199);
      assert.equal(s.transport.sent.length, 0);
      s.clock.advance(1);
      assert.deepEqual(s.transport.responseTimes(100), [200]);
      const trying = s.transport.responses()[0]!;
      assert.equal(getTo(trying).params.has('tag'), false);
      assert.equal(getVias(trying)[0]!.params.get('branch'), 'z9hG4bKpeer1');
      assert.deepEqual(s.transport.sent[0]!.remote, s.transportLayer.responseTarget, 'responses go where §18.2.2 says');
      s.layer.close();
    });

    it('MUST NOT send 100 Trying when the TU answers within 200 ms', () => {
      const s = inviteServer();
      s.clock.advance(150);
      s.respond(180);
      s.clock.advance(10_000);
      assert.deepEqual(s.transport.sent.map((x) => x.message.kind === 'response' && x.message.status), [180]);
      s.layer.close();
    });

    it('MUST resend the most recent provisional response when the INVITE is retransmitted', () => {
      const s = inviteServer();
      s.clock.advance(100);
      s.deliver(request('INVITE', PEER_VIA));
      assert.equal(s.transport.sent.length, 0, 'nothing to resend yet');
      s.respond(180);
      s.respond(183);
      s.deliver(request('INVITE', PEER_VIA));
      assert.deepEqual(s.transport.responses().map((r) => r.status), [180, 183, 183]);
      assert.equal(s.core.requests.length, 1, 'a retransmission never reaches the TU');
      s.layer.close();
    });
  });

  describe('Completed: Timers G and H', () => {
    it('MUST retransmit a 300-699 response at T1, 2*T1 ... capped at T2 (Timer G) on UDP', () => {
      const s = inviteServer();
      s.respond(486);
      assert.equal(s.tx.state, InviteServerState.Completed);
      s.clock.advance(31_999);
      assert.deepEqual(
        s.transport.responseTimes(486),
        [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
      );
      s.layer.close();
    });

    it('MUST terminate and report a failure to the TU when Timer H fires at 64*T1 without an ACK', () => {
      const s = inviteServer();
      s.respond(603);
      s.clock.advance(31_999);
      assert.equal(s.user.ackTimeouts, 0);
      s.clock.advance(1);
      assert.equal(s.user.ackTimeouts, 1);
      assert.equal(s.tx.state, InviteServerState.Terminated);
      assert.equal(s.user.terminated, 1);
      assert.equal(s.layer.size, 0);
      assert.equal(s.clock.pendingCount, 0);
    });

    it('MUST resend the final response when the INVITE is retransmitted', () => {
      const s = inviteServer();
      s.respond(486);
      s.clock.advance(100);
      s.deliver(request('INVITE', PEER_VIA));
      assert.deepEqual(s.transport.responseTimes(486), [0, 100]);
      assert.equal(s.core.requests.length, 1);
      s.layer.close();
    });

    it('MUST discard further responses from the TU', () => {
      const s = inviteServer();
      s.respond(486);
      s.respond(200);
      assert.deepEqual(s.transport.responses().map((r) => r.status), [486]);
      s.layer.close();
    });

    it('MUST NOT start Timer G on a reliable transport; Timer H still applies', () => {
      const s = inviteServer('TCP');
      s.respond(486);
      s.clock.advance(31_999);
      assert.deepEqual(s.transport.responseTimes(486), [0]);
      s.clock.advance(1);
      assert.equal(s.user.ackTimeouts, 1);
      assert.equal(s.tx.state, InviteServerState.Terminated);
    });
  });

  describe('Confirmed: Timer I', () => {
    it('MUST move to Confirmed on the ACK (same branch), stop retransmitting and absorb further ACKs', () => {
      const s = inviteServer();
      s.respond(486);
      s.clock.advance(600);
      s.deliver(request('ACK', { ...PEER_VIA, toTag: 'uas1' }));
      assert.equal(s.tx.state, InviteServerState.Confirmed);
      s.deliver(request('ACK', { ...PEER_VIA, toTag: 'uas1' }));
      s.clock.advance(4_000);
      assert.deepEqual(s.transport.responseTimes(486), [0, 500]);
      assert.equal(s.core.strayAcks.length, 0, 'the ACK for a non-2xx stays inside the transaction');
      assert.equal(s.user.acks.length, 0);
      assert.equal(s.user.ackTimeouts, 0);
      s.layer.close();
    });

    it('MUST set Timer I to T4 on UDP', () => {
      const s = inviteServer();
      s.respond(486);
      s.deliver(request('ACK', PEER_VIA));
      s.clock.advance(4_999);
      assert.equal(s.tx.state, InviteServerState.Confirmed);
      s.clock.advance(1);
      assert.equal(s.tx.state, InviteServerState.Terminated);
      assert.equal(s.layer.size, 0);
      assert.equal(s.user.ackTimeouts, 0);
    });

    it('MUST set Timer I to 0 on a reliable transport', () => {
      const s = inviteServer('TCP');
      s.respond(486);
      s.deliver(request('ACK', { ...PEER_VIA, protocol: 'TCP' }));
      s.clock.advance(0);
      assert.equal(s.tx.state, InviteServerState.Terminated);
    });
  });

  describe('RFC 6026 §8.5 Accepted, with the 2xx retransmission of RFC 3261 §13.3.1.4', () => {
    const ackFor2xx = () => request('ACK', { sentBy: '192.0.2.1:5060', branch: 'z9hG4bKack2', toTag: 'uas1' });

    it('MUST move to Accepted on a 2xx and retransmit it at T1, 2*T1 ... capped at T2 until the ACK', () => {
      const s = inviteServer();
      s.respond(200);
      assert.equal(s.tx.state, InviteServerState.Accepted);
      s.clock.advance(12_000);
      assert.deepEqual(s.transport.responseTimes(200), [0, 500, 1500, 3500, 7500, 11500]);
      s.deliver(ackFor2xx());
      s.clock.advance(10_000);
      assert.equal(s.transport.responseTimes(200).length, 6, 'retransmissions cease with the ACK');
      assert.equal(s.user.acks.length, 1, 'the ACK is passed to the TU');
      assert.equal(s.user.acks[0]!.headers.get('Via')?.includes('z9hG4bKack2'), true);
      assert.equal(s.core.strayAcks.length, 0);
      s.layer.close();
    });

    it('MUST absorb INVITE retransmissions and pass later ACKs to the TU until Timer L (64*T1)', () => {
      const s = inviteServer();
      s.respond(200);
      s.deliver(ackFor2xx());
      s.deliver(request('INVITE', PEER_VIA));
      s.deliver(ackFor2xx());
      assert.equal(s.core.requests.length, 1);
      assert.equal(s.transport.responseTimes(200).length, 1);
      assert.equal(s.user.acks.length, 2);
      s.clock.advance(31_999);
      assert.equal(s.tx.state, InviteServerState.Accepted);
      s.clock.advance(1);
      assert.equal(s.tx.state, InviteServerState.Terminated);
      assert.equal(s.user.ackTimeouts, 0);
      assert.equal(s.layer.size, 0);
      s.deliver(ackFor2xx());
      assert.equal(s.core.strayAcks.length, 1, 'after Timer L the ACK is a stray for the core');
    });

    it('MUST report the missing ACK when Timer L ends the transaction (§13.3.1.4)', () => {
      const s = inviteServer();
      s.respond(200);
      s.clock.advance(32_000);
      assert.equal(s.user.ackTimeouts, 1);
      assert.equal(s.tx.state, InviteServerState.Terminated);
      assert.equal(s.clock.pendingCount, 0);
    });

    it('retransmits the 2xx on a reliable transport too (§13.3.1.4: independent of the transport)', () => {
      const s = inviteServer('TCP');
      s.respond(200);
      s.clock.advance(2_000);
      assert.deepEqual(s.transport.responseTimes(200), [0, 500, 1500]);
      s.layer.close();
    });

    it('MUST pass a 2xx the TU sends again to the transport', () => {
      const s = inviteServer();
      s.respond(200);
      s.respond(200);
      s.respond(486);
      assert.deepEqual(s.transport.responses().map((r) => r.status), [200, 200]);
      s.layer.close();
    });

    it('does not take an ACK of another dialog (other To tag) for the 2xx', () => {
      const s = inviteServer();
      s.respond(200);
      s.deliver(request('ACK', { sentBy: '192.0.2.1:5060', branch: 'z9hG4bKack3', toTag: 'other' }));
      assert.equal(s.user.acks.length, 0);
      assert.equal(s.core.strayAcks.length, 1);
      s.layer.close();
    });
  });

  describe('RFC 6026 §8.8 transport errors (https://www.rfc-editor.org/rfc/rfc6026#section-8.8)', () => {
    it('SHOULD inform the TU and MUST remain in the current state; Timer H still ends the transaction', async () => {
      const s = inviteServer();
      s.transport.failWith = new SipError('SIP_TRANSPORT', 'ECONNRESET');
      s.respond(486);
      await flushPromises();
      assert.equal(s.user.transportErrors.length, 1);
      assert.equal(s.user.transportErrors[0]!.code, 'SIP_TRANSPORT');
      assert.equal(s.tx.state, InviteServerState.Completed);
      s.clock.advance(500);
      await flushPromises();
      assert.equal(s.user.transportErrors.length, 2, 'the Timer G retransmission failed too');
      s.clock.advance(31_500);
      assert.equal(s.tx.state, InviteServerState.Terminated);
      assert.equal(s.layer.size, 0);
      assert.equal(s.clock.pendingCount, 0);
    });
  });
});

describe('RFC 3261 §17.2.2 non-INVITE server transaction (https://www.rfc-editor.org/rfc/rfc3261#section-17.2.2)', () => {
  function nonInviteServer(protocol: 'UDP' | 'TCP' = 'UDP') {
    const h = harness(protocol);
    const req = request('MESSAGE', { ...PEER_VIA, protocol });
    h.deliver(req);
    const tx = h.core.tx() as NonInviteServerTransaction;
    const respond = (status: number): void => tx.respond(createResponse(tx.request, status));
    return { ...h, req, tx, respond };
  }

  it('MUST discard request retransmissions in Trying', () => {
    const s = nonInviteServer();
    assert.equal(s.tx.state, NonInviteServerState.Trying);
    s.deliver(request('MESSAGE', PEER_VIA));
    assert.equal(s.transport.sent.length, 0);
    assert.equal(s.core.requests.length, 1);
    s.layer.close();
  });

  it('MUST resend the most recent provisional response on a retransmission in Proceeding', () => {
    const s = nonInviteServer();
    s.respond(100);
    assert.equal(s.tx.state, NonInviteServerState.Proceeding);
    s.deliver(request('MESSAGE', PEER_VIA));
    assert.deepEqual(s.transport.responses().map((r) => r.status), [100, 100]);
    s.layer.close();
  });

  it('MUST resend the final response on each retransmission in Completed and discard further responses', () => {
    const s = nonInviteServer();
    s.respond(200);
    assert.equal(s.tx.state, NonInviteServerState.Completed);
    s.clock.advance(700);
    s.deliver(request('MESSAGE', PEER_VIA));
    s.deliver(request('MESSAGE', PEER_VIA));
    s.respond(500);
    assert.deepEqual(s.transport.responseTimes(200), [0, 700, 700]);
    assert.deepEqual(s.transport.responses().map((r) => r.status), [200, 200, 200]);
    assert.equal(s.core.requests.length, 1);
    s.layer.close();
  });

  it('MUST NOT retransmit the final response on its own (no timer in §17.2.2)', () => {
    const s = nonInviteServer();
    s.respond(200);
    s.clock.advance(31_000);
    assert.deepEqual(s.transport.responseTimes(200), [0]);
    s.layer.close();
  });

  it('MUST keep Completed for Timer J = 64*T1 on UDP, then terminate', () => {
    const s = nonInviteServer();
    const terminated: number[] = [];
    s.tx.user = { onTerminated: () => terminated.push(s.clock.now()) };
    s.respond(200);
    s.clock.advance(31_999);
    assert.equal(s.tx.state, NonInviteServerState.Completed);
    s.clock.advance(1);
    assert.equal(s.tx.state, NonInviteServerState.Terminated);
    assert.deepEqual(terminated, [32_000]);
    assert.equal(s.layer.size, 0);
    s.deliver(request('MESSAGE', PEER_VIA));
    assert.equal(s.core.requests.length, 2, 'after Timer J the same request is new again');
    s.layer.close();
  });

  it('MUST set Timer J to 0 on a reliable transport', () => {
    const s = nonInviteServer('TCP');
    s.respond(200);
    s.clock.advance(0);
    assert.equal(s.tx.state, NonInviteServerState.Terminated);
  });

  it('SHOULD inform the TU of a transport error and MUST remain in the current state (RFC 6026 §8.8)', async () => {
    const s = nonInviteServer();
    const errors: SipError[] = [];
    s.tx.user = { onTransportError: (e) => errors.push(e) };
    s.transport.failWith = new SipError('SIP_TRANSPORT', 'ECONNRESET');
    s.respond(100);
    await flushPromises();
    assert.equal(errors.length, 1);
    assert.equal(s.tx.state, NonInviteServerState.Proceeding);
    s.transport.failWith = undefined;
    s.respond(200);
    assert.equal(s.tx.state, NonInviteServerState.Completed, 'the final response can still be given');
    assert.equal(s.transport.responses().length, 2);
    s.clock.advance(32_000);
    assert.equal(s.tx.state, NonInviteServerState.Terminated);
    assert.equal(s.clock.pendingCount, 0);
  });

  it('refuses a status outside 100-699 from the TU', () => {
    const s = nonInviteServer();
    assert.throws(() => s.tx.respond(createResponse(s.tx.request, 99)), RangeError);
    assert.throws(() => s.tx.respond(createResponse(s.tx.request, 700)), RangeError);
    s.layer.close();
  });
});
