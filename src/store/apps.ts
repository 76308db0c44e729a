/**
 * Apps, their enabled methods and their default restClientConfig, in SQLite.
 *
 * Every decision hook looks its app up by key, so apps are cached in memory. The cache is safe because this
 * repository is the only writer of the apps tables (one Store per database file, in the server process; the CLI
 * goes through the admin API); every write clears it. Returned apps are frozen: change them with `update`.
 * The writes are `async` to fit the interface PostgreSQL shares (./types.ts); here they run to the end at once.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { App, AppPatch, AppRepository, NewApp, RestClientConfig } from './types.ts';
import { appExists, appFromRows, appNotFound, configRows, methodsFor, patched, validated, type AppRow, type ConfigRow } from './app-rules.ts';

export class SqliteAppRepository implements AppRepository {
  private readonly cacheByKey = new Map<string, App>();
  private readonly q: {
    all: Statement<[], AppRow>;
    byName: Statement<[string], AppRow>;
    byKey: Statement<[string], AppRow>;
    methods: Statement<[number], { method: string }>;
    config: Statement<[number], ConfigRow>;
    insert: Statement<[string, string, string, string | null, string | null, string | null, string, string | null]>;
    updateRow: Statement<[string, string, string | null, string | null, string | null, string, string | null, number]>;
    remove: Statement<[number]>;
    clearConfig: Statement<[number]>;
    insertConfig: Statement<[number, string, string | null, string | null, string | null, string | null, string | null]>;
    enable: Statement<[number, string]>;
    disable: Statement<[number, string]>;
    disableAll: Statement<[number]>;
  };

  constructor(private readonly db: Database) {
    this.q = {
      all: db.prepare('SELECT * FROM apps ORDER BY name'),
      byName: db.prepare('SELECT * FROM apps WHERE name = ?'),
      byKey: db.prepare('SELECT * FROM apps WHERE app_key = ?'),
      methods: db.prepare('SELECT method FROM app_methods WHERE app_id = ?'),
      config: db.prepare('SELECT * FROM app_rest_client_config WHERE app_id = ? ORDER BY method'),
      insert: db.prepare(
        'INSERT INTO apps (name, app_key, url, rest_username, rest_password, rest_secret, signature, codec_policy) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      updateRow: db.prepare(
        'UPDATE apps SET app_key = ?, url = ?, rest_username = ?, rest_password = ?, rest_secret = ?, signature = ?, codec_policy = ? WHERE id = ?',
      ),
      remove: db.prepare('DELETE FROM apps WHERE id = ?'),
      clearConfig: db.prepare('DELETE FROM app_rest_client_config WHERE app_id = ?'),
      insertConfig: db.prepare(
        `INSERT INTO app_rest_client_config
           (app_id, method, rest_exclude, client_exclude, rest_on_error, rest_policy, rest_overwrite)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      enable: db.prepare('INSERT OR IGNORE INTO app_methods (app_id, method) VALUES (?, ?)'),
      disable: db.prepare('DELETE FROM app_methods WHERE app_id = ? AND method = ?'),
      disableAll: db.prepare('DELETE FROM app_methods WHERE app_id = ?'),
    };
  }

  list(): App[] {
    return this.q.all.all().map((r) => this.toApp(r));
  }

  getByName(name: string): App | undefined {
    const row = this.q.byName.get(name);
    return row === undefined ? undefined : this.toApp(row);
  }

  getByKey(appKey: string): App | undefined {
    const cached = this.cacheByKey.get(appKey);
    if (cached !== undefined) return cached;
    const row = this.q.byKey.get(appKey);
    if (row === undefined) return undefined;
    const app = this.toApp(row);
    this.cacheByKey.set(appKey, app);
    return app;
  }

  async add(input: NewApp): Promise<App> {
    const app = validated(input);
    this.assertFree(app.name, app.appKey);
    return this.write(() => {
      const id = Number(
        this.q.insert.run(
          app.name,
          app.appKey,
          app.url,
          app.restUsername ?? null,
          app.restPassword ?? null,
          app.restSecret ?? null,
          app.signature,
          app.codecPolicy ?? null,
        ).lastInsertRowid,
      );
      this.writeConfig(id, app.restClientConfig);
      return this.toApp(this.q.byName.get(app.name)!);
    });
  }

  async update(name: string, patch: AppPatch): Promise<App> {
    const row = this.rowByName(name);
    const current = this.toApp(row);
    const app = patched(current, patch);
    if (app.appKey !== current.appKey && this.q.byKey.get(app.appKey) !== undefined) {
      throw appExists.key(app.appKey);
    }
    return this.write(() => {
      this.q.updateRow.run(
        app.appKey,
        app.url,
        app.restUsername ?? null,
        app.restPassword ?? null,
        app.restSecret ?? null,
        app.signature,
        app.codecPolicy ?? null,
        row.id,
      );
      if (patch.restClientConfig !== undefined) {
        this.q.clearConfig.run(row.id);
        this.writeConfig(row.id, app.restClientConfig);
      }
      return this.toApp(this.q.byName.get(name)!);
    });
  }

  async remove(name: string): Promise<void> {
    const row = this.rowByName(name);
    this.write(() => this.q.remove.run(row.id));
  }

  async enableMethod(appKey: string, method: string): Promise<App> {
    const row = this.rowByKey(appKey);
    const methods = methodsFor(method);
    return this.write(() => {
      for (const m of methods) this.q.enable.run(row.id, m);
      return this.toApp(row);
    });
  }

  async disableMethod(appKey: string, method: string): Promise<App> {
    const row = this.rowByKey(appKey);
    const methods = methodsFor(method);
    return this.write(() => {
      if (method === '*') this.q.disableAll.run(row.id);
      else for (const m of methods) this.q.disable.run(row.id, m);
      return this.toApp(row);
    });
  }

  /** Runs a write in a transaction and drops the cache. */
  private write<T>(fn: () => T): T {
    this.cacheByKey.clear();
    return this.db.transaction(fn)();
  }

  private assertFree(name: string, appKey: string): void {
    if (this.q.byName.get(name) !== undefined) throw appExists.name(name);
    if (this.q.byKey.get(appKey) !== undefined) throw appExists.key(appKey);
  }

  private rowByName(name: string): AppRow {
    const row = this.q.byName.get(name);
    if (row === undefined) throw appNotFound.name(name);
    return row;
  }

  private rowByKey(appKey: string): AppRow {
    const row = this.q.byKey.get(appKey);
    if (row === undefined) throw appNotFound.key(appKey);
    return row;
  }

  private writeConfig(appId: number, config: RestClientConfig): void {
    for (const c of configRows(config)) {
      this.q.insertConfig.run(appId, c.method, c.rest_exclude, c.client_exclude, c.rest_on_error, c.rest_policy, c.rest_overwrite);
    }
  }

  private toApp(row: AppRow): App {
    return appFromRows(row, this.q.methods.all(row.id).map((r) => r.method), this.q.config.all(row.id));
  }
}
