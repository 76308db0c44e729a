/**
 * How each admin API answer reads to a person. Pure functions from API data to text, so they can be tested
 * without a server; `--json` bypasses them.
 */
import type { appView, methodsView } from '../routes/apps.ts';
import type { hookLogView } from '../routes/hooks.ts';
import type { CallRecordView } from '../routes/cdr.ts';
import type { outboxEventView } from '../routes/events.ts';
import type { CheckReport } from '../check-app.ts';
import type { CallInfo, SessionInfo } from '../../gateway/info.ts';
import { formatFields, formatTable, MASK, NONE } from './table.ts';

export type AppData = ReturnType<typeof appView>;
export type AppMethodsData = ReturnType<typeof methodsView>;
export type HookAttemptData = ReturnType<typeof hookLogView>;
export type OutboxEventData = ReturnType<typeof outboxEventView>;
export type CallRecordData = CallRecordView;
export interface RestMethodData {
  name: string;
  type: string;
}

const orNone = (v: string | null | undefined): string => (v === null || v === undefined || v === '' ? NONE : v);

export function renderApps(apps: readonly AppData[], detail: boolean, totalMethods: number): string {
  if (apps.length === 0) return 'No apps. Add one with: callhook add app NAME KEY URL';
  if (!detail) {
    return formatTable<AppData>(
      [
        { header: 'NAME', value: (a) => a.name },
        { header: 'KEY', value: (a) => a.appKey },
        { header: 'METHODS', value: (a) => `${a.methods.length}/${totalMethods}` },
        { header: 'URL', value: (a) => a.url },
      ],
      apps,
    );
  }
  return apps
    .map((a) =>
      formatFields([
        ['name', a.name],
        ['appKey', a.appKey],
        ['url', a.url],
        ['restUsername', orNone(a.restUsername)],
        ['restPassword', a.restPasswordSet ? MASK : NONE],
        ['restSecret', a.restSecretSet ? MASK : NONE],
        ['signature', a.signature],
        ['methods', a.methods.length === 0 ? `${NONE} (none enabled)` : a.methods.join(', ')],
        ['restClientConfig', Object.keys(a.restClientConfig).length === 0 ? NONE : JSON.stringify(a.restClientConfig)],
        ['codecPolicy', a.codecPolicy ?? `${NONE} (the configuration's)`],
      ]),
    )
    .join('\n\n');
}

export function renderAppAdded(app: AppData): string {
  return [
    `Added app ${app.name} (key ${app.appKey}, URL ${app.url}).`,
    'No REST method is enabled yet, so callhook will not call this URL. Enable every method with:',
    `  callhook add app-rest-method -a ${app.appKey}`,
  ].join('\n');
}

export function renderRestMethods(methods: readonly RestMethodData[]): string {
  return formatTable<RestMethodData>(
    [
      { header: 'METHOD', value: (m) => m.name },
      { header: 'TYPE', value: (m) => m.type },
    ],
    methods,
  );
}

export function renderAppMethods(data: AppMethodsData): string {
  if (data.methods.length === 0) {
    return `No REST method is enabled for ${data.appKey}. Enable every method with:\n  callhook add app-rest-method -a ${data.appKey}`;
  }
  return data.methods.join('\n');
}

export function renderCheck(report: CheckReport): string {
  const label = (s: CheckReport['steps'][number]): string => (s.step === 'probe' ? `POST ${s.method}` : s.step);
  const width = Math.max(...report.steps.map((s) => label(s).length));
  // Advice lines start under the detail column: "  FAIL  <label>  <detail>".
  const indent = ' '.repeat(2 + 4 + 2 + width + 2);
  const lines = [`Checking ${report.appKey} at ${report.url}`];
  for (const s of report.steps) {
    lines.push(`  ${s.ok ? 'ok  ' : 'FAIL'}  ${label(s).padEnd(width)}  ${s.detail}`);
    if (s.advice !== undefined) lines.push(`${indent}→ ${s.advice}`);
  }
  const failed = report.steps.filter((s) => !s.ok).length;
  lines.push(failed === 0 ? 'All checks passed.' : `${failed} check${failed === 1 ? '' : 's'} failed.`);
  return lines.join('\n');
}

