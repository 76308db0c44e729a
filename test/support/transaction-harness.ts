/**
 * A transaction layer on a FakeClock and a RecordingTransport, with a core and client TUs that record what they are
 * told: the fixture of the test/unit/sip-transaction*.test.ts files.
 */
import type { SipError } from '../../src/sip/errors.ts';
import { createResponse } from '../../src/sip/message/builders.ts';
import type { SipMessage, SipRequest, SipResponse } from '../../src/sip/message/message.ts';
import { parseMessage } from '../../src/sip/message/parse.ts';
import type { TimerSettings } from '../../src/sip/transaction/timers.ts';
import {
  TransactionLayer, type ServerTransaction, type TransactionCore,
} from '../../src/sip/transaction/transaction-layer.ts';
import type { ClientTransactionUser } from '../../src/sip/transaction/transaction-user.ts';
import type { Endpoint, Received } from '../../src/sip/transport/transport.ts';
import { FakeClock } from './fake-clock.ts';
import { FakeTransportLayer, RecordingTransport } from './recording-transport.ts';

/** The next hop our requests go to, and the peer our server transactions hear from. */
export const PEER: Endpoint = { address: '192.0.2.1', port: 5060 };

export function sip<T extends SipMessage>(lines: string[]): T {
  return parseMessage(Buffer.from(lines.join('\r\n') + '\r\n\r\n')) as T;
}

export interface RequestSpec {
  branch?: string;
  /** sent-by of the top Via. */
  sentBy?: string;
  protocol?: string;
  cseq?: number;
  callId?: string;
  toTag?: string;
}

/** A request as a UAC would send it (or a peer would send us): one Via, the mandatory headers of §8.1.1. */
export function request(method: string, spec: RequestSpec = {}): SipRequest {
  const branch = spec.branch ?? 'z9hG4bKtest1';
  return sip<SipRequest>([
    `${method} sip:bob@192.0.2.1 SIP/2.0`,
    `Via: SIP/2.0/${spec.protocol ?? 'UDP'} ${spec.sentBy ?? '127.0.0.1:5060'};branch=${branch}`,
    'Max-Forwards: 70',
    'From: <sip:alice@example.com>;tag=alice1',
    `To: <sip:bob@example.com>${spec.toTag ? `;tag=${spec.toTag}` : ''}`,
    `Call-ID: ${spec.callId ?? 'call-1@127.0.0.1'}`,
    `CSeq: ${spec.cseq ?? 1} ${method}`,
  ]);
}

export class RecordingUser implements ClientTransactionUser {
  readonly responses: SipResponse[] = [];
  readonly timeouts: SipError[] = [];
  readonly transportErrors: SipError[] = [];
  terminated = 0;

  receiveResponse(response: SipResponse): void {
    this.responses.push(response);
  }

  onTimeout(error: SipError): void {
    this.timeouts.push(error);
  }

  onTransportError(error: SipError): void {
    this.transportErrors.push(error);
  }

  onTerminated(): void {
    this.terminated++;
  }

  get statuses(): number[] {
    return this.responses.map((r) => r.status);
  }
}

export class RecordingCore implements TransactionCore {
  readonly requests: { tx: ServerTransaction; received: Received }[] = [];
  readonly strayAcks: Received[] = [];
  readonly strayResponses: Received[] = [];
  /** Runs for each new server transaction (to answer synchronously, attach a user, ...). */
  onNew: ((tx: ServerTransaction) => void) | undefined;

  onRequest(tx: ServerTransaction, received: Received): void {
    this.requests.push({ tx, received });
    this.onNew?.(tx);
  }

  onStrayAck(received: Received): void {
    this.strayAcks.push(received);
  }

  onStrayResponse(received: Received): void {
    this.strayResponses.push(received);
  }

  /** The server transaction of the n-th request passed up. */
  tx(n = 0): ServerTransaction {
    const entry = this.requests[n];
    if (!entry) throw new Error(`no request #${n} was passed to the core`);
    return entry.tx;
  }
}

export function harness(protocol: 'UDP' | 'TCP' = 'UDP', timers?: Partial<TimerSettings>) {
  const clock = new FakeClock();
  const transport = new RecordingTransport(protocol, clock);
  const transportLayer = new FakeTransportLayer();
  const core = new RecordingCore();
  const layer = new TransactionLayer({ transportLayer, core, clock, ...(timers && { timers }) });
  return {
    clock,
    transport,
    transportLayer,
    core,
    layer,
    destination: { transport, remote: PEER },
    /** The peer sends us `message` over the transport. */
    deliver(message: SipMessage): void {
      transportLayer.deliver(message, transport, PEER);
    },
    /** The peer answers `req` (built as the peer would: Via, From, To, Call-ID, CSeq copied). */
    answer(req: SipRequest, status: number, toTag = 'bob1'): SipResponse {
      const res = createResponse(req, status, undefined, { toTag });
      transportLayer.deliver(res, transport, PEER);
      return res;
    },
  };
}
