/**
 * Schema migrations, applied in order at open. The schema version is SQLite's `PRAGMA user_version` (a header
 * field of the database file, so it needs no table of its own and changes atomically with the migration's
 * transaction). A migration is never edited once released: a change is a new entry at the end.
 *
 * Call and message records (docs/admin.md) get their tables in the migration that first uses them.
 */
import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'apps, app methods, default restClientConfig, event outbox, hook log',
    sql: `
      CREATE TABLE apps (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        app_key       TEXT NOT NULL UNIQUE,
        url           TEXT NOT NULL,
        rest_username TEXT,
        rest_password TEXT,
        rest_secret   TEXT,
        signature     TEXT NOT NULL DEFAULT 'callhook' CHECK (signature IN ('callhook', 'wcs'))
      );
      CREATE TABLE app_methods (
        app_id INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
        method TEXT NOT NULL,
        PRIMARY KEY (app_id, method)
      ) WITHOUT ROWID;
      CREATE TABLE app_rest_client_config (
        app_id         INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
        method         TEXT NOT NULL,
        rest_exclude   TEXT,
        client_exclude TEXT,
        rest_on_error  TEXT CHECK (rest_on_error IN ('LOG', 'FAIL')),
        rest_policy    TEXT CHECK (rest_policy IN ('NOTIFY', 'OVERWRITE', 'DISABLE')),
        rest_overwrite TEXT,
        PRIMARY KEY (app_id, method)
      ) WITHOUT ROWID;

      -- Indexes here are kept to what delivery needs: every index is one more page written per event.
      -- event_id is a random UUID (v4) and needs no uniqueness index.
      CREATE TABLE event_outbox (
        id              INTEGER PRIMARY KEY,
        event_id        TEXT NOT NULL,
        app_key         TEXT NOT NULL,
        session_id      TEXT NOT NULL,
        method          TEXT NOT NULL,
        sequence        INTEGER NOT NULL,
        body            TEXT NOT NULL,
        fail_notify     INTEGER NOT NULL,
        created_at      INTEGER NOT NULL,
        active_since    INTEGER NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error      TEXT,
        state           TEXT NOT NULL CHECK (state IN ('pending', 'dead'))
      );
      -- the head of a session: its oldest pending event
      CREATE INDEX event_outbox_pending ON event_outbox (session_id, id) WHERE state = 'pending';
      -- dead letters, for listing and replay; pending rows never touch this index
      CREATE INDEX event_outbox_dead ON event_outbox (id) WHERE state = 'dead';
      -- per-session sequence counters outlive delivered rows (which are deleted)
      CREATE TABLE event_sequences (
        session_id    TEXT PRIMARY KEY,
        last_sequence INTEGER NOT NULL,
        last_used_at  INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE hook_log (
        id         INTEGER PRIMARY KEY,
        time       INTEGER NOT NULL,
        app_key    TEXT NOT NULL,
        method     TEXT NOT NULL,
        url        TEXT NOT NULL,
        status     INTEGER,
        latency_ms REAL NOT NULL,
        error      TEXT
      );
      -- no index besides the rowid: at most 10,000 rows to filter, and one less page to write per attempt
    `,
  },
  {
    version: 2,
    description: 'session wills: the events a live session owes its backend should callhook die',
    sql: `
      -- One row per open subject of a live session (its connection, registration, each call): the event that
      -- would close it, ready for the outbox (context fields in, restExclude applied). Written in the transaction
      -- of the event that opens or changes the subject, deleted in that of the event that closes it; what a crash
      -- leaves is emitted at the next start (./wills.ts, ../hooks/engine.ts).
      CREATE TABLE session_wills (
        session_id  TEXT NOT NULL,
        subject     TEXT NOT NULL,
        app_key     TEXT NOT NULL,
        method      TEXT NOT NULL,
        body        TEXT NOT NULL,
        fail_notify INTEGER NOT NULL,
        PRIMARY KEY (session_id, subject)
      ); -- with a rowid: the order the wills were first written in, which an update keeps
    `,
  },
  {
    version: 3,
    description: 'call detail records',
    sql: `
      -- One row per call (./cdr.ts): inserted when the call starts, updated when it is answered and when it ends.
      -- A row still without ended_at after a crash is closed at the next start with info 'Server restarted'.
      CREATE TABLE call_records (
        id                 INTEGER PRIMARY KEY,
        call_id            TEXT NOT NULL,
        session_id         TEXT NOT NULL,
        app_key            TEXT NOT NULL,
        direction          TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
        caller             TEXT NOT NULL,
        callee             TEXT NOT NULL,
        sip_call_id        TEXT,
        started_at         INTEGER NOT NULL,
        answered_at        INTEGER,
        ended_at           INTEGER,
        status             TEXT,
        info               TEXT,
        sip_status         INTEGER,
        hangup_side        TEXT,
        codec              TEXT,
        packets_to_sip     INTEGER,
        packets_to_browser INTEGER,
        dropped_to_sip     INTEGER,
        dropped_to_browser INTEGER,
        lost_from_sip      INTEGER,
        hooks              TEXT NOT NULL DEFAULT '[]'
      );
      -- the calls a crash left open, read once at start
      CREATE INDEX call_records_open ON call_records (id) WHERE ended_at IS NULL;
      -- --since and retention by age
      CREATE INDEX call_records_started ON call_records (started_at);
    `,
  },
  {
    version: 4,
    description: 'call detail records: loss from the browser',
    sql: `
      -- RTP packets from the browser lost on the way (sequence gaps on the WebRTC leg); NULL in older rows.
      ALTER TABLE call_records ADD COLUMN lost_from_browser INTEGER;
    `,
  },
  {
    version: 5,
    description: 'apps: their own codecPolicy',
    sql: `
      -- passthrough, opus-to-browser or fail; NULL: the configuration's codecPolicy.
      ALTER TABLE apps ADD COLUMN codec_policy TEXT;
    `,
  },
  {
    version: 6,
    description: 'hook log: request and response bodies',
    sql: `
      -- Redacted and cut at hookLogMaxBodyBytes (../hooks/hook-log-body.ts); NULL in older rows and when not kept.
      ALTER TABLE hook_log ADD COLUMN request_body TEXT;
      ALTER TABLE hook_log ADD COLUMN response_body TEXT;
    `,
  },
  {
    version: 7,
    description: 'call detail records: the recording',
    sql: `
      -- The recording's file in <dataDir>/recordings, for a recorded call; NULL otherwise and in older rows.
      ALTER TABLE call_records ADD COLUMN recording TEXT;
    `,
  },
];

/** Applies the migrations newer than the file's user_version; returns the version the file had before. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const from = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.at(-1)?.version ?? 0;
  if (from > latest) {
    throw new Error(`database schema version ${from} is newer than this callhook knows (${latest}): upgrade callhook`);
  }
  for (const m of migrations) {
    if (m.version <= from) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return from;
}
