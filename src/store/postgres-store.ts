/**
 * Opens the PostgreSQL store (config `store: "postgres"`, `postgresUrl`): the same interfaces as SQLite's
 * (./types.ts), over one `pg` pool, shared by every node pointed at the same database (docs/scaling.md).
 *
 * Durability: PostgreSQL's own (synchronous_commit on): a write is on disk when its commit returns. Writes go
 * through one group commit (./group-commit.ts), so an event is durable a turn of the event loop after `emit`
 * rather than before it returns, as with SQLite; a node killed in between loses the events of that turn together
 * with the wills they carried, so what the backend was owed before stays owed (docs/architecture.md).
 */
import type { Pool, PoolClient } from 'pg';
import type { CallRecordRetention, HookLogEntry, HookLogQuery, OutboxEvent, SessionWill, Store, StoreWrite } from './types.ts';
import { HOOK_LOG_CAPACITY } from './types.ts';
import type { Logger } from '../log.ts';
import { GroupCommit, type CommitWrites } from './group-commit.ts';
import { migratePostgres } from './postgres-migrations.ts';
import { PostgresAppRepository } from './postgres-apps.ts';
import { appendEvents, OUTBOX_MARKS, PostgresEventOutbox } from './postgres-outbox.ts';
import { CALL_RECORD_SQL, closeParams, PostgresCallDetailRecords, type CallRecordWrite } from './postgres-cdr.ts';
import { DEFAULT_APP_KEY, DEFAULT_CDR_RETENTION, defaultApp } from './sqlite-store.ts';
import { PostgresNodeRegistry } from './postgres-nodes.ts';
import { hookLogEntryOf, hookLogLimit, TRIM_EVERY, type HookLogRow } from './hook-log.ts';
import { PostgresLiveDirectory } from './postgres-directory.ts';

export interface OpenPostgresStoreOptions {
  /** postgres://user:password@host:port/database (config postgresUrl). */
  url: string;
  /** This node's name: it owns the events, wills and call records it writes (config nodeName). */
  node: string;
  /** Port of the admin server, which hosts EchoApp (the defaultApp of a first start). */
  adminPort: number;
  log: Logger;
  cdrRetention?: CallRecordRetention;
  /** Connections in the pool (config postgresPoolSize). */
  poolSize?: number;
}


/** A group commit's transaction (./group-commit.ts) on a connection of the pool: `apply` runs the writes on it. */
function transaction<W, R>(pool: Pool, apply: (client: PoolClient, writes: readonly W[]) => Promise<R[]>): CommitWrites<W, R> {
  return async (writes) => {
    let client: PoolClient | undefined;
    let broken = false;
    try {
      client = await pool.connect();
      await client.query('BEGIN');
      const results = await apply(client, writes);
      await client.query('COMMIT');
      return results;
    } catch (e) {
      // A connection that cannot even roll back is broken: the pool drops it rather than lend it again.
      broken = client !== undefined && !(await client.query('ROLLBACK').then(() => true, () => false));
      throw e;
    } finally {
      client?.release(broken);
    }
  };
}

/** bigint's OID: see `openPostgresStore`'s type parser. */
const INT8_OID = 20;

