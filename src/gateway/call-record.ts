/**
 * A call's detail record (docs/admin.md "Call detail records"): opened in the store when the call starts, so a crash
 * leaves it open for the next start to close (`closeCallRecordsLeftOpen`), marked when the call is answered, closed
 * once when it ends, and then pushed to the backend as a CallDetailRecord event (docs/hooks.md) when the app enables
 * that method. A store that fails here costs the record, never the call: the failure is logged.
 */
import type { HookContext, HookEngine, HookOutcome, JsonObject } from '../hooks/types.ts';
import type { Logger } from '../log.ts';
import type { CallDetailRecord, CallDetailRecords, CallHookOutcome, CallRecordEnd, NewCallRecord } from '../store/index.ts';
import { SERVER_RESTARTED } from './wills.ts';

/** What the call knows when it ends, besides its parties and the hooks (which the record has kept). */
export type CallEnd = Omit<CallRecordEnd, 'hooks'>;

export class CallRecord {
  private id: number | undefined;
  private readonly hooks: CallHookOutcome[] = [];
  private answeredAt: number | undefined;

  constructor(
    private readonly records: CallDetailRecords,
    private readonly log: Logger,
    start: NewCallRecord,
  ) {
    this.id = this.write('opening', () => records.open(start));
  }

  /** A decision hook about the call was asked: its outcome goes into the record. */
  hookDecided(method: string, outcome: HookOutcome): void {
    if (outcome.ok) this.hooks.push({ method, outcome: outcome.called ? 'ok' : 'off' });
    else this.hooks.push({ method, outcome: outcome.refuse ? 'refused' : 'failed', info: outcome.info });
  }

  answered(at: number): void {
    this.answeredAt ??= at;
    const id = this.id;
    if (id !== undefined) this.write('answering', () => this.records.answered(id, at));
  }

  /** Answer to `end` in ms, 0 when never answered (as the record counts it). */
  durationAt(end: number): number {
    return this.answeredAt === undefined ? 0 : Math.max(0, end - this.answeredAt);
  }

  /** Closes the record (once); returns it as stored, or undefined when the store failed. */
  close(end: CallEnd): CallDetailRecord | undefined {
    const id = this.id;
    this.id = undefined;
    if (id === undefined) return undefined;
    return this.write('closing', () => this.records.close(id, { ...end, hooks: this.hooks }));
  }

  private write<T>(what: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (err) {
      this.log.error({ err }, `${what} the call detail record failed`);
      return undefined;
    }
  }
}

/** How a call refused before it started ended (a call limit, its session ending): nothing but the refusal to say. */
export interface Refusal {
  info: string;
  /** The final response an incoming call's INVITE got; null for a call the client placed (no INVITE went out). */
  sipStatus: number | null;
  sipCallId: string | null;
}

/**
 * The record of a call refused before it started (a call limit, its session ending): opened and closed at once,
 * FAILED by callhook with the refusal's reason, so that every call the client placed or a SIP peer offered leaves
 * one. Returns it as stored (for the CallDetailRecord event), or undefined when the store failed.
 */
export function recordRefusedCall(records: CallDetailRecords, log: Logger, start: NewCallRecord, refusal: Refusal): CallDetailRecord | undefined {
  return new CallRecord(records, log, start).close({
    caller: start.caller, callee: start.callee, sipCallId: refusal.sipCallId, endedAt: start.startedAt, status: 'FAILED',
    info: refusal.info, sipStatus: refusal.sipStatus, hangupSide: 'callhook', codec: null, packetsToSip: null,
    packetsToBrowser: null, droppedToSip: null, droppedToBrowser: null, lostFromSip: null, lostFromBrowser: null, recording: null,
  });
}

/** The CallDetailRecord event's body: the record with ISO 8601 times, without the store's row id. */
export function callRecordEvent(r: CallDetailRecord): JsonObject {
  const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
  const { id: _id, appKey: _appKey, sessionId: _sessionId, ...fields } = r;
  return { ...fields, startedAt: iso(r.startedAt), answeredAt: iso(r.answeredAt), endedAt: iso(r.endedAt) };
}

/**
 * At start, before any call: the records a crash left open are closed with `Server restarted` and pushed to their
 * backends like any other (durable through the outbox, only where the app enables CallDetailRecord).
 */
export function closeCallRecordsLeftOpen(records: CallDetailRecords, hooks: HookEngine, nodeId: string, log: Logger, now = Date.now()): void {
  const closed = records.closeOpen(SERVER_RESTARTED, now);
  if (closed.length === 0) return;
  for (const r of closed) {
    const context: HookContext = { appKey: r.appKey, sessionId: r.sessionId, nodeId };
    hooks.emit('CallDetailRecord', callRecordEvent(r), context);
  }
  log.warn({ calls: closed.length }, `the previous run ended with calls up: their detail records are closed with "${SERVER_RESTARTED}"`);
}
