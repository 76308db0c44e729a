/**
 * A callhook UA on 127.0.0.1 (UDP, a free port) with one contact that takes calls, for tests of INVITE sessions
 * between two of them without a proxy: `call` connects two phones and resolves once both sides are established.
 * Its clock and logger can be a test's own (test/support/fake-clock.ts, a recording pino stream).
 */
import type { Clock } from '../../src/clock.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import type { SipUri } from '../../src/sip/message/types.ts';
import { parseUri } from '../../src/sip/message/uri.ts';
import { Invitation, Inviter, UserAgent, type ContactBinding } from '../../src/sip/ua/index.ts';
import { freePort } from './ports.ts';
import { testSdp, type SessionEvents } from './session-events.ts';

export interface LoopbackCall {
  /** The caller's side. */
  inviter: Inviter;
  /** The callee's side. */
  invitation: Invitation;
}

export class LoopbackPhone {
  private onInvite: ((invitation: Invitation) => void) | undefined;
  readonly binding: ContactBinding;

  private constructor(
    readonly ua: UserAgent,
    readonly port: number,
  ) {
    this.binding = ua.bindContact(() => undefined, { onInvite: (invitation) => this.onInvite?.(invitation) });
  }

  static async start(o: { clock?: Clock; logger?: Logger } = {}): Promise<LoopbackPhone> {
    const port = await freePort('udp');
    const ua = await UserAgent.start({
      listen: [{ protocol: 'UDP', address: '127.0.0.1', port }],
      maxMessageBytes: 65535,
      userAgent: 'callhook-test',
      logger: o.logger ?? createLogger('silent'),
      ...(o.clock && { clock: o.clock }),
    });
    return new LoopbackPhone(ua, port);
  }

  /** The next INVITE for this phone's contact goes to `handler`, to be answered as the test likes. */
  onNextInvite(handler: (invitation: Invitation) => void): void {
    this.onInvite = (invitation) => {
      this.onInvite = undefined;
      handler(invitation);
    };
  }

  /** Calls `callee` (SDP offer on RTP port 42000, answer on 42002); resolves when both sides are established. */
  async call(callee: LoopbackPhone, callerEvents: SessionEvents, calleeEvents: SessionEvents): Promise<LoopbackCall> {
    const incoming = new Promise<Invitation>((resolve) => {
      callee.onNextInvite((invitation) => {
        invitation.delegate = calleeEvents.delegate;
        invitation.accept(testSdp(42002));
        resolve(invitation);
      });
    });
    const inviter = new Inviter(this.ua, {
      account: { aor: parseUri('sip:caller@127.0.0.1') as SipUri, nextHop: { host: '127.0.0.1', port: callee.port, transport: 'UDP' } },
      target: parseUri(`sip:${callee.binding.user}@127.0.0.1:${callee.port}`),
      sdp: testSdp(42000),
      delegate: callerEvents.delegate,
    });
    await inviter.invite();
    const invitation = await incoming;
    await callerEvents.waitFor('established');
    await calleeEvents.waitFor('established');
    return { inviter, invitation };
  }

  close(): Promise<void> {
    return this.ua.close();
  }
}
