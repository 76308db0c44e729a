/**
 * Apps and their REST methods (docs/admin.md; named as in WCS's CLI): `GET|POST /api/apps`, `GET|PATCH|DELETE
 * /api/apps/{name}`, `GET /api/rest-methods`, `GET /api/apps/{key}/rest-methods`,
 * `PUT|DELETE /api/apps/{key}/rest-methods/{method}` (`*` = all). As in WCS, apps are addressed by name and
 * their methods by key. Secrets are never returned, only whether they are set.
 */
import type { AdminDeps } from '../deps.ts';
import { AdminError } from '../errors.ts';
import { route, type Route } from '../router.ts';
import { appPatchBody, keyMethodParams, keyParams, nameParams, newAppBody } from '../schemas.ts';
import { REST_METHODS } from '../../hooks/methods.ts';
import type { App } from '../../store/types.ts';

export function appView(app: App) {
  return {
    name: app.name,
    appKey: app.appKey,
    url: app.url,
    restUsername: app.restUsername ?? null,
    restPasswordSet: app.restPassword !== undefined,
    restSecretSet: app.restSecret !== undefined,
    signature: app.signature,
    methods: app.methods,
    restClientConfig: app.restClientConfig,
    /** null: the configuration's. */
    codecPolicy: app.codecPolicy ?? null,
  };
}

export function methodsView(app: App) {
  return { appKey: app.appKey, methods: app.methods };
}

export function appByName(deps: AdminDeps, name: string): App {
  const app = deps.store.apps.getByName(name);
  if (app === undefined) throw new AdminError('ADMIN_NOT_FOUND', `no app named ${JSON.stringify(name)}`);
  return app;
}

export function appByKey(deps: AdminDeps, key: string): App {
  const app = deps.store.apps.getByKey(key);
  if (app === undefined) throw new AdminError('ADMIN_NOT_FOUND', `no app with key ${JSON.stringify(key)}`);
  return app;
}

/**
 * The writes need no lookup first: the store looks the app up before anything else and refuses an unknown name or
 * key with APP_NOT_FOUND, which the server answers 404 with the same words as appByName / appByKey.
 */
export function appRoutes(deps: AdminDeps): Route[] {
  const { apps } = deps.store;
  return [
    route({ method: 'GET', path: '/api/apps', auth: true, handler: () => ({ json: apps.list().map(appView) }) }),
    route({
      method: 'POST',
      path: '/api/apps',
      auth: true,
      body: newAppBody,
      handler: async ({ body }) => {
        const app = await apps.add(body);
        deps.log.info({ app: app.name, appKey: app.appKey }, 'app added');
        return { status: 201, json: appView(app) };
      },
    }),
    route({
      method: 'GET',
      path: '/api/apps/{name}',
      auth: true,
      params: nameParams,
      handler: ({ params }) => ({ json: appView(appByName(deps, params.name)) }),
    }),
    route({
      method: 'PATCH',
      path: '/api/apps/{name}',
      auth: true,
      params: nameParams,
      body: appPatchBody,
      handler: async ({ params, body }) => {
        const app = await apps.update(params.name, body);
        deps.log.info({ app: app.name, fields: Object.keys(body) }, 'app updated');
        return { json: appView(app) };
      },
    }),
    route({
      method: 'DELETE',
      path: '/api/apps/{name}',
      auth: true,
      params: nameParams,
      handler: async ({ params }) => {
        await apps.remove(params.name);
        deps.log.info({ app: params.name }, 'app removed');
        return { json: { removed: params.name } };
      },
    }),
    route({
      method: 'GET',
      path: '/api/rest-methods',
      auth: true,
      handler: () => ({ json: REST_METHODS.map((m) => ({ name: m.name, type: m.type })) }),
    }),
    route({
      method: 'GET',
      path: '/api/apps/{key}/rest-methods',
      auth: true,
      params: keyParams,
      handler: ({ params }) => ({ json: methodsView(appByKey(deps, params.key)) }),
    }),
    route({
      method: 'PUT',
      path: '/api/apps/{key}/rest-methods/{method}',
      auth: true,
      params: keyMethodParams,
      handler: async ({ params }) => ({ json: methodsView(await apps.enableMethod(params.key, params.method)) }),
    }),
    route({
      method: 'DELETE',
      path: '/api/apps/{key}/rest-methods/{method}',
      auth: true,
      params: keyMethodParams,
      handler: async ({ params }) => ({ json: methodsView(await apps.disableMethod(params.key, params.method)) }),
    }),
  ];
}
