/**
 * Apps in PostgreSQL, shared by every node. Every hook looks its app up (synchronously: ../hooks/storage.ts), so
 * each node holds all apps in memory and reloads them when any node changes one: a write commits with
 * `NOTIFY callhook_apps`, and every node LISTENs on a connection of its own. A node whose listening connection
 * dropped reloads once it is back, so it misses no change for longer than the reconnect.
 */
import type { Pool, PoolClient } from 'pg';
import type { App, AppPatch, AppRepository, NewApp, RestClientConfig } from './types.ts';
import type { Logger } from '../log.ts';
import { StoreError } from './errors.ts';
import { appExists, appFromRows, appNotFound, configRows, methodsFor, patched, validated, type AppRow, type ConfigRow } from './app-rules.ts';

const CHANNEL = 'callhook_apps';
const RELISTEN_MS = 1000;
const UNIQUE_VIOLATION = '23505';

export class PostgresAppRepository implements AppRepository {
  private byName = new Map<string, App>();
  private byKey = new Map<string, App>();
  private ids = new Map<string, number>();
  /** Loads in flight may finish out of order: only a newer one than the last applied replaces the apps. */
  private loadsStarted = 0;
  private loadApplied = 0;
  private listener: PoolClient | undefined;
  private relisten: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly pool: Pool, private readonly log: Logger) {}

  static async open(pool: Pool, log: Logger): Promise<PostgresAppRepository> {
    const repo = new PostgresAppRepository(pool, log);
    await repo.listen();
    await repo.load();
    return repo;
  }

  list(): App[] {
    return [...this.byName.values()];
  }

  getByName(name: string): App | undefined {
    return this.byName.get(name);
  }

  getByKey(appKey: string): App | undefined {
    return this.byKey.get(appKey);
  }

  async add(input: NewApp): Promise<App> {
    const app = validated(input);
    if (this.byName.has(app.name)) throw appExists.name(app.name);
    if (this.byKey.has(app.appKey)) throw appExists.key(app.appKey);
    await this.write(async (c) => {
      const { rows } = await c.query<{ id: number }>(
        'INSERT INTO apps (name, app_key, url, rest_username, rest_password, rest_secret, signature, codec_policy) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id',
        [app.name, app.appKey, app.url, app.restUsername ?? null, app.restPassword ?? null, app.restSecret ?? null, app.signature, app.codecPolicy ?? null],
      );
      await insertConfig(c, rows[0]!.id, app.restClientConfig);
    });
    return this.byName.get(app.name)!;
  }

  async update(name: string, patch: AppPatch): Promise<App> {
    const current = this.byName.get(name);
    if (current === undefined) throw appNotFound.name(name);
    const app = patched(current, patch);
    if (app.appKey !== current.appKey && this.byKey.has(app.appKey)) throw appExists.key(app.appKey);
    const id = this.ids.get(name)!;
    await this.write(async (c) => {
      await c.query(
        'UPDATE apps SET app_key = $1, url = $2, rest_username = $3, rest_password = $4, rest_secret = $5, signature = $6, codec_policy = $7 WHERE id = $8',
        [app.appKey, app.url, app.restUsername ?? null, app.restPassword ?? null, app.restSecret ?? null, app.signature, app.codecPolicy ?? null, id],
      );
      if (patch.restClientConfig !== undefined) {
        await c.query('DELETE FROM app_rest_client_config WHERE app_id = $1', [id]);
        await insertConfig(c, id, app.restClientConfig);
      }
    });
    return this.byName.get(name) ?? appNotFoundAfterWrite(name);
  }

  async remove(name: string): Promise<void> {
    if (!this.byName.has(name)) throw appNotFound.name(name);
    const id = this.ids.get(name)!;
    await this.write((c) => c.query('DELETE FROM apps WHERE id = $1', [id]));
  }

  async enableMethod(appKey: string, method: string): Promise<App> {
    const app = this.byKey.get(appKey);
    if (app === undefined) throw appNotFound.key(appKey);
    const methods = methodsFor(method);
    const id = this.ids.get(app.name)!;
    await this.write((c) =>
      c.query('INSERT INTO app_methods (app_id, method) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING', [id, methods]),
    );
    return this.byName.get(app.name) ?? appNotFoundAfterWrite(app.name);
  }

  async disableMethod(appKey: string, method: string): Promise<App> {
    const app = this.byKey.get(appKey);
    if (app === undefined) throw appNotFound.key(appKey);
    const methods = methodsFor(method);
    const id = this.ids.get(app.name)!;
    await this.write((c) => c.query('DELETE FROM app_methods WHERE app_id = $1 AND method = ANY($2::text[])', [id, methods]));
    return this.byName.get(app.name) ?? appNotFoundAfterWrite(app.name);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.relisten);
    this.listener?.release(true);
    this.listener = undefined;
  }

  /** One transaction that tells every node (NOTIFY is sent at commit), then this node's apps reloaded. */
  private async write(fn: (c: PoolClient) => Promise<unknown>): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await fn(c);
      await c.query(`NOTIFY ${CHANNEL}`);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      // Another node added the same name or key since this node's apps were loaded.
      if ((e as { code?: string }).code === UNIQUE_VIOLATION) throw new StoreError('APP_EXISTS', `an app with that name or key already exists (${(e as Error).message})`);
      throw e;
    } finally {
      c.release();
    }
    await this.load();
  }

  private async load(): Promise<void> {
    const seq = ++this.loadsStarted;
    const [apps, methods, config] = await Promise.all([
      this.pool.query<AppRow>('SELECT * FROM apps ORDER BY name COLLATE "C"'),
      this.pool.query<{ app_id: number; method: string }>('SELECT app_id, method FROM app_methods'),
      this.pool.query<ConfigRow & { app_id: number }>('SELECT * FROM app_rest_client_config ORDER BY method COLLATE "C"'),
    ]);
    if (seq < this.loadApplied) return;
    this.loadApplied = seq;
    const byName = new Map<string, App>();
    const byKey = new Map<string, App>();
    const ids = new Map<string, number>();
    for (const row of apps.rows) {
      const app = appFromRows(row, methods.rows.filter((m) => m.app_id === row.id).map((m) => m.method), config.rows.filter((c) => c.app_id === row.id));
      byName.set(app.name, app);
      byKey.set(app.appKey, app);
      ids.set(app.name, row.id);
    }
    this.byName = byName;
    this.byKey = byKey;
    this.ids = ids;
  }

  private async listen(): Promise<void> {
    const client = await this.pool.connect();
    client.on('notification', () => {
      this.load().catch((err: unknown) => this.log.error({ err }, 'apps could not be reloaded from PostgreSQL'));
    });
    client.on('error', (err) => {
      this.log.error({ err }, `the connection listening for app changes (${CHANNEL}) failed; listening again`);
      client.release(true);
      if (this.listener === client) this.listener = undefined;
      this.scheduleRelisten();
    });
    await client.query(`LISTEN ${CHANNEL}`);
    this.listener = client;
  }

  private scheduleRelisten(): void {
    if (this.closed) return;
    this.relisten = setTimeout(() => {
      this.listen()
        .then(() => this.load())
        .catch((err: unknown) => {
          this.log.error({ err }, `listening for app changes (${CHANNEL}) failed; trying again`);
          this.scheduleRelisten();
        });
    }, RELISTEN_MS);
  }
}

async function insertConfig(c: PoolClient, appId: number, config: RestClientConfig): Promise<void> {
  for (const r of configRows(config)) {
    await c.query(
      `INSERT INTO app_rest_client_config (app_id, method, rest_exclude, client_exclude, rest_on_error, rest_policy, rest_overwrite)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [appId, r.method, r.rest_exclude, r.client_exclude, r.rest_on_error, r.rest_policy, r.rest_overwrite],
    );
  }
}

/** Another node removed the app between this write and the reload after it. */
function appNotFoundAfterWrite(name: string): never {
  throw appNotFound.name(name);
}
