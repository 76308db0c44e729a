/**
 * Call detail records in SQLite (./types.ts CallDetailRecords). A call's row is inserted when it starts, so a crash
 * leaves it open and the next start closes it (`closeOpen`); answered and ended update it in place.
 *
 * Retention, like the hook log's cap, is applied every PRUNE_EVERY closes rather than on each: rows started before
 * now - maxAgeMs, and rows at or below the newest id - maxCount, are deleted (ids only grow, so that range delete
 * keeps the newest maxCount). Open rows are never pruned by count or age: their calls are live.
 */
import type { Database, Statement } from 'better-sqlite3';
import {
  CDR_QUERY_MAX, type CallDetailRecord, type CallDetailRecords, type CallHookOutcome, type CallRecordEnd,
  type CallRecordQuery, type CallRecordRetention, type HangupSide, type NewCallRecord,
} from './types.ts';

export interface CallRecordRow {
  id: number;
  call_id: string;
  session_id: string;
  app_key: string;
  direction: 'incoming' | 'outgoing';
  caller: string;
  callee: string;
  sip_call_id: string | null;
  started_at: number;
  answered_at: number | null;
  ended_at: number | null;
  status: string | null;
  info: string | null;
  sip_status: number | null;
  hangup_side: HangupSide | null;
  codec: string | null;
  packets_to_sip: number | null;
  packets_to_browser: number | null;
  dropped_to_sip: number | null;
  dropped_to_browser: number | null;
  lost_from_sip: number | null;
  lost_from_browser: number | null;
  recording: string | null;
  hooks: string;
}

export const DEFAULT_LIMIT = 100;
export const PRUNE_EVERY = 64;

export function recordOf(r: CallRecordRow): CallDetailRecord {
  const ended = r.ended_at;
  return {
    id: r.id,
    callId: r.call_id,
    sessionId: r.session_id,
    appKey: r.app_key,
    direction: r.direction,
    caller: r.caller,
    callee: r.callee,
    sipCallId: r.sip_call_id,
    startedAt: r.started_at,
    answeredAt: r.answered_at,
    endedAt: ended,
    durationMs: ended === null ? null : r.answered_at === null ? 0 : Math.max(0, ended - r.answered_at),
    status: r.status,
    info: r.info,
    sipStatus: r.sip_status,
    hangupSide: r.hangup_side,
    codec: r.codec,
    packetsToSip: r.packets_to_sip,
    packetsToBrowser: r.packets_to_browser,
    droppedToSip: r.dropped_to_sip,
    droppedToBrowser: r.dropped_to_browser,
    lostFromSip: r.lost_from_sip,
    lostFromBrowser: r.lost_from_browser,
    recording: r.recording,
    hooks: JSON.parse(r.hooks) as CallHookOutcome[],
  };
}

export class SqliteCallDetailRecords implements CallDetailRecords {
  private readonly q: {
    open: Statement<[NewCallRecord]>;
    answered: Statement<[number, number]>;
    close: Statement<[Record<string, unknown>]>;
    openRows: Statement<[], CallRecordRow>;
    closeOpen: Statement<[{ info: string; at: number }]>;
    byId: Statement<[number], CallRecordRow>;
    select: Statement<[{ since: number | null; appKey: string | null; limit: number }], CallRecordRow>;
    pruneAge: Statement<[number]>;
    pruneCount: Statement<[number]>;
  };
  private closes = 0;

  constructor(private readonly db: Database, private readonly retention: CallRecordRetention, private readonly now = Date.now) {
    this.q = {
      open: db.prepare(
        `INSERT INTO call_records (call_id, session_id, app_key, direction, caller, callee, started_at)
           VALUES (@callId, @sessionId, @appKey, @direction, @caller, @callee, @startedAt)`,
      ),
      answered: db.prepare('UPDATE call_records SET answered_at = ? WHERE id = ? AND answered_at IS NULL'),
      close: db.prepare(
        `UPDATE call_records SET caller = @caller, callee = @callee, sip_call_id = @sipCallId, ended_at = @endedAt,
           status = @status, info = @info, sip_status = @sipStatus, hangup_side = @hangupSide, codec = @codec,
           packets_to_sip = @packetsToSip, packets_to_browser = @packetsToBrowser, dropped_to_sip = @droppedToSip,
           dropped_to_browser = @droppedToBrowser, lost_from_sip = @lostFromSip,
           lost_from_browser = @lostFromBrowser, recording = @recording, hooks = @hooks
         WHERE id = @id AND ended_at IS NULL`,
      ),
      openRows: db.prepare('SELECT * FROM call_records WHERE ended_at IS NULL ORDER BY id'),
      closeOpen: db.prepare(
        `UPDATE call_records SET ended_at = MAX(@at, started_at), status = 'FINISH', info = @info, hangup_side = 'callhook'
           WHERE ended_at IS NULL`,
      ),
      byId: db.prepare('SELECT * FROM call_records WHERE id = ?'),
      select: db.prepare(
        `SELECT * FROM call_records
          WHERE (@since IS NULL OR started_at >= @since) AND (@appKey IS NULL OR app_key = @appKey)
          ORDER BY id DESC LIMIT @limit`,
      ),
      pruneAge: db.prepare('DELETE FROM call_records WHERE started_at < ? AND ended_at IS NOT NULL'),
      pruneCount: db.prepare('DELETE FROM call_records WHERE id <= (SELECT MAX(id) FROM call_records) - ? AND ended_at IS NOT NULL'),
    };
  }

  open(record: NewCallRecord): number {
    return Number(this.q.open.run(record).lastInsertRowid);
  }

  answered(id: number, at: number): void {
    this.q.answered.run(at, id);
  }

  close(id: number, end: CallRecordEnd): CallDetailRecord | undefined {
    if (this.q.close.run({ ...end, id, hooks: JSON.stringify(end.hooks) }).changes === 0) return undefined;
    const row = this.q.byId.get(id);
    if (++this.closes % PRUNE_EVERY === 0) this.prune();
    return row && recordOf(row);
  }

  closeOpen(info: string, at: number): CallDetailRecord[] {
    return this.db.transaction(() => {
      const ids = this.q.openRows.all().map((r) => r.id);
      this.q.closeOpen.run({ info, at });
      return ids.map((id) => recordOf(this.q.byId.get(id)!));
    })();
  }

  async query(q: CallRecordQuery = {}): Promise<CallDetailRecord[]> {
    const limit = Math.min(Math.max(1, Math.floor(q.limit ?? DEFAULT_LIMIT)), CDR_QUERY_MAX);
    return this.q.select.all({ since: q.since ?? null, appKey: q.appKey ?? null, limit }).map(recordOf);
  }

  /** Retention (see the file comment); also run at open, so a lowered setting applies at once. */
  prune(): void {
    this.q.pruneAge.run(this.now() - this.retention.maxAgeMs);
    this.q.pruneCount.run(this.retention.maxCount);
  }
}
