/**
 * In-memory stand-ins for the layers below the transaction layer: a Transport that records what it is asked to send
 * (and can be told to fail), and a transport layer that hands the transaction layer whatever a test delivers. No
 * sockets: transaction tests run on a FakeClock alone.
 */
import type { SipError } from '../../src/sip/errors.ts';
import type { SipMessage, SipRequest, SipResponse } from '../../src/sip/message/message.ts';
import type { Clock } from '../../src/clock.ts';
import type { TransportLayerPort } from '../../src/sip/transaction/transaction-layer.ts';
import type { Endpoint, Received, Transport, TransportProtocol } from '../../src/sip/transport/transport.ts';

export interface Sent {
  message: SipMessage;
  remote: Endpoint;
  /** Clock time of the send. */
  at: number;
}

export class RecordingTransport implements Transport {
  readonly local: Endpoint = { address: '127.0.0.1', port: 5060 };
  readonly sent: Sent[] = [];
  /** While set, every send is recorded and then rejects with this error. */
  failWith: SipError | undefined;

  constructor(
    readonly protocol: TransportProtocol,
    private readonly clock: Clock,
  ) {}

  get reliable(): boolean {
    return this.protocol !== 'UDP';
  }

  async send(message: SipMessage, remote: Endpoint): Promise<void> {
    this.sent.push({ message, remote, at: this.clock.now() });
    if (this.failWith) throw this.failWith;
  }

  async close(): Promise<void> {}

  /** Times of the requests sent with `method`. */
  requestTimes(method: string): number[] {
    return this.sent.filter((s) => s.message.kind === 'request' && s.message.method === method).map((s) => s.at);
  }

  /** Times of the responses sent with `status`. */
  responseTimes(status: number): number[] {
    return this.sent.filter((s) => s.message.kind === 'response' && s.message.status === status).map((s) => s.at);
  }

  requests(method: string): SipRequest[] {
    return this.sent.flatMap((s) => (s.message.kind === 'request' && s.message.method === method ? [s.message] : []));
  }

  responses(): SipResponse[] {
    return this.sent.flatMap((s) => (s.message.kind === 'response' ? [s.message] : []));
  }
}

/** The transport layer as the transaction layer sees it; responses go to `responseTarget` so tests can tell. */
export class FakeTransportLayer implements TransportLayerPort {
  readonly responseTarget: Endpoint = { address: '192.0.2.99', port: 5099 };
  private handler: ((received: Received) => void) | undefined;

  onMessage(handler: (received: Received) => void): void {
    this.handler = handler;
  }

  responseDestination(): Endpoint {
    return this.responseTarget;
  }

  deliver(message: SipMessage, transport: Transport, remote: Endpoint = { address: '192.0.2.1', port: 5060 }): void {
    if (!this.handler) throw new Error('no transaction layer registered');
    this.handler({ message, transport, remote, raw: Buffer.alloc(0) });
  }
}

/** Lets pending promise callbacks (a rejected send reaching the transaction) run. */
export function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
