/**
 * WAL checkpoints off the main thread.
 *
 * In WAL mode with synchronous=NORMAL a commit only appends to the WAL; the fsyncs happen at checkpoints, when
 * WAL pages are copied back into the database file. SQLite's automatic checkpoint runs inside whichever commit
 * crosses the threshold, so one `emit` in a few hundred would stall the event loop for the copy and two fsyncs
 * (measured on the bench VM: 60 % of the outbox's write time went to such stalls, single ones up to 200 ms).
 *
 * Here the main connection never checkpoints (`wal_autocheckpoint = 0`); a worker thread with its own connection
 * does, on a short interval, in two steps:
 *  1. PASSIVE: copies and syncs what the WAL holds, blocking no one; the main thread keeps committing meanwhile.
 *  2. RESTART, once the WAL holds more than RESTART_FRAMES: copies the few frames written during step 1 and
 *     makes the next commit start the WAL over from its beginning. It holds writers off while it runs (they wait
 *     in SQLite's busy handler), but step 1 has already done the bulk of the copying.
 * Without step 2 the WAL would never restart while commits keep coming (a restart needs a moment where every
 * frame has been copied and nobody is writing), and it would grow without bound under load: measured, 2.8 GB
 * in 12 s at the outbox's full rate.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

/** How often the worker checkpoints. */
export const CHECKPOINT_INTERVAL_MS = 200;
/** WAL size (frames of one page each, 4 KiB by default: 16 MiB) beyond which the WAL is restarted. */
export const RESTART_FRAMES = 4096;

// Plain CommonJS run by the worker (`eval`): no TypeScript loader needed there.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
const checkpoint = () => {
  try {
    const { log } = db.pragma('wal_checkpoint(PASSIVE)')[0];
    if (log > workerData.restartFrames) db.pragma('wal_checkpoint(RESTART)');
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  const closed = new Int32Array(workerData.closed);
  Atomics.store(closed, 0, 1);
  Atomics.notify(closed, 0);
  parentPort.close();
});
`;

/** Longest wait in `stop` for the worker to close its connection (it may still be starting up). */
const STOP_WAIT_MS = 5000;

export interface Checkpointer {
  /**
   * Closes the worker's connection and returns once it is closed, so that the caller's own close is the last
   * one (SQLite then checkpoints everything and removes the WAL) and the files may be moved or deleted at once.
   * Blocks the thread for the duration of a checkpoint in progress at most: this is shutdown.
   */
  stop(): void;
}

export function startCheckpointer(path: string, onError: (message: string) => void): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const closed = new SharedArrayBuffer(4);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    execArgv: [], // no TypeScript loader: the source above is plain JavaScript
    workerData: { path, driver, closed, intervalMs: CHECKPOINT_INTERVAL_MS, restartFrames: RESTART_FRAMES },
  });
  worker.on('message', (m: { error?: string }) => {
    if (m.error !== undefined) onError(m.error);
  });
  let gone = false; // the worker died (it cannot be waited for)
  worker.on('error', (e) => onError(e.message));
  worker.on('exit', () => {
    gone = true;
  });
  worker.unref();
  return {
    stop: () => {
      if (gone) return;
      worker.postMessage('stop');
      if (Atomics.wait(new Int32Array(closed), 0, 0, STOP_WAIT_MS) === 'timed-out') {
        onError(`the checkpoint worker did not close within ${STOP_WAIT_MS} ms; terminating it`);
        void worker.terminate();
      }
    },
  };
}
