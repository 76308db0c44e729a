/**
 * The client API: the WCS WebSocket protocol (docs/client-protocol.md)
 * translated to and from gateway calls.
 *
 *   ClientApiServer.start({ gateway, config, log }) → .wsPort, .wssPort, .connectionCount, .refuseNew(retryAfterSeconds), .drain(retryAfterSeconds), .close()
 *   decodeFrame(text) / encodeFrame(message, data) / failFrame(apiMethod, info)   the frames, validated with zod
 */
export { ClientApiServer, type ClientApiConfig, type ClientApiOptions } from './ws-server.ts';
export { ClientConnection, MAX_MISSED_PINGS, type ConnectionLimits } from './connection.ts';
export { decodeFrame, failFrame, FrameError, UNKNOWN, type ClientFrame, type FrameErrorCode } from './frames.ts';
export { encodeFrame } from '../client-protocol/vocabulary.ts';
