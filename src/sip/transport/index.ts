/** The SIP transport layer (RFC 3261 §18, RFC 3581): UDP and TCP transports under one TransportLayer. */
export {
  endpointKey, normalizeAddress, type Endpoint, type Received, type Transport, type TransportProtocol, type TransportSink,
} from './transport.ts';
export { TransportLayer, type ListenSpec, type MessageHandler, type MessageObserver, type TransportLayerOptions } from './transport-layer.ts';
export { UdpTransport, MAX_UDP_PAYLOAD, type UdpTransportOptions } from './udp.ts';
export { TcpTransport, type TcpLimits, type TcpTransportOptions } from './tcp.ts';
export { defaultPort, requestVia, stampReceived, viaDestination, viaHost } from './via.ts';
