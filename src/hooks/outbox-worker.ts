/**
 * Delivers the event outbox (docs/hooks.md "Events"): at least once, in order per session, with
 * exponential backoff from backoffMinMs doubling to backoffMaxMs, until the event's max age, then dead.
 *
 * Scheduling. Each session with pending events has a lane; a lane has at most one delivery in flight and
 * starts the next event only when the previous one is settled, so order within a session holds by construction.
 * A lane reads its session's oldest pending events a few at a time (read-ahead) and keeps that copy in step with
 * what it writes back; an event committed while the copy holds all the session has pending joins it unread, as
 * does a session's first event. Writes are batched (./write-behind.ts) and flushed before any read. Lanes of one
 * app share `concurrencyPerApp` delivery slots; apps do not share slots, so a slow or dead backend holds only its
 * own app's slots. A failed head event keeps its lane waiting on a timer (later events of that session wait
 * behind it, as ordering demands); other sessions go on.
 *
 * No jitter on the backoff: bursts after an outage are already bounded by the per-app slots.
 *
 * The store is asynchronous (./storage.ts): a lane that reads its next events holds its app's slot while it
 * reads, and an event committed while its lane reads (the read may have missed it) makes the lane read again
 * rather than go.
 */
import { systemClock, type Clock, type TimerHandle } from '../clock.ts';
import type { EventOutbox, OutboxEvent } from './storage.ts';
import type { Logger } from '../log.ts';
import type { WriteBehind } from './write-behind.ts';

export type DeliveryResult =
  | { delivered: true }
  /** `permanent`: sending again cannot help (the app is gone): the event goes dead at once. */
  | { delivered: false; error: string; permanent: boolean };

export type Deliver = (event: OutboxEvent) => Promise<DeliveryResult>;

export interface OutboxWorkerOptions {
  backoffMinMs: number;
  backoffMaxMs: number;
  concurrencyPerApp: number;
  maxAgeMs: number;
  /** Wall-clock time in ms since the epoch: what the store's attempt times are in. */
  now: () => number;
  /** The timers of lanes waiting out their backoff and of pruning (default: the system clock). */
  clock?: Clock;
  log: Logger;
  /** Ends the deliveries in flight (they resolve as aborted). */
  abortInFlight: () => void;
}

interface Lane {
  sessionId: string;
  appKey: string;
  timer?: TimerHandle;
  /**
   * The session's oldest pending events as last read from the store, kept in step with what the worker writes
   * back, so the store is read once per LANE_READ_AHEAD events rather than once per event. Emptied when a
   * replay may have put older events in front of them.
   */
  next: OutboxEvent[];
  /** Events committed for the session since the lane was made: counted, so a read that may have missed one is redone. */
  notified: number;
  /**
   * `notified` as it was when a read found fewer than LANE_READ_AHEAD events (all the session had pending), if
   * that was the last read: while it still equals `notified`, an emptied `next` means nothing is pending, and the
   * lane goes without reading the store again.
   */
  readAllAt?: number;
}

interface AppSlots {
  inFlight: number;
  ready: Lane[];
}

/** Sequence counters of sessions idle this long with nothing pending are forgotten (a session is long gone). */
const SEQUENCE_IDLE_MS = 7 * 24 * 3600_000;
const PRUNE_INTERVAL_MS = 3600_000;
const LANE_READ_AHEAD = 16;

/** Delay after the n-th failed attempt: min · 2^(n-1), at most max (250 ms, 500 ms, 1 s, … 60 s by default). */
export function backoffDelay(failedAttempts: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(Math.max(failedAttempts - 1, 0), 30));
}

