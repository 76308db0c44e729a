/**
 * Call detail records in PostgreSQL. The gateway writes a record as its call goes, synchronously
 * (./types.ts CallDetailRecords), and PostgreSQL answers asynchronously, so this node keeps the records of its
 * live calls in memory, answers from them, and writes behind through the group commit (./group-commit.ts):
 * a record reaches the database within a turn of the event loop, in order. Ids are taken from a block of the
 * table's identity reserved ahead, so `open` can name the row before it is written.
 *
 * What a node's crash leaves open is closed by `closeOpen` when a node of the same name starts again; rows of
 * other nodes are never touched here. Retention is SQLite's (./cdr.ts), over the whole cluster's rows.
 */
import type { Pool } from 'pg';
import {
  CDR_QUERY_MAX, type CallDetailRecord, type CallDetailRecords, type CallRecordEnd, type CallRecordQuery,
  type CallRecordRetention, type NewCallRecord,
} from './types.ts';
import { DEFAULT_LIMIT, PRUNE_EVERY, recordOf, type CallRecordRow } from './cdr.ts';
import type { Logger } from '../log.ts';

/** Ids reserved at a time; a new block is fetched when fewer than half are left. */
const ID_BLOCK = 256;

export type CallRecordWrite =
  | { kind: 'cdrOpen'; record: CallDetailRecord }
  | { kind: 'cdrAnswered'; id: number; at: number }
  | { kind: 'cdrClose'; record: CallDetailRecord }
  /** Retention: ended records started before `before`, and beyond the newest `maxCount`, go. */
  | { kind: 'cdrPrune'; before: number; maxCount: number };

type Submit = (writes: CallRecordWrite[]) => Promise<unknown>;

/** A record as it stands once `end` is applied (SQLite's UPDATE of ./cdr.ts, in memory). */
function closed(open: CallDetailRecord, end: CallRecordEnd): CallDetailRecord {
  return {
    ...open,
    caller: end.caller,
    callee: end.callee,
    sipCallId: end.sipCallId,
    endedAt: end.endedAt,
    durationMs: open.answeredAt === null ? 0 : Math.max(0, end.endedAt - open.answeredAt),
    status: end.status,
    info: end.info,
    sipStatus: end.sipStatus,
    hangupSide: end.hangupSide,
    codec: end.codec,
    packetsToSip: end.packetsToSip,
    packetsToBrowser: end.packetsToBrowser,
    droppedToSip: end.droppedToSip,
    droppedToBrowser: end.droppedToBrowser,
    lostFromSip: end.lostFromSip,
    lostFromBrowser: end.lostFromBrowser,
    recording: end.recording,
    hooks: end.hooks,
  };
}

/** Closed by callhook itself, with `info` (a restart, a lost node): FINISH, nothing else known. */
export function closedByCallhook(open: CallDetailRecord, info: string, at: number): CallDetailRecord {
  const endedAt = Math.max(at, open.startedAt);
  return {
    ...open,
    endedAt,
    durationMs: open.answeredAt === null ? 0 : Math.max(0, endedAt - open.answeredAt),
    status: 'FINISH',
    info,
    hangupSide: 'callhook',
  };
}

export class PostgresCallDetailRecords implements CallDetailRecords {
  private readonly live = new Map<number, CallDetailRecord>();
  private ids: number[] = [];
  private reserving: Promise<void> | undefined;
  private closes = 0;

  private constructor(
    private readonly pool: Pool,
    private readonly submit: Submit,
    private readonly node: string,
    private readonly retention: CallRecordRetention,
    private readonly log: Logger,
    /** What this node's previous run left open, read at open. */
    private leftOpen: CallDetailRecord[],
    private readonly now: () => number,
  ) {}

  static async open(pool: Pool, submit: Submit, node: string, retention: CallRecordRetention, log: Logger, now = Date.now): Promise<PostgresCallDetailRecords> {
    const { rows } = await pool.query<CallRecordRow>('SELECT * FROM call_records WHERE node = $1 AND ended_at IS NULL ORDER BY id', [node]);
    const records = new PostgresCallDetailRecords(pool, submit, node, retention, log, rows.map(recordOf), now);
    await records.reserveIds();
    records.prune();
    return records;
  }

