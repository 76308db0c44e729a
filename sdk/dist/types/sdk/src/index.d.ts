/**
 * callhook's browser SDK: a typed client of callhook's WebSocket protocol (the WCS 5 protocol, see callhook's
 * docs/client-protocol.md), with calls over WebRTC and SIP MESSAGE.
 *
 * ```ts
 * import { connect } from '@callhook/sdk';
 * const session = await connect({ url: 'ws://localhost:8080/', sip: { login: 'alice', password: '…', domain: 'pbx.example', register: true } });
 * session.on('registered', (e) => console.log(e.info));
 * const call = session.call({ callee: '1000' });
 * call.on('status', (e) => console.log(e.status, e.info ?? ''));
 * ```
 *
 * As a script tag (`dist/callhook.js`) the same names are on the global `Callhook`.
 */
export { connect, Session } from './session.ts';
export type { SessionEvents, EstablishedEvent, RegistrationEvent, DisconnectedEvent, FailedEvent } from './session.ts';
export type { ConnectOptions, ReconnectPolicy } from './connect-options.ts';
export type { MessageStatusEvent, SendMessageOptions, MessageResult } from './messages.ts';
export { Call } from './call.ts';
export type { CallOptions, AnswerOptions, CallEvents, CallStatusEvent, TransferEvent, Warning } from './call.ts';
export { Emitter, type Listener } from './emitter.ts';
export { CallhookError, type CallhookErrorCode } from './errors.ts';
export { DEFAULT_APP_KEY, type SipOptions } from './connection-fields.ts';
export type { MediaOptions, MediaRequest } from './media.ts';
export type { WebSocketLike, WebSocketConstructor } from './channel.ts';
export { CALL_STATUSES, FINAL_CALL_STATUSES, isFinalCallStatus, type CallStatus, type ConnectionStatus, type RegistrationStatus, type MessageStatus, type TransferStatus, type DtmfType, type JsonValue, type UserData, type ServerCall, type ServerMessage, type ServerFailure, } from './protocol.ts';
export { SDK_VERSION } from './version.ts';
