/** The admin API's JSON as the console reads it (the OpenAPI document at /api/openapi.json is the reference). */
export interface TimelineStep {
  seq: number;
  time: string;
  gapMs: number;
  lane: 'browser' | 'hooks' | 'sip' | 'media';
  direction: 'in' | 'out' | 'local';
  label: string;
  detail?: string;
  failed: boolean;
  callId?: string;
  peer?: string;
  raw?: string;
}

export interface TimelineSummary {
  sessionId: string;
  appKey: string;
  sipLogin?: string;
  startedAt: string;
  endedAt: string | null;
  steps: number;
  failedSteps: number;
}

export interface TimelineView extends TimelineSummary {
  droppedSteps: number;
  timeline: TimelineStep[];
}

export interface SessionInfo {
  sessionId: string;
  appKey: string;
  status: string;
  sipLogin?: string;
  sipDomain?: string;
  registration?: string;
  connectedAt: string;
}

export interface CallInfo {
  callId: string;
  sessionId: string;
  incoming: boolean;
  status: string;
  caller: string;
  callee: string;
  startedAt: string;
  rtpPort?: number;
  webrtcPort?: number;
  codec?: string;
  packetsToSip?: number;
  packetsToBrowser?: number;
}

export interface Overview {
  version: string;
  uptimeSec: number;
  ports: Record<string, number>;
  sessions: number;
  registrations: Record<string, number>;
  calls: Record<string, number>;
  hooks: { windowMinutes: number; methods: { method: string; total: number; failed: number; lastError?: string }[] };
  outbox: { pending: number; dead: number };
  mediaPorts: { range: string; used: number; free: number }[];
  eventLoopLagMs?: number;
  warnings: string[];
}

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
