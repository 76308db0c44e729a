/**
 * The gateway's public surface: what the client API and the server composition use.
 *
 *   new Gateway({ ua, hooks, log, nodeId, media, callRecords, callMetrics, config })  implements SessionsProvider (info.ts; the admin API reads it)
 *     .connect(port, endpoint, connectionFields) → Session | undefined (refused: the port got `fail` and `end`)
 *     .detach(session, info, by)                 the client is gone (`by` it or callhook): DISCONNECTED, unregistration
 *     .eventDeliveryFailed(failure)              wire to the hook engine's onEventDeliveryFailure
 *     .close()                                   ends every session, bounded wait for unregistrations
 *   Session.sendMessage(request) / .acknowledge(notificationResult)
 *   Session.calls.place / answer / hangup / hold / sendDtmf / transfer(request)   client call messages
 *   ClientPort / ClientEvent                     the one-way feed the client API turns into frames
 *   closeCallRecordsLeftOpen(records, hooks, nodeId, log)   at start: close what a crash left ('Server restarted')
 *   createCallMetrics()                          calls started / ended, setup time, media packets (/metrics)
 */
export { Gateway, type GatewayOptions, TERMINATED_BY_ADMIN } from './gateway.ts';
export { TimelineRecorder } from './timeline.ts';
export type * from './timeline-views.ts';
export { Session } from './session.ts';
export { closeCallRecordsLeftOpen } from './call-record.ts';
export { createCallMetrics, type CallMetrics } from './metrics.ts';
export type { SessionCalls } from './calls.ts';
export { GatewayError, type GatewayErrorCode } from './errors.ts';
export { newNodeId, sessionIdOf, displayAddress } from './ids.ts';
export { DEFAULT_CONTENT_TYPE } from './messaging.ts';
export type * from './types.ts';
export {
  GatewayCallControl, type CallControl, type CallFilter, type FoundCall, type ServerCallRequest,
} from './call-control.ts';
export { Recordings, recordingFile, type RecordingInfo } from './recordings.ts';
