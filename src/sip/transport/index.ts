/** The SIP transport layer (RFC 3261 §18, RFC 3581): UDP, TCP and TLS transports under one TransportLayer. */
export {
  endpointKey, normalizeAddress, type Endpoint, type Received, type Transport, type TransportProtocol, type TransportSink,
} from './transport.ts';
export { TransportLayer, type ListenSpec, type MessageHandler, type MessageObserver, type TlsSettings, type TransportLayerOptions } from './transport-layer.ts';
export { UdpTransport, MAX_UDP_PAYLOAD, type UdpTransportOptions } from './udp.ts';
export { StreamTransport, type TcpLimits } from './stream.ts';
export { TcpTransport, type TcpTransportOptions } from './tcp.ts';
export { TlsTransport, readTlsCredentials, type TlsCredentials, type TlsTransportOptions } from './tls.ts';
export { defaultPort, requestVia, stampReceived, viaDestination, viaHost } from './via.ts';
