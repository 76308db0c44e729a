/**
 * WAL checkpoints off the main thread.
 *
 * In WAL mode with synchronous=NORMAL a commit only appends to the WAL; the fsyncs happen at checkpoints, when
 * WAL pages are copied back into the database file. SQLite's automatic checkpoint runs inside whichever commit
 * crosses the threshold, so one `emit` in a few hundred would stall the event loop for the copy and two fsyncs
 * (measured on the bench VM: 60 % of the outbox's write time went to such stalls, single ones up to 200 ms).
 *
 * Here the main connection never checkpoints (`wal_autocheckpoint = 0`); a worker thread with its own connection
 * runs PASSIVE checkpoints on a short interval. PASSIVE never blocks readers or writers: the main thread keeps
 * committing while pages are copied and synced. Once a checkpoint has copied everything, the next write starts
 * the WAL over from its beginning, so the file stays small.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

/** How often the worker checkpoints. Bounds the WAL to what the writers append in this time. */
export const CHECKPOINT_INTERVAL_MS = 200;

// Plain CommonJS run by the worker (`eval`): no TypeScript loader needed there.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = 0');
const checkpoint = (mode) => {
  try {
    db.pragma('wal_checkpoint(' + mode + ')');
  } catch (e) {
    parentPort.postMessage({ error: String(e && e.message || e) });
  }
};
const timer = setInterval(() => checkpoint('PASSIVE'), workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint('PASSIVE');
  db.close();
  parentPort.close();
});
`;

export interface Checkpointer {
  /** Ends the worker after one last checkpoint; returns at once (the worker does not keep the process alive). */
  stop(): void;
}

export function startCheckpointer(path: string, onError: (message: string) => void): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    execArgv: [], // no TypeScript loader: the source above is plain JavaScript
    workerData: { path, driver, intervalMs: CHECKPOINT_INTERVAL_MS },
  });
  worker.on('message', (m: { error?: string }) => {
    if (m.error !== undefined) onError(m.error);
  });
  worker.on('error', (e) => onError(e.message));
  worker.unref();
  return {
    stop: () => worker.postMessage('stop'),
  };
}