/** The URL with its password masked, for logs and `Store.path`. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(a PostgreSQL URL that does not parse)';
  }
}

type PgWrite = StoreWrite | CallRecordWrite;

export async function openPostgresStore(options: OpenPostgresStoreOptions): Promise<Store> {
  const { node, log } = options;
  // Loaded here, not at import: `pg` touches Node's fetch globals as it loads (its Cloudflare check reads `Response`),
  // which loads Node's bundled HTTP client and compiles its WebAssembly parser, about 13 MiB of RSS that a server on
  // SQLite never needs (docs/benchmarks.md "Idle RSS").
  const pg = (await import('pg')).default;
  // bigint (OID 20) as a JS number: ids, sequences and ms times stay far below 2^53. The parser is this pool's own,
  // so nothing else in the process that uses `pg` is affected.
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 10, types });
  // An idle connection that fails (the server restarted) is dropped by the pool; without a listener it would end the process.
  pool.on('error', (err) => log.warn({ err }, 'an idle PostgreSQL connection failed (the pool drops it)'));
  try {
    const client = await pool.connect();
    let fromVersion: number;
    try {
      fromVersion = await migratePostgres(client);
    } finally {
      client.release();
    }
    const apps = await PostgresAppRepository.open(pool, log);
    if (fromVersion === 0 && apps.getByKey(DEFAULT_APP_KEY) === undefined) {
      // First start of the cluster (docs/hooks.md "The built-in backend: EchoApp").
      await apps.add(defaultApp(options.adminPort));
      await apps.enableMethod(DEFAULT_APP_KEY, '*');
    }

    let hookLogAppends = 0;
    /** Runs of these writes go to PostgreSQL as one statement each (./group-commit.ts). */
    type RunKind = 'appendEvent' | 'markDelivered' | 'logAttempt';
    const applyRun = async (c: PoolClient, kind: RunKind, run: PgWrite[], appended: OutboxEvent[]): Promise<void> => {
      if (kind === 'appendEvent') {
        appended.push(...(await appendEvents(c, run.map((w) => (w as Extract<PgWrite, { kind: 'appendEvent' }>).event), node)));
      } else if (kind === 'markDelivered') {
        await c.query(OUTBOX_MARKS.delivered, [run.map((w) => (w as Extract<PgWrite, { kind: 'markDelivered' }>).id)]);
      } else {
        const entries = run.map((w) => (w as Extract<PgWrite, { kind: 'logAttempt' }>).entry);
        const { rows } = await c.query<{ id: number }>(
          `INSERT INTO hook_log (time, app_key, method, url, status, latency_ms, error, request_body, response_body)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::double precision[], $7::text[], $8::text[], $9::text[])
           RETURNING id`,
          [entries.map((e) => e.time), entries.map((e) => e.appKey), entries.map((e) => e.method), entries.map((e) => e.url),
            entries.map((e) => e.status), entries.map((e) => e.latencyMs), entries.map((e) => e.error),
            entries.map((e) => e.requestBody), entries.map((e) => e.responseBody)],
        );
        // As in SQLite (./hook-log.ts): the cap is kept every TRIM_EVERY rows rather than on each.
        const before = hookLogAppends;
        hookLogAppends += entries.length;
        if (Math.floor(before / TRIM_EVERY) !== Math.floor(hookLogAppends / TRIM_EVERY)) {
          await c.query('DELETE FROM hook_log WHERE id <= $1', [Math.max(...rows.map((r) => r.id)) - HOOK_LOG_CAPACITY]);
        }
      }
    };
    const applyOne = async (c: PoolClient, w: Exclude<PgWrite, { kind: RunKind }>): Promise<void> => {
      switch (w.kind) {
        case 'markAttemptFailed': await c.query(OUTBOX_MARKS.attemptFailed, [w.id, w.nextAttemptAt, w.error]); return;
        case 'markDead': await c.query(OUTBOX_MARKS.dead, [w.id, w.error]); return;
        case 'putWill': {
          const v = w.will;
          await c.query(
            `INSERT INTO session_wills (session_id, subject, app_key, method, body, fail_notify, node) VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (session_id, subject) DO UPDATE SET app_key = EXCLUDED.app_key, method = EXCLUDED.method,
                 body = EXCLUDED.body, fail_notify = EXCLUDED.fail_notify, node = EXCLUDED.node`,
            [v.sessionId, v.subject, v.appKey, v.method, JSON.stringify(v.body), v.failNotify, node],
          );
          return;
        }
        case 'removeWill': await c.query('DELETE FROM session_wills WHERE session_id = $1 AND subject = $2', [w.sessionId, w.subject]); return;
        case 'removeSessionWills': await c.query('DELETE FROM session_wills WHERE session_id = $1', [w.sessionId]); return;
        // A node's wills are its own: clearing them leaves other nodes' live sessions owed.
        case 'clearWills': await c.query('DELETE FROM session_wills WHERE node = $1', [node]); return;
        case 'cdrOpen': {
          const r = w.record;
          await c.query(CALL_RECORD_SQL.open, [r.id, r.callId, r.sessionId, r.appKey, r.direction, r.caller, r.callee, r.startedAt, node]);
          return;
        }
        case 'cdrAnswered': await c.query(CALL_RECORD_SQL.answered, [w.id, w.at]); return;
        case 'cdrClose': await c.query(CALL_RECORD_SQL.close, closeParams(w.record)); return;
        case 'cdrPrune':
          await c.query(CALL_RECORD_SQL.pruneAge, [w.before]);
          await c.query(CALL_RECORD_SQL.pruneCount, [w.maxCount]);
      }
    };
    const isRun = (w: PgWrite): w is Extract<PgWrite, { kind: RunKind }> =>
      w.kind === 'appendEvent' || w.kind === 'markDelivered' || w.kind === 'logAttempt';
    /** In order; consecutive writes of a run kind as one statement. */
    const apply = async (c: PoolClient, writes: readonly PgWrite[]): Promise<OutboxEvent[]> => {
      const appended: OutboxEvent[] = [];
      for (let i = 0; i < writes.length; ) {
        const w = writes[i]!;
        if (!isRun(w)) {
          await applyOne(c, w);
          i++;
          continue;
        }
        let j = i + 1;
        while (j < writes.length && writes[j]!.kind === w.kind) j++;
        await applyRun(c, w.kind, writes.slice(i, j), appended);
        i = j;
      }
      return appended;
    };
    const commits = new GroupCommit<PgWrite, OutboxEvent>(transaction(pool, apply), (w) => (w.kind === 'appendEvent' ? 1 : 0));
    let closing: Promise<void> | undefined;
    const callRecords = await PostgresCallDetailRecords.open(pool, (writes) => commits.submit(writes), node, options.cdrRetention ?? DEFAULT_CDR_RETENTION, log);

    return {
      apps,
      callRecords,
      hookLog: {
        async query(q: HookLogQuery = {}): Promise<HookLogEntry[]> {
          const { rows } = await pool.query<HookLogRow>(
            `SELECT * FROM hook_log
              WHERE id > (SELECT MAX(id) FROM hook_log) - $1 AND ($2::boolean IS NULL OR (error IS NOT NULL) = $2)
                AND ($3::text IS NULL OR app_key = $3) AND ($5::text IS NULL OR method = $5) AND ($6::bigint IS NULL OR time >= $6)
              ORDER BY id DESC LIMIT $4`,
            [HOOK_LOG_CAPACITY, q.failed ?? null, q.appKey ?? null, hookLogLimit(q), q.method ?? null, q.since ?? null],
          );
          return rows.map(hookLogEntryOf);
        },
      },
      outbox: new PostgresEventOutbox(pool, node),
      wills: {
        /** This node's wills: the ones a crash of this node left (other nodes' sessions are live). */
        async all(): Promise<SessionWill[]> {
          const { rows } = await pool.query<{ session_id: string; subject: string; app_key: string; method: string; body: string; fail_notify: boolean }>(
            'SELECT * FROM session_wills WHERE node = $1 ORDER BY seq',
            [node],
          );
          return rows.map((r) => ({
            sessionId: r.session_id, subject: r.subject, appKey: r.app_key, method: r.method,
            body: JSON.parse(r.body) as Record<string, unknown>, failNotify: r.fail_notify,
          }));
        },
      },
      nodes: new PostgresNodeRegistry(pool, node),
      directory: new PostgresLiveDirectory(pool, node),
      path: redactedUrl(options.url),
      write: (writes) => commits.submit(writes),
      // Idempotent, as SQLite's: a second close waits for the first.
      close() {
        closing ??= (async () => {
          await commits.settled();
          await apps.close();
          await pool.end();
        })();
        return closing;
      },
    };
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw e;
  }
}
