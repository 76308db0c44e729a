/**
 * `GET /api/cdr?since&app&limit&format`: call detail records, newest first (docs/admin.md "Call detail records");
 * `format=csv` gives the same rows as CSV (RFC 4180) for a spreadsheet.
 */
import type { AdminDeps } from '../deps.ts';
import { route, type Route } from '../router.ts';
import { cdrQuery, parseSince } from '../schemas.ts';
import type { CallDetailRecord } from '../../store/types.ts';

/** The API shows times as ISO 8601 (null while unknown); the store keeps ms since the epoch. */
export function callRecordView(r: CallDetailRecord) {
  const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
  return { ...r, startedAt: iso(r.startedAt), answeredAt: iso(r.answeredAt), endedAt: iso(r.endedAt) };
}

export type CallRecordView = ReturnType<typeof callRecordView>;

/** The CSV columns, in order: every field of the view; `hooks` as `method:outcome` separated by spaces. */
export const CDR_COLUMNS = [
  'id', 'callId', 'sessionId', 'appKey', 'direction', 'caller', 'callee', 'sipCallId', 'startedAt', 'answeredAt', 'endedAt',
  'durationMs', 'status', 'info', 'sipStatus', 'hangupSide', 'codec', 'packetsToSip', 'packetsToBrowser', 'droppedToSip',
  'droppedToBrowser', 'lostFromSip', 'lostFromBrowser', 'recording', 'hooks',
] as const satisfies ReadonlyArray<keyof CallRecordView>;

/**
 * One CSV field (RFC 4180 §2: quoted when it holds a comma, quote or line break; quotes doubled). A text starting
 * with = + - @ is prefixed with ' so a spreadsheet shows it rather than running it as a formula: caller and callee
 * come from SIP messages anyone can send.
 */
function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : String(value as number);
  if (typeof value === 'string' && /^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function callRecordsCsv(records: readonly CallRecordView[]): string {
  const lines = [CDR_COLUMNS.join(',')];
  for (const r of records) {
    lines.push(CDR_COLUMNS.map((c) => csvField(c === 'hooks' ? r.hooks.map((h) => `${h.method}:${h.outcome}`).join(' ') : r[c])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function cdrRoutes(deps: AdminDeps): Route[] {
  return [
    route({
      method: 'GET',
      path: '/api/cdr',
      auth: true,
      query: cdrQuery,
      handler: async ({ query }) => {
        const since = query.since === undefined ? undefined : parseSince(query.since);
        const records = (await deps.store.callRecords.query({ since, appKey: query.app, limit: query.limit })).map(callRecordView);
        if (query.format === 'csv') return { text: callRecordsCsv(records), contentType: 'text/csv; charset=utf-8' };
        return { json: records };
      },
    }),
  ];
}
