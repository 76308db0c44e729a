/**
 * Apps, their enabled methods and their default restClientConfig, in SQLite.
 *
 * Every decision hook looks its app up by key, so apps are cached in memory. The cache is safe because this
 * repository is the only writer of the apps tables (one Store per database file, in the server process; the CLI
 * goes through the admin API); every write clears it. Returned apps are frozen: change them with `update`.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { App, AppPatch, AppRepository, MethodConfig, NewApp, RestClientConfig } from './types.ts';
import { StoreError } from './errors.ts';
import { validateApp } from '../hooks/app-validation.ts';
import { HookError } from '../hooks/errors.ts';
import { REST_METHOD_NAMES, isRestMethod, type RestMethod } from '../hooks/methods.ts';

interface AppRow {
  id: number;
  name: string;
  app_key: string;
  url: string;
  rest_username: string | null;
  rest_password: string | null;
  rest_secret: string | null;
  signature: 'callhook' | 'wcs';
}

interface ConfigRow {
  method: string;
  rest_exclude: string | null;
  client_exclude: string | null;
  rest_on_error: MethodConfig['restOnError'] | null;
  rest_policy: MethodConfig['restPolicy'] | null;
  rest_overwrite: string | null;
}

/** The hook engine's rules for an app (../hooks/app-validation.ts); a field they refuse is INVALID_APP here. */
function validated(input: NewApp): Omit<App, 'methods'> {
  try {
    return validateApp(input);
  } catch (e) {
    if (e instanceof HookError) throw new StoreError('INVALID_APP', e.message);
    throw e;
  }
}

