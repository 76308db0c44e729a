/**
 * The SIP → call status table (docs/client-protocol.md "The call object and the status frames") and the codec choice read from the `codecs`
 * setting: pure functions, every row checked.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { endStatus, isFinal, provisionalStatus } from '../../src/gateway/call-status.ts';
import { codecPreference } from '../../src/media/call-media.ts';
import type { InviteSessionEndCause, InviteSessionEvent } from '../../src/sip/ua/index.ts';

type Terminated = Extract<InviteSessionEvent, { type: 'terminated' }>;

const ended = (cause: InviteSessionEndCause, info: string, status?: number, raw?: string): Terminated => ({
  type: 'terminated', cause, info, ...(status !== undefined && { status }), ...(raw !== undefined && { raw }),
});

describe('provisionalStatus', () => {
  it('maps 100 → TRYING, 180 → RING / RING_MEDIA, 183 → SESSION_PROGRESS, other 1xx → RING', () => {
    assert.equal(provisionalStatus(100, false), 'TRYING');
    assert.equal(provisionalStatus(180, false), 'RING');
    assert.equal(provisionalStatus(180, true), 'RING_MEDIA');
    assert.equal(provisionalStatus(183, true), 'SESSION_PROGRESS');
    assert.equal(provisionalStatus(183, false), 'SESSION_PROGRESS');
    assert.equal(provisionalStatus(181, false), 'RING');
    assert.equal(provisionalStatus(182, true), 'RING');
  });
});

describe('endStatus', () => {
  it('486 and 600 are BUSY, other rejections FAILED with the SIP status as info', () => {
    assert.deepEqual(endStatus(ended('rejected', 'SIP 486 Busy Here', 486, 'SIP/2.0 486 Busy Here\r\n')), {
      status: 'BUSY', detail: { info: 'SIP 486 Busy Here', sipStatus: 486, sipMessageRaw: 'SIP/2.0 486 Busy Here\r\n' },
    });
    assert.equal(endStatus(ended('rejected', 'SIP 600 Busy Everywhere', 600)).status, 'BUSY');
    assert.deepEqual(endStatus(ended('rejected', 'SIP 404 Not Found', 404)), { status: 'FAILED', detail: { info: 'SIP 404 Not Found', sipStatus: 404 } });
    assert.equal(endStatus(ended('rejected', 'SIP 603 Decline', 603)).status, 'FAILED');
    // The peer refused our offer's media: the client sees the text of a codec mismatch found here.
    assert.deepEqual(endStatus(ended('rejected', 'SIP 488 Not Acceptable Here', 488)), { status: 'FAILED', detail: { info: 'No common codecs', sipStatus: 488 } });
    assert.equal(endStatus(ended('rejected', 'SIP 606 Not Acceptable', 606)).detail.info, 'No common codecs');
    assert.equal(endStatus(ended('rejected', 'SIP 488 Not Acceptable Here', 488), { srtpOnly: true }).detail.info, 'No common crypto');
    assert.equal(endStatus(ended('rejected', 'SIP 302 Moved Temporarily', 302)).status, 'FAILED');
  });

  it('BYE either way and CANCEL either way are FINISH with Normal call clearing', () => {
    for (const cause of ['local-bye', 'remote-bye', 'cancelled', 'remote-cancel', 'declined'] as const) {
      assert.deepEqual(endStatus(ended(cause, 'whatever')), { status: 'FINISH', detail: { info: 'Normal call clearing' } }, cause);
    }
  });

  it('no answer is FAILED by request timeout; a transport failure a 503; credentials never leak into sipMessageRaw', () => {
    assert.deepEqual(endStatus(ended('timeout', 'Timer B fired')), { status: 'FAILED', detail: { info: 'Failed by request timeout' } });
    assert.deepEqual(endStatus(ended('ack-timeout', 'no ACK')), { status: 'FAILED', detail: { info: 'Failed by request timeout' } });
    assert.deepEqual(endStatus(ended('transport-error', 'connect ECONNREFUSED 127.0.0.1:9')), {
      status: 'FAILED', detail: { info: 'SIP 503 Service Unavailable (connect ECONNREFUSED 127.0.0.1:9)' },
    });
    const raw = 'BYE sip:a@b SIP/2.0\r\nAuthorization: Digest username="alice", response="secret"\r\n\r\n';
    const { detail } = endStatus(ended('dialog-gone', 'SIP 481 Call/Transaction Does Not Exist', 481, raw));
    assert.equal(detail.info, 'SIP 481 Call/Transaction Does Not Exist');
    assert.doesNotMatch(detail.sipMessageRaw ?? '', /secret/);
  });

  it('FINISH, BUSY and FAILED are final; the others are not', () => {
    assert.deepEqual(
      (['PENDING', 'TRYING', 'RING', 'RING_MEDIA', 'SESSION_PROGRESS', 'ESTABLISHED', 'HOLD', 'BUSY', 'FINISH', 'FAILED'] as const).filter(isFinal),
      ['BUSY', 'FINISH', 'FAILED'],
    );
  });
});

describe('codecPreference', () => {
  it('keeps the audio codecs of the codecs setting, in its order, once each', () => {
    assert.deepEqual(codecPreference('opus,pcmu,pcma,telephone-event'), ['PCMU', 'PCMA']);
    assert.deepEqual(codecPreference('g722,pcma,pcmu'), ['G722', 'PCMA', 'PCMU']);
    assert.deepEqual(codecPreference('pcma,opus,pcmu'), ['PCMA', 'PCMU']);
    assert.deepEqual(codecPreference('opus,telephone-event'), []);
    assert.deepEqual(codecPreference('PCMU, pcmu'), ['PCMU']);
  });
});
