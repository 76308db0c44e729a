/**
 * What in-dialog requests carry: DTMF in INFO (application/dtmf-relay, application/dtmf), the sipfrag and
 * Subscription-State of REFER's NOTIFYs (RFC 3515, RFC 3420, RFC 6665), and where a dialog URI is sent (RFC 3263).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUri } from '../../src/sip/message/uri.ts';
import {
  dtmfRelayBody, isReferEvent, parseDtmfInfo, parseSipfrag, parseSubscriptionState, sipfragTransferStatus,
  TransferStatus, uriNextHop, validateDtmf,
} from '../../src/sip/ua/index.ts';

describe('DTMF in INFO (RFC 6086)', () => {
  it('writes application/dtmf-relay as Signal and Duration lines', () => {
    assert.equal(dtmfRelayBody('5').toString(), 'Signal=5\r\nDuration=160\r\n');
    assert.equal(dtmfRelayBody('#', 250).toString(), 'Signal=#\r\nDuration=250\r\n');
  });

  it('reads application/dtmf-relay in any key case, with LF line ends, and RFC 4733 event numbers', () => {
    assert.deepEqual(parseDtmfInfo('application/dtmf-relay', Buffer.from('Signal=5\r\nDuration=160\r\n')), { digit: '5', durationMs: 160 });
    assert.deepEqual(parseDtmfInfo('Application/DTMF-Relay; charset=x', Buffer.from('signal = a\nduration=100')), { digit: 'A', durationMs: 100 });
    assert.deepEqual(parseDtmfInfo('application/dtmf-relay', Buffer.from('Signal=11\r\n')), { digit: '#' });
    assert.equal(parseDtmfInfo('application/dtmf-relay', Buffer.from('Signal=Z\r\n')), undefined);
  });

  it('reads application/dtmf (the digit alone) and ignores other types', () => {
    assert.deepEqual(parseDtmfInfo('application/dtmf', Buffer.from('7\r\n')), { digit: '7' });
    assert.equal(parseDtmfInfo('text/plain', Buffer.from('Signal=5')), undefined);
    assert.equal(parseDtmfInfo(undefined, Buffer.from('Signal=5')), undefined);
  });

  it('checks digits and durations before sending', () => {
    assert.equal(validateDtmf('12*#abcd'), '12*#ABCD');
    assert.throws(() => validateDtmf(''), { code: 'SIP_DTMF' });
    assert.throws(() => validateDtmf('5e'), { code: 'SIP_DTMF' });
    assert.throws(() => validateDtmf('5', 0), { code: 'SIP_DTMF' });
  });
});

describe('REFER progress (RFC 3515)', () => {
  it('reads the status line of a message/sipfrag body', () => {
    assert.deepEqual(parseSipfrag(Buffer.from('SIP/2.0 100 Trying\r\n')), { status: 100, reason: 'Trying' });
    assert.deepEqual(parseSipfrag(Buffer.from('SIP/2.0 603 Declined\r\nContent-Length: 0\r\n')), { status: 603, reason: 'Declined' });
    assert.deepEqual(parseSipfrag(Buffer.from('SIP/2.0 200')), { status: 200, reason: '' });
    assert.equal(parseSipfrag(Buffer.from('INVITE sip:x SIP/2.0')), undefined);
    assert.equal(parseSipfrag(Buffer.alloc(0)), undefined);
  });

  it('maps sipfrag classes to transfer statuses', () => {
    assert.equal(sipfragTransferStatus(180), TransferStatus.Trying);
    assert.equal(sipfragTransferStatus(200), TransferStatus.Completed);
    assert.equal(sipfragTransferStatus(486), TransferStatus.Failed);
  });

  it('reads Subscription-State and the refer Event package', () => {
    assert.deepEqual(parseSubscriptionState('active;expires=60'), { state: 'active', expires: 60 });
    assert.deepEqual(parseSubscriptionState('Terminated; reason=noresource'), { state: 'terminated' });
    assert.equal(parseSubscriptionState(undefined), undefined);
    assert.equal(isReferEvent('refer;id=93'), true);
    assert.equal(isReferEvent('presence'), false);
    assert.equal(isReferEvent(undefined), false);
  });
});

describe('the next hop of a dialog URI (RFC 3263 §4.1)', () => {
  it('takes host, port and the transport parameter; sips means TLS; tel: cannot be sent to', () => {
    assert.deepEqual(uriNextHop(parseUri('sip:bob@10.0.0.2:5070;transport=tcp')), { host: '10.0.0.2', port: 5070, transport: 'TCP' });
    assert.deepEqual(uriNextHop(parseUri('sip:p1.example;lr')), { host: 'p1.example', transport: 'UDP' });
    assert.deepEqual(uriNextHop(parseUri('sips:bob@b.example')), { host: 'b.example', transport: 'TLS' });
    assert.throws(() => uriNextHop(parseUri('tel:+123')), { code: 'SIP_TRANSPORT' });
  });
});
