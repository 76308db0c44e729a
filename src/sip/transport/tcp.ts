/** SIP over TCP (RFC 3261 §18): plain sockets under the stream transport of ./stream.ts. */
import { connect, createServer } from 'node:net';
import { bindServer, StreamTransport, type Opening, type StreamTransportOptions } from './stream.ts';
import type { Endpoint } from './transport.ts';

export type TcpTransportOptions = StreamTransportOptions;

export class TcpTransport extends StreamTransport {
  /** Starts listening; rejects with SipError SIP_TRANSPORT when the address cannot be bound. */
  static async listen(o: TcpTransportOptions): Promise<TcpTransport> {
    const server = createServer({ noDelay: true });
    const t = new TcpTransport('TCP', server, await bindServer(server, o, 'TCP'), o);
    server.on('connection', (socket) => t.accepted(socket));
    return t;
  }

  protected open(remote: Endpoint, localAddress: string | undefined): Opening {
    const socket = connect({ host: remote.address, port: remote.port, noDelay: true, ...(localAddress !== undefined && { localAddress }) });
    return { socket, ready: 'connect' };
  }
}