  open(record: NewCallRecord): number {
    const id = this.ids.shift();
    if (this.ids.length < ID_BLOCK / 2) this.refillIds();
    if (id === undefined) throw new Error('no call record id is reserved yet (PostgreSQL has not answered)');
    const open: CallDetailRecord = {
      ...record, id, sipCallId: null, answeredAt: null, endedAt: null, durationMs: null, status: null, info: null, sipStatus: null,
      hangupSide: null, codec: null, packetsToSip: null, packetsToBrowser: null, droppedToSip: null, droppedToBrowser: null,
      lostFromSip: null, lostFromBrowser: null, recording: null, hooks: [],
    };
    this.live.set(id, open);
    this.write([{ kind: 'cdrOpen', record: open }]);
    return id;
  }

  answered(id: number, at: number): void {
    const r = this.live.get(id);
    if (r === undefined || r.answeredAt !== null) return;
    this.live.set(id, { ...r, answeredAt: at });
    this.write([{ kind: 'cdrAnswered', id, at }]);
  }

  close(id: number, end: CallRecordEnd): CallDetailRecord | undefined {
    const r = this.live.get(id);
    if (r === undefined) return undefined;
    this.live.delete(id);
    const record = closed(r, end);
    this.write([{ kind: 'cdrClose', record }]);
    if (++this.closes % PRUNE_EVERY === 0) this.prune();
    return record;
  }

  closeOpen(info: string, at: number): CallDetailRecord[] {
    const records = this.leftOpen.map((r) => closedByCallhook(r, info, at));
    this.leftOpen = [];
    if (records.length > 0) this.write(records.map((record) => ({ kind: 'cdrClose', record })));
    return records;
  }

  async query(q: CallRecordQuery = {}): Promise<CallDetailRecord[]> {
    const limit = Math.min(Math.max(1, Math.floor(q.limit ?? DEFAULT_LIMIT)), CDR_QUERY_MAX);
    const { rows } = await this.pool.query<CallRecordRow>(
      `SELECT * FROM call_records WHERE ($1::bigint IS NULL OR started_at >= $1) AND ($2::text IS NULL OR app_key = $2)
        ORDER BY id DESC LIMIT $3`,
      [q.since ?? null, q.appKey ?? null, limit],
    );
    return rows.map(recordOf);
  }

  private write(writes: CallRecordWrite[]): void {
    this.submit(writes).catch((err: unknown) => this.log.error({ err, node: this.node }, 'call detail records could not be written to PostgreSQL'));
  }

  private refillIds(): void {
    this.reserving ??= this.reserveIds()
      .catch((err: unknown) => this.log.error({ err }, 'call record ids could not be reserved in PostgreSQL'))
      .finally(() => (this.reserving = undefined));
  }

  private async reserveIds(): Promise<void> {
    const { rows } = await this.pool.query<{ id: number }>(
      "SELECT nextval(pg_get_serial_sequence('call_records', 'id')) AS id FROM generate_series(1, $1)",
      [ID_BLOCK],
    );
    this.ids.push(...rows.map((r) => r.id));
  }

  /** Retention (see ./cdr.ts), in order with the writes before it; also at open, so a lowered setting applies at once. */
  private prune(): void {
    this.write([{ kind: 'cdrPrune', before: this.now() - this.retention.maxAgeMs, maxCount: this.retention.maxCount }]);
  }
}

/** SQL of the call record writes, on the group commit's connection. */
export const CALL_RECORD_SQL = {
  open: `INSERT INTO call_records (id, call_id, session_id, app_key, direction, caller, callee, started_at, node)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
  answered: 'UPDATE call_records SET answered_at = $2 WHERE id = $1 AND answered_at IS NULL',
  close: `UPDATE call_records SET caller = $2, callee = $3, sip_call_id = $4, ended_at = $5, status = $6, info = $7, sip_status = $8,
            hangup_side = $9, codec = $10, packets_to_sip = $11, packets_to_browser = $12, dropped_to_sip = $13,
            dropped_to_browser = $14, lost_from_sip = $15, lost_from_browser = $16, recording = $17, hooks = $18
          WHERE id = $1 AND ended_at IS NULL`,
  pruneAge: 'DELETE FROM call_records WHERE started_at < $1 AND ended_at IS NOT NULL',
  pruneCount: 'DELETE FROM call_records WHERE id <= (SELECT MAX(id) FROM call_records) - $1 AND ended_at IS NOT NULL',
};

export function closeParams(r: CallDetailRecord): unknown[] {
  return [
    r.id, r.caller, r.callee, r.sipCallId, r.endedAt, r.status, r.info, r.sipStatus, r.hangupSide, r.codec, r.packetsToSip,
    r.packetsToBrowser, r.droppedToSip, r.droppedToBrowser, r.lostFromSip, r.lostFromBrowser, r.recording, JSON.stringify(r.hooks),
  ];
}