export class OutboxWorker {
  private readonly lanes = new Map<string, Lane>();
  private readonly slots = new Map<string, AppSlots>();
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private pumpScheduled = false;
  private pruneTimer: TimerHandle | undefined;
  private readonly clock: Clock;
  /** Waiters of idle(): resolved when the last lane goes. */
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly outbox: EventOutbox,
    private readonly deliver: Deliver,
    /** Outbox state changes go through it; the head of a lane is read only after a flush. */
    private readonly writes: WriteBehind,
    private readonly opts: OutboxWorkerOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Resumes every session with pending events in the store (after a restart, everything not yet delivered). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.resync();
    await this.prune();
    this.schedulePrune();
  }

  /**
   * A new event of this session was committed to the outbox; `event` is its row as committed. The lane takes it
   * without reading the store when it knows nothing else can be pending before it: the lane holds every event its
   * session had pending (and has room), or the event is the session's first ever (sequence 1). Ids only grow and
   * commits keep their order, so such an event comes after all the lane holds.
   */
  notify(sessionId: string, appKey: string, event?: OutboxEvent): void {
    if (!this.running) return;
    const lane = this.lanes.get(sessionId);
    if (lane === undefined) {
      this.addLane(sessionId, appKey, 0, event?.sequence === 1 ? event : undefined);
      return;
    }
    const holdsAll = lane.readAllAt === lane.notified;
    lane.notified++;
    if (event !== undefined && holdsAll && lane.next.length < LANE_READ_AHEAD) {
      lane.next.push(event);
      lane.readAllAt = lane.notified;
    }
  }

  /** Picks up sessions that became pending behind the worker's back (replay of dead letters). */
  async resync(): Promise<void> {
    if (!this.running) return;
    for (const lane of this.lanes.values()) lane.next = [];
    const pending = await this.outbox.pendingSessions();
    const now = this.opts.now();
    for (const s of pending) {
      const lane = this.lanes.get(s.sessionId);
      if (lane !== undefined) lane.notified++;
      else this.addLane(s.sessionId, s.appKey, s.nextAttemptAt - now);
    }
  }

  /**
   * Resolves once no delivery is in flight or due: every lane has delivered its events (or let them go dead), or
   * waits out the backoff of a failed one. A backend that just failed is not tried again sooner than its backoff,
   * so a stopping server waits for what can be delivered now and leaves the rest pending for its next start.
   */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops scheduling, aborts deliveries in flight (their events stay pending) and waits for them to settle. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.pruneTimer !== undefined) this.clock.clearTimeout(this.pruneTimer);
    for (const lane of this.lanes.values()) if (lane.timer !== undefined) this.clock.clearTimeout(lane.timer);
    this.opts.abortInFlight();
    await Promise.all(this.inFlight);
    this.lanes.clear();
    this.slots.clear();
    this.wakeIdleWaiters();
  }

  /** `first`: the session's first event, which the lane starts with instead of reading the store. */
  private addLane(sessionId: string, appKey: string, delayMs: number, first?: OutboxEvent): void {
    const lane: Lane = first === undefined ? { sessionId, appKey, next: [], notified: 0 } : { sessionId, appKey, next: [first], notified: 0, readAllAt: 0 };
    this.lanes.set(sessionId, lane);
    if (delayMs > 0) this.wait(lane, delayMs);
    else this.enqueue(lane);
  }

  private slotsOf(appKey: string): AppSlots {
    let s = this.slots.get(appKey);
    if (s === undefined) {
      s = { inFlight: 0, ready: [] };
      this.slots.set(appKey, s);
    }
    return s;
  }

  private enqueue(lane: Lane): void {
    this.slotsOf(lane.appKey).ready.push(lane);
    this.schedulePump();
  }

  private wait(lane: Lane, delayMs: number): void {
    lane.timer = this.clock.setTimeout(() => {
      lane.timer = undefined;
      this.enqueue(lane);
    }, delayMs);
    if (this.idleWaiters.length > 0 && this.isIdle()) this.wakeIdleWaiters();
  }

  /** Coalesced: many notifications in one tick start deliveries once, after the emitting code has returned. */
  private schedulePump(): void {
    if (this.pumpScheduled || !this.running) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Lanes take their app's free slots; the bookkeeping written so far is committed before any lane reads. */
  private pump(): void {
    if (!this.running) return;
    const flushed = this.writes.flush();
    for (const s of this.slots.values()) {
      while (s.inFlight < this.opts.concurrencyPerApp && s.ready.length > 0) {
        const lane = s.ready.shift()!;
        s.inFlight++;
        const done: Promise<void> = flushed.then(() => this.startHead(lane)).finally(() => {
          s.inFlight--;
          this.inFlight.delete(done);
          this.schedulePump();
        });
        this.inFlight.add(done);
      }
    }
  }

  /** Sends the lane's head, holding its app's slot; or, when nothing is due, lets the lane wait or go. */
  private async startHead(lane: Lane): Promise<void> {
    if (!this.running) return;
    if (lane.next.length === 0) {
      const notified = lane.notified;
      if (lane.readAllAt === notified) {
        this.dropLane(lane);
        return;
      }
      try {
        lane.next = await this.outbox.pendingOf(lane.sessionId, LANE_READ_AHEAD);
        lane.readAllAt = lane.next.length < LANE_READ_AHEAD ? notified : undefined;
      } catch (e) {
        this.opts.log.error({ err: e, sessionId: lane.sessionId }, 'outbox: cannot read the next event');
        this.dropLane(lane);
        return;
      }
      if (!this.running) return;
      if (lane.next.length === 0 && lane.notified !== notified) {
        this.enqueue(lane); // an event was committed during the read: read again
        return;
      }
    }
    const head = lane.next[0];
    if (head === undefined) {
      this.dropLane(lane);
      return;
    }
    const due = head.nextAttemptAt - this.opts.now();
    if (due > 0) {
      this.wait(lane, due);
      return;
    }
    await this.attempt(lane, head);
  }

  private async attempt(lane: Lane, event: OutboxEvent): Promise<void> {
    try {
      const result = await this.deliver(event);
      if (!this.running) return; // stopping: the event stays as it is, pending
      if (result.delivered) {
        this.writes.add({ kind: 'markDelivered', id: event.id });
        this.settled(lane, event);
        this.enqueue(lane);
        return;
      }
      const now = this.opts.now();
      const deadline = event.activeSince + this.opts.maxAgeMs;
      if (result.permanent || now >= deadline) {
        this.writes.add({ kind: 'markDead', id: event.id, error: result.error });
        this.settled(lane, event);
        this.opts.log.warn(
          { eventId: event.eventId, appKey: event.appKey, sessionId: event.sessionId, method: event.method, error: result.error },
          result.permanent
            ? 'event is dead: it cannot be delivered (replay it with `callhook replay events` once fixed)'
            : 'event is dead: not delivered within restEventMaxAgeMs (replay it with `callhook replay events`)',
        );
        this.enqueue(lane);
        return;
      }
      // The last retry is made at the deadline itself rather than skipped.
      const next = Math.min(now + backoffDelay(event.attempts + 1, this.opts.backoffMinMs, this.opts.backoffMaxMs), deadline);
      this.writes.add({ kind: 'markAttemptFailed', id: event.id, nextAttemptAt: next, error: result.error });
      if (lane.next[0]?.id === event.id) lane.next[0] = { ...event, attempts: event.attempts + 1, nextAttemptAt: next, lastError: result.error };
      this.wait(lane, next - now);
    } catch (e) {
      this.opts.log.error({ err: e, eventId: event.eventId }, 'outbox: delivery failed unexpectedly');
      this.dropLane(lane);
    }
  }

  private dropLane(lane: Lane): void {
    this.lanes.delete(lane.sessionId);
    if (this.isIdle()) this.wakeIdleWaiters();
  }

  private isIdle(): boolean {
    for (const lane of this.lanes.values()) if (lane.timer === undefined) return false;
    return true;
  }

  private wakeIdleWaiters(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** The event left the pending set (delivered or dead): drop it from the lane's read-ahead. */
  private settled(lane: Lane, event: OutboxEvent): void {
    if (lane.next[0]?.id === event.id) lane.next.shift();
  }

  /** Every PRUNE_INTERVAL_MS while running; it alone does not keep the process alive. */
  private schedulePrune(): void {
    this.pruneTimer = this.clock.setTimeout(() => {
      void this.prune().then(() => {
        if (this.running) this.schedulePrune();
      });
    }, PRUNE_INTERVAL_MS, { unref: true });
  }

  /** Never rejects: a failure is logged. */
  private async prune(): Promise<void> {
    try {
      await this.outbox.pruneSequences(this.opts.now() - SEQUENCE_IDLE_MS);
    } catch (e) {
      this.opts.log.error({ err: e }, 'outbox: pruning sequence counters failed');
    }
  }
}
