/**
 * What an INVITE session, and each INVITE it sends, needs of the user-agent core: the narrow interface sessions
 * depend on instead of the UserAgent, which creates them for incoming INVITEs (so the UA module imports the session
 * modules, never the other way round). The UserAgent implements it.
 */
import type { Clock } from '../../clock.ts';
import type { Logger } from '../../log.ts';
import type { DigestClient } from '../auth/digest-client.ts';
import type { SipRequest, SipResponse } from '../message/message.ts';
import type { Destination, TransactionLayer } from '../transaction/index.ts';
import type { TransportLayer } from '../transport/transport-layer.ts';
import type { ContactBinding, RequestHandler } from './contact.ts';
import type { DialogRouter } from './dialog-router.ts';
import type { NextHop } from './next-hop.ts';
import type { SessionTimerSettings } from './session-timer.ts';

export interface InviteSessionHost {
  /** config `userAgent`: the User-Agent of our requests (RFC 3261 §20.41). */
  readonly userAgent: string;
  /** The clock of the transaction layer; session timers (glare, REFER expiry, CANCEL give-up) run on it too. */
  readonly clock: Clock;
  readonly log: Logger;
  /** Where sessions register their dialogs, pending INVITEs and themselves (in-dialog requests, CANCEL, stray ACK/2xx). */
  readonly dialogs: DialogRouter;
  /** INVITE client transactions (every response seen), CANCEL, and the timer values (T1, Timer B). */
  readonly transactions: Pick<TransactionLayer, 'sendRequest' | 'request' | 'timers'>;
  /** Our Via on an ACK for a 2xx, which goes straight to the transport (§13.2.2.4, §17.1.1.3). */
  readonly transports: Pick<TransportLayer, 'addVia'>;
  /** The transport and address a request to `hop` leaves by (RFC 3263 §4). */
  destination(hop: NextHop): Promise<Destination>;
  /** A request through a client transaction, digest challenges answered; resolves with the final response. */
  send(request: SipRequest, destination: Destination, digest?: DigestClient): Promise<SipResponse>;
  /** Our side of RFC 4028 session timers (config `sipSessionExpires`, `sipMinSe`). */
  readonly sessionTimerSettings: SessionTimerSettings;
  /** A Contact of its own, for an outgoing call made without one. */
  bindContact(handler: RequestHandler): ContactBinding;
}