export function renderSessions(sessions: readonly SessionInfo[]): string {
  if (sessions.length === 0) return 'No sessions.';
  return formatTable<SessionInfo>(
    [
      { header: 'SESSION', value: (s) => s.sessionId },
      { header: 'APP', value: (s) => s.appKey },
      { header: 'STATUS', value: (s) => s.status },
      { header: 'SIP LOGIN', value: (s) => orNone(s.sipLogin && s.sipDomain ? `${s.sipLogin}@${s.sipDomain}` : s.sipLogin) },
      { header: 'REGISTRATION', value: (s) => orNone(s.registration) },
      { header: 'CONNECTED', value: (s) => s.connectedAt },
    ],
    sessions,
  );
}

export function renderCalls(calls: readonly CallInfo[]): string {
  if (calls.length === 0) return 'No calls.';
  return formatTable<CallInfo>(
    [
      { header: 'CALL', value: (c) => c.callId },
      { header: 'DIRECTION', value: (c) => (c.incoming ? 'in' : 'out') },
      { header: 'STATUS', value: (c) => c.status },
      { header: 'CALLER', value: (c) => c.caller },
      { header: 'CALLEE', value: (c) => c.callee },
      { header: 'CODEC', value: (c) => orNone(c.codec) },
      { header: 'RTP', value: (c) => (c.rtpPort === undefined ? NONE : String(c.rtpPort)) },
      { header: 'WEBRTC', value: (c) => (c.webrtcPort === undefined ? NONE : String(c.webrtcPort)) },
      { header: 'STARTED', value: (c) => c.startedAt },
      { header: 'SESSION', value: (c) => c.sessionId },
    ],
    calls,
  );
}

export function renderHooks(attempts: readonly HookAttemptData[]): string {
  if (attempts.length === 0) return 'No hook attempts logged.';
  return formatTable<HookAttemptData>(
    [
      { header: 'TIME', value: (h) => h.time },
      { header: 'APP', value: (h) => h.appKey },
      { header: 'METHOD', value: (h) => h.method },
      { header: 'STATUS', value: (h) => (h.status === null ? NONE : String(h.status)) },
      { header: 'MS', value: (h) => String(Math.round(h.latencyMs)) },
      { header: 'ERROR', value: (h) => orNone(h.error) },
      { header: 'URL', value: (h) => h.url },
    ],
    attempts,
  );
}

/** Call detail records: the start, the parties, how it ended and how long it talked (seconds, from the answer). */
export function renderCallRecords(records: readonly CallRecordData[]): string {
  if (records.length === 0) return 'No call detail records.';
  return formatTable<CallRecordData>(
    [
      { header: 'STARTED', value: (r) => r.startedAt ?? NONE },
      { header: 'APP', value: (r) => r.appKey },
      { header: 'DIR', value: (r) => (r.direction === 'incoming' ? 'in' : 'out') },
      { header: 'CALLER', value: (r) => orNone(r.caller) },
      { header: 'CALLEE', value: (r) => orNone(r.callee) },
      { header: 'STATUS', value: (r) => r.status ?? 'LIVE' },
      { header: 'SIP', value: (r) => (r.sipStatus === null ? NONE : String(r.sipStatus)) },
      { header: 'BY', value: (r) => orNone(r.hangupSide) },
      { header: 'SECONDS', value: (r) => (r.durationMs === null ? NONE : (r.durationMs / 1000).toFixed(1)) },
      { header: 'CODEC', value: (r) => orNone(r.codec) },
      { header: 'INFO', value: (r) => orNone(r.info) },
      { header: 'CALL ID', value: (r) => r.callId },
    ],
    records,
  );
}

export function renderEvents(events: readonly OutboxEventData[], dead: boolean): string {
  if (events.length === 0) return dead ? 'No dead events.' : 'No pending or dead events.';
  return formatTable<OutboxEventData>(
    [
      { header: 'CREATED', value: (e) => e.createdAt },
      { header: 'STATE', value: (e) => e.state },
      { header: 'APP', value: (e) => e.appKey },
      { header: 'METHOD', value: (e) => e.method },
      { header: 'SEQ', value: (e) => String(e.sequence) },
      { header: 'ATTEMPTS', value: (e) => String(e.attempts) },
      { header: 'SESSION', value: (e) => e.sessionId },
      { header: 'LAST ERROR', value: (e) => orNone(e.lastError) },
    ],
    events,
  );
}

export function renderReplay(replayed: number): string {
  return replayed === 0 ? 'No dead events to replay.' : `Replayed ${replayed} dead event${replayed === 1 ? '' : 's'}; delivery starts now.`;
}
