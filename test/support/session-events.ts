/**
 * Records what an INVITE session (src/sip/ua/invite-session.ts) reports and lets a test wait for a given event,
 * with a bound on every wait.
 */
import type { SipRequest, SipResponse } from '../../src/sip/message/message.ts';
import type { InviteSession, InviteSessionDelegate, InviteSessionEvent } from '../../src/sip/ua/index.ts';
import type { FakeClock } from './fake-clock.ts';

type EventOf<T extends InviteSessionEvent['type']> = Extract<InviteSessionEvent, { type: T }>;

export class SessionEvents {
  readonly events: InviteSessionEvent[] = [];
  private readonly waiters = new Set<() => void>();
  /** Put as the session's delegate; `onOffer` answers re-INVITE offers when a test sets it. */
  readonly delegate: InviteSessionDelegate;

  constructor(onOffer?: (offer: Buffer, request: SipRequest) => Buffer | Promise<Buffer>) {
    this.delegate = {
      onEvent: (event) => {
        this.events.push(event);
        for (const wake of [...this.waiters]) wake();
      },
      ...(onOffer && { onOffer }),
    };
  }

  /** `provisional 180`, `established`, `terminated remote-bye`, `transfer COMPLETED`: the sequence as text. */
  summary(): string[] {
    return this.events.map((e) => {
      switch (e.type) {
        case 'provisional':
          return `provisional ${e.response.status}${e.sdp ? ' sdp' : ''}`;
        case 'terminated':
          return `terminated ${e.cause}`;
        case 'transfer':
          return `transfer ${e.status}`;
        case 'info':
          return `info${e.dtmf ? ` dtmf ${e.dtmf.digit}` : ''}`;
        default:
          return e.type;
      }
    });
  }

  /** The first event of `type` (matching `predicate`), already seen or still to come; rejects after `timeoutMs`. */
  waitFor<T extends InviteSessionEvent['type']>(
    type: T,
    timeoutMs = 10_000,
    predicate: (event: EventOf<T>) => boolean = () => true,
  ): Promise<EventOf<T>> {
    const find = () => this.events.find((e): e is EventOf<T> => e.type === type && predicate(e as EventOf<T>));
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${type} event within ${timeoutMs} ms; seen: ${this.summary().join(', ')}`));
      }, timeoutMs);
      const check = () => {
        const event = find();
        if (event === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(event);
      };
      this.waiters.add(check);
    });
  }
}

/** A plain-RTP audio SDP offer or answer (PCMU, telephone-event) with the given direction attribute. */
export function testSdp(port: number, direction = 'sendrecv', version = 1): Buffer {
  return Buffer.from(
    [
      'v=0',
      `o=callhook-test 1 ${version} IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${port} RTP/AVP 0 101`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      `a=${direction}`,
      '',
    ].join('\r\n'),
  );
}

/**
 * Both ends of one call re-INVITE at once, so that each answers the other's with 491 (glare, RFC 3261 §14.1), and
 * fake time runs on `clock` (their UAs' clock) until both have a final response: the responses, and the fake time
 * it took (at most `limitMs`).
 */
export async function reinviteBoth(
  clock: FakeClock,
  [first, firstSdp]: [InviteSession, Buffer],
  [second, secondSdp]: [InviteSession, Buffer],
  limitMs = 10_000,
): Promise<{ responses: [SipResponse, SipResponse]; elapsed: number }> {
  let settled = 0;
  const settle = (reinvite: Promise<SipResponse>): Promise<SipResponse> => reinvite.finally(() => settled++);
  const both = Promise.all([settle(first.reinvite(firstSdp)), settle(second.reinvite(secondSdp))]);
  const elapsed = await clock.runUntil(() => settled === 2, limitMs);
  return { responses: await both, elapsed };
}
