/**
 * WAL checkpoints between commits, never inside one.
 *
 * In WAL mode with synchronous=NORMAL a commit only appends to the WAL; the fsyncs happen at checkpoints, when
 * WAL pages are copied back into the database file. SQLite's automatic checkpoint runs inside whichever commit
 * crosses the threshold, so one `emit` in a few hundred would stall the event loop for the copy and two fsyncs
 * (measured on the bench VM: 60 % of the outbox's write time went to such stalls, single ones up to 200 ms).
 *
 * Here no commit checkpoints (`wal_autocheckpoint = 0`). A trickle of changes is checkpointed by the main thread
 * between commits (below); a burst by a worker thread with its own connection, on a short interval, in two steps:
 *  1. PASSIVE: copies and syncs what the WAL holds, blocking no one; the main thread keeps committing meanwhile.
 *  2. RESTART, once the WAL holds more than RESTART_FRAMES: copies the few frames written during step 1 and
 *     makes the next commit start the WAL over from its beginning. It holds writers off while it runs (they wait
 *     in SQLite's busy handler), but step 1 has already done the bulk of the copying.
 * Without step 2 the WAL would never restart while commits keep coming (a restart needs a moment where every
 * frame has been copied and nobody is writing), and it would grow without bound under load: measured, 2.8 GB
 * in 12 s at the outbox's full rate.
 *
 * The worker runs only while the database is written to fast. A worker thread is a whole Node environment (its own
 * V8 heap, its copy of Node's bootstrap, its event loop): about 10 MiB of RSS, an eighth of an idle server's and a
 * tenth of one with 100 calls up (docs/benchmarks.md, "Idle RSS: the checkpoint worker on demand" and "The checkpoint
 * worker with calls up"). So the main thread watches its connection's change count (`total_changes()`, every
 * WATCH_INTERVAL_MS: one statement step) and, for what changed since its last look:
 *  - nothing: does nothing (an idle server);
 *  - fewer than START_CHANGES rows (a trickle: calls being set up and ended): checkpoints them itself, PASSIVE. The
 *    stall is bounded by what one interval can hold: a few hundred pages copied and two fsyncs (measured with calls
 *    being set up on a loaded machine: median 3.6 ms, longest 29 ms). With nobody else writing, such a checkpoint
 *    copies every frame, so the next commit starts the WAL over (no RESTART needed). If OVER_BUDGET_IN_A_ROW of
 *    them take longer than MAIN_THREAD_CHECKPOINT_MS each (a slow disk), the worker takes the next ones;
 *  - START_CHANGES rows or more (a burst: the outbox catching up): starts the worker.
 * The worker ends itself once the WAL has taken no frame for IDLE_MS; the main thread then takes over again. What is
 * committed meanwhile waits in the WAL, durable as any commit (the last connection to close checkpoints it all).
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';

/** How often the worker checkpoints. */
export const CHECKPOINT_INTERVAL_MS = 200;
/** WAL size (frames of one page each, 4 KiB by default: 16 MiB) beyond which the WAL is restarted. */
export const RESTART_FRAMES = 4096;
/** How often the main thread looks for new changes: to checkpoint them itself, or to start a worker for. */
export const WATCH_INTERVAL_MS = 100;
/** How long the WAL stays without a new frame before the worker ends: starting one costs ~30 ms of CPU. */
export const IDLE_MS = 30_000;
/**
 * Rows changed within one watch interval (2,500 a second) that start the worker rather than a checkpoint on the main
 * thread. A change writes a page or two (with calls, measured: 1.0–1.6 frames a change), so the main thread's
 * checkpoint copies a few hundred pages at most (SQLite's own automatic checkpoint waits for 1,000). A call set up
 * and ended changes about 22 rows (its events in the outbox, the hook log, its record): setting calls up at 10 a
 * second, and twice that in bursts, stays on the main thread.
 */
export const START_CHANGES = 250;
/**
 * OVER_BUDGET_IN_A_ROW checkpoints on the main thread that each took longer than this hand the next ones to the
 * worker (a slow disk: two fsyncs each).
 */
export const MAIN_THREAD_CHECKPOINT_MS = 20;
export const OVER_BUDGET_IN_A_ROW = 3;

