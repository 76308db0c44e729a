/**
 * The admin API's JSON as the console reads it (the OpenAPI document at /api/openapi.json is the reference). The
 * views the server declares without imports are its own types; the rest are the API's JSON forms (times as ISO text).
 */
export type { CallInfo, SessionInfo } from '../../src/gateway/info.ts';
export type { TimelineStepView as TimelineStep, TimelineSummary, TimelineView } from '../../src/gateway/timeline-views.ts';
export type { Overview } from '../../src/admin/overview-view.ts';

export interface AppView {
  name: string;
  appKey: string;
  url: string;
  restUsername: string | null;
  restPasswordSet: boolean;
  restSecretSet: boolean;
  signature: string;
  methods: string[];
  restClientConfig: Record<string, unknown>;
}

export interface CheckReport {
  appKey: string;
  url: string;
  ok: boolean;
  steps: { step: string; method?: string; ok: boolean; detail: string; advice?: string }[];
}

export interface HookLogEntry {
  id: number;
  time: string;
  appKey: string;
  method: string;
  url: string;
  status: number | null;
  latencyMs: number;
  error: string | null;
  requestBody: string | null;
  responseBody: string | null;
}

export interface OutboxEvent {
  eventId: string;
  appKey: string;
  sessionId: string;
  method: string;
  state: 'pending' | 'dead';
  attempts: number;
  lastError: string | null;
  createdAt: string;
  nextAttemptAt: string;
  body: unknown;
}

export interface CallRecord {
  id: number;
  callId: string;
  sessionId: string;
  appKey: string;
  direction: string;
  caller: string;
  callee: string;
  startedAt: string | null;
  answeredAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  status: string | null;
  info: string | null;
  codec: string | null;
  packetsToSip: number | null;
  packetsToBrowser: number | null;
  lostFromSip: number | null;
}