export class SqliteAppRepository implements AppRepository {
  private readonly cacheByKey = new Map<string, App>();
  private readonly q: {
    all: Statement<[], AppRow>;
    byName: Statement<[string], AppRow>;
    byKey: Statement<[string], AppRow>;
    methods: Statement<[number], { method: string }>;
    config: Statement<[number], ConfigRow>;
    insert: Statement<[string, string, string, string | null, string | null, string | null, string]>;
    updateRow: Statement<[string, string, string | null, string | null, string | null, string, number]>;
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
        'INSERT INTO apps (name, app_key, url, rest_username, rest_password, rest_secret, signature) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      updateRow: db.prepare(
        'UPDATE apps SET app_key = ?, url = ?, rest_username = ?, rest_password = ?, rest_secret = ?, signature = ? WHERE id = ?',
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

  add(input: NewApp): App {
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
        ).lastInsertRowid,
      );
      this.writeConfig(id, app.restClientConfig);
      return this.toApp(this.q.byName.get(app.name)!);
    });
  }

  update(name: string, patch: AppPatch): App {
    const row = this.rowByName(name);
    const current = this.toApp(row);
    const merged: NewApp = {
      name,
      appKey: patch.appKey ?? current.appKey,
      url: patch.url ?? current.url,
      restUsername: patch.restUsername === null ? undefined : (patch.restUsername ?? current.restUsername),
      restPassword: patch.restPassword === null ? undefined : (patch.restPassword ?? current.restPassword),
      restSecret: patch.restSecret === null ? undefined : (patch.restSecret ?? current.restSecret),
      signature: patch.signature ?? current.signature,
      restClientConfig: patch.restClientConfig ?? current.restClientConfig,
    };
    const app = validated(merged);
    if (app.appKey !== current.appKey && this.q.byKey.get(app.appKey) !== undefined) {
      throw new StoreError('APP_EXISTS', `an app with key "${app.appKey}" already exists`);
    }
    return this.write(() => {
      this.q.updateRow.run(
        app.appKey,
        app.url,
        app.restUsername ?? null,
        app.restPassword ?? null,
        app.restSecret ?? null,
        app.signature,
        row.id,
      );
      if (patch.restClientConfig !== undefined) {
        this.q.clearConfig.run(row.id);
        this.writeConfig(row.id, app.restClientConfig);
      }
      return this.toApp(this.q.byName.get(name)!);
    });
  }

  remove(name: string): void {
    const row = this.rowByName(name);
    this.write(() => this.q.remove.run(row.id));
  }

  enableMethod(appKey: string, method: string): App {
    const row = this.rowByKey(appKey);
    const methods = this.methodsFor(method);
    return this.write(() => {
      for (const m of methods) this.q.enable.run(row.id, m);
      return this.toApp(row);
    });
  }

  disableMethod(appKey: string, method: string): App {
    const row = this.rowByKey(appKey);
    const methods = this.methodsFor(method);
    return this.write(() => {
      if (method === '*') this.q.disableAll.run(row.id);
      else for (const m of methods) this.q.disable.run(row.id, m);
      return this.toApp(row);
    });
  }

  private methodsFor(method: string): readonly RestMethod[] {
    if (method === '*') return REST_METHOD_NAMES;
    if (!isRestMethod(method)) {
      throw new StoreError(
        'UNKNOWN_METHOD',
        `unknown REST method "${method}" (known: ${REST_METHOD_NAMES.join(', ')}; names are case-sensitive)`,
      );
    }
    return [method];
  }

  /** Runs a write in a transaction and drops the cache. */
  private write<T>(fn: () => T): T {
    this.cacheByKey.clear();
    return this.db.transaction(fn)();
  }

  private assertFree(name: string, appKey: string): void {
    if (this.q.byName.get(name) !== undefined) throw new StoreError('APP_EXISTS', `an app named "${name}" already exists`);
    if (this.q.byKey.get(appKey) !== undefined) throw new StoreError('APP_EXISTS', `an app with key "${appKey}" already exists`);
  }

  private rowByName(name: string): AppRow {
    const row = this.q.byName.get(name);
    if (row === undefined) throw new StoreError('APP_NOT_FOUND', `no app named "${name}"`);
    return row;
  }

  private rowByKey(appKey: string): AppRow {
    const row = this.q.byKey.get(appKey);
    if (row === undefined) throw new StoreError('APP_NOT_FOUND', `no app with key "${appKey}"`);
    return row;
  }

  private writeConfig(appId: number, config: RestClientConfig): void {
    for (const [method, c] of Object.entries(config) as Array<[string, MethodConfig]>) {
      this.q.insertConfig.run(
        appId,
        method,
        c.restExclude ?? null,
        c.clientExclude ?? null,
        c.restOnError ?? null,
        c.restPolicy ?? null,
        c.restOverwrite ?? null,
      );
    }
  }

  private toApp(row: AppRow): App {
    const enabled = new Set(this.q.methods.all(row.id).map((r) => r.method));
    const restClientConfig: RestClientConfig = {};
    for (const c of this.q.config.all(row.id)) {
      if (!isRestMethod(c.method)) continue;
      restClientConfig[c.method] = Object.freeze({
        ...(c.rest_exclude !== null && { restExclude: c.rest_exclude }),
        ...(c.client_exclude !== null && { clientExclude: c.client_exclude }),
        ...(c.rest_on_error !== null && { restOnError: c.rest_on_error }),
        ...(c.rest_policy !== null && { restPolicy: c.rest_policy }),
        ...(c.rest_overwrite !== null && { restOverwrite: c.rest_overwrite }),
      });
    }
    return Object.freeze({
      name: row.name,
      appKey: row.app_key,
      url: row.url,
      ...(row.rest_username !== null && { restUsername: row.rest_username }),
      ...(row.rest_password !== null && { restPassword: row.rest_password }),
      ...(row.rest_secret !== null && { restSecret: row.rest_secret }),
      signature: row.signature,
      restClientConfig: Object.freeze(restClientConfig),
      methods: Object.freeze(REST_METHOD_NAMES.filter((m) => enabled.has(m))) as RestMethod[],
    });
  }
}