// Plain CommonJS run by the worker (`eval`): no TypeScript loader needed there.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
let lastLog = -1;
let lastFrameAt = Date.now();
const close = () => {
  clearInterval(timer);
  db.close();
  const closed = new Int32Array(workerData.closed);
  Atomics.store(closed, 0, 1);
  Atomics.notify(closed, 0);
  parentPort.close();
};
const checkpoint = () => {
  try {
    const { log } = db.pragma('wal_checkpoint(PASSIVE)')[0];
    if (log > workerData.restartFrames) db.pragma('wal_checkpoint(RESTART)');
    // The WAL's frame count moves with every commit (and falls back after a restart): unchanged, nothing came.
    if (log !== lastLog) {
      lastLog = log;
      lastFrameAt = Date.now();
    } else if (Date.now() - lastFrameAt >= workerData.idleMs) {
      close();
    }
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', close);
`;

/** Longest wait in `stop` for the worker to close its connection (it may still be starting up). */
const STOP_WAIT_MS = 5000;

export interface Checkpointer {
  /** Whether a worker is running (tests). */
  readonly running: boolean;
  /**
   * Closes the worker's connection and returns once it is closed, so that the caller's own close is the last
   * one (SQLite then checkpoints everything and removes the WAL) and the files may be moved or deleted at once.
   * Blocks the thread for the duration of a checkpoint in progress at most: this is shutdown.
   */
  stop(): void;
}

export interface CheckpointerTiming {
  watchIntervalMs: number;
  idleMs: number;
  mainThreadCheckpointMs: number;
}

/** One worker: its thread, and the flag it sets once its connection is closed. */
interface CheckpointWorker {
  thread: Worker;
  closed: Int32Array;
}

/**
 * Checkpoints the WAL of `db` (the main connection, which SQLite never lets checkpoint on its own) at `path`: a
 * trickle of changes on the main thread, between commits; a burst from a worker thread that runs while it lasts.
 */
export function startCheckpointer(
  db: Database.Database,
  path: string,
  onError: (message: string) => void,
  timing: CheckpointerTiming = { watchIntervalMs: WATCH_INTERVAL_MS, idleMs: IDLE_MS, mainThreadCheckpointMs: MAIN_THREAD_CHECKPOINT_MS },
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  let current: CheckpointWorker | undefined;
  const startWorker = (): CheckpointWorker => {
    const closed = new SharedArrayBuffer(4);
    const thread = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [], // no TypeScript loader: the source above is plain JavaScript
      workerData: { path, driver, closed, intervalMs: CHECKPOINT_INTERVAL_MS, restartFrames: RESTART_FRAMES, idleMs: timing.idleMs },
    });
    const started = { thread, closed: new Int32Array(closed) };
    thread.on('message', (m: { error?: string }) => {
      if (m.error !== undefined) onError(m.error);
    });
    thread.on('error', (e) => onError(e.message));
    thread.on('exit', () => {
      if (current === started) current = undefined;
    });
    thread.unref();
    return started;
  };
  // The changes of opening (migrations, the first start's defaultApp) are checkpointed at the first look.
  const totalChanges = db.prepare<[], number>('SELECT total_changes()').pluck();
  const checkpointHere = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  let checkpointedUpTo = 0;
  let overBudget = 0;
  const watch = setInterval(() => {
    const changes = totalChanges.get()!;
    const changed = changes - checkpointedUpTo;
    checkpointedUpTo = changes;
    // While a worker runs it takes every change.
    if (current !== undefined || changed === 0) return;
    if (changed >= START_CHANGES) {
      current = startWorker();
      return;
    }
    const began = performance.now();
    try {
      checkpointHere.get();
    } catch (e) {
      onError((e as Error).message);
    }
    // One long checkpoint may be the thread being descheduled on a busy machine; a slow disk makes each one long.
    overBudget = performance.now() - began > timing.mainThreadCheckpointMs ? overBudget + 1 : 0;
    if (overBudget === OVER_BUDGET_IN_A_ROW) {
      overBudget = 0;
      current = startWorker();
    }
  }, timing.watchIntervalMs);
  watch.unref();
  return {
    get running() {
      return current !== undefined;
    },
    stop: () => {
      clearInterval(watch);
      const worker = current;
      if (worker === undefined) return;
      worker.thread.postMessage('stop');
      // 'not-equal' at once when the worker has already closed its connection (it was ending itself, idle).
      if (Atomics.wait(worker.closed, 0, 0, STOP_WAIT_MS) === 'timed-out') {
        onError(`the checkpoint worker did not close within ${STOP_WAIT_MS} ms; terminating it`);
        void worker.thread.terminate();
      }
    },
  };
}
