/**
 * The call's phase table (src/gateway/call-phase.ts): the two ways a call starts, the one way it ends, and the
 * changes it refuses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CALL_TRANSITIONS, nextPhase, type CallPhase } from '../../src/gateway/call-phase.ts';

const PHASES = Object.keys(CALL_TRANSITIONS) as CallPhase[];

describe('call phases', () => {
  it('an outgoing call goes placing → inviting → established, an incoming one screening → alerting → answering → established', () => {
    assert.equal(nextPhase(nextPhase('placing', 'inviting'), 'established'), 'established');
    assert.equal(nextPhase(nextPhase(nextPhase('screening', 'alerting'), 'answering'), 'established'), 'established');
  });

  it('every phase but ended can end, and ended leads nowhere', () => {
    for (const phase of PHASES.filter((p) => p !== 'ended')) assert.equal(nextPhase(phase, 'ended'), 'ended');
    for (const phase of PHASES) assert.throws(() => nextPhase('ended', phase), /call phase ended → .* is not allowed/);
  });

  it('refuses what neither flow does: skipping ahead, going back, or crossing from one flow to the other', () => {
    const refused: [CallPhase, CallPhase][] = [
      ['placing', 'established'], ['screening', 'answering'], ['alerting', 'established'],
      ['answering', 'alerting'], ['established', 'inviting'], ['inviting', 'alerting'], ['screening', 'inviting'],
    ];
    for (const [from, to] of refused) assert.throws(() => nextPhase(from, to), new RegExp(`call phase ${from} → ${to} is not allowed`));
  });
});
