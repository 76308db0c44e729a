/**
 * A registration's refreshes in the per-session timeline (./timeline.ts). A registered session sends the same
 * REGISTER again before its binding expires (RFC 3261 §10.2.4), with its digest round when the registrar
 * challenges it (§22.2): the one thing a healthy session records for as long as it lives. What an operator needs
 * of those is the first registration in full, the latest refresh in full, and that the ones between went alike.
 *
 * A round is the steps of the registration's Call-ID up to a final answer that is not a challenge. A round alike
 * the one before (the same requests and answers in the same order, none failed) replaces it and carries how many
 * it stands for and since when. The first round is never folded, nor is a failed one; the round after a failure
 * starts a new count, so the time it recovered stays visible as the count's `since`.
 */
import type { Step } from './timeline.ts';

/**
 * More steps than this without a final answer (retransmissions to a registrar that does not answer, retried with
 * backoff) are no routine round: they are let go here, so that an unreachable registrar cannot grow this list.
 */
const MAX_ROUND_STEPS = 32;

interface Round {
  steps: Step[];
  /** What makes two rounds alike: each step's direction and detail (method with Request-URI and Expires, or status). */
  shape: string;
  count: number;
  since: number;
}

export class RefreshRounds {
  private current: Step[] = [];
  private previous: Round | undefined;
  private first = true;

  /** `callId`: the registration's, whose steps these rounds are made of. */
  constructor(readonly callId: string) {}

  /** Records a step of the registration's Call-ID; returns the steps its round folds away (the previous round's). */
  step(step: Step, final: boolean): Step[] {
    this.current.push(step);
    if (this.current.length > MAX_ROUND_STEPS) {
      this.current = [];
      this.previous = undefined;
      return [];
    }
    if (!final) return [];
    const steps = this.current;
    this.current = [];
    if (this.first || steps.some((s) => s.failed)) {
      this.first = false;
      this.previous = undefined;
      return [];
    }
    const shape = steps.map((s) => `${s.direction} ${s.detail ?? s.label}`).join('\n');
    const previous = this.previous;
    if (previous === undefined || previous.shape !== shape) {
      this.previous = { steps, shape, count: 1, since: steps[0]!.t };
      return [];
    }
    const count = previous.count + 1;
    steps[0]!.repeats = { count, since: previous.since };
    this.previous = { steps, shape, count, since: previous.since };
    return previous.steps;
  }
}
