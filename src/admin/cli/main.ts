/**
 * `callhook …`: the commands of docs/admin.md, named as in WCS's CLI so its users feel at home.
 * Every command except `start` is a thin client of the admin API (the same routes a script would call); tables
 * for people, `--json` for scripts; any failure prints one line naming what was wrong and exits with 1.
 */
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig, ConfigError } from '../../config/load.ts';
import type { Config } from '../../config/schema.ts';
import { VERSION } from '../../version.ts';
import type { CheckReport } from '../check-app.ts';
import { AdminError } from '../errors.ts';
import type { CallInfo, SessionInfo } from '../../gateway/info.ts';
import { AdminClient, CliError } from './client.ts';
import * as render from './render.ts';

const HEAP_GROWING = '--heap-growing-percent';

/**
 * After a burst of work (thousands of registrations at once) V8 grows its old generation by up to four times what is
 * live, and keeps those pages: 10,000 registered sessions then held 24–28 KiB of RSS each for 13.5 KiB of live heap.
 * Growing it by half at a time keeps them at 18–19 KiB, for about a tenth more CPU per registration
 * (docs/benchmarks.md "The old generation's growing factor"). Set here, not on node's command line, because
 * NODE_OPTIONS refuses this V8 flag and every deployment runs `callhook start`; one given on the command line is kept.
 */
function growOldGenerationByHalf(): void {
  if (!process.execArgv.some((a) => a.startsWith(HEAP_GROWING))) setFlagsFromString(`${HEAP_GROWING}=50`);
}

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
  env: process.env,
};

interface GlobalOptions {
  config?: string;
  json?: boolean;
}

const seg = encodeURIComponent;

/**
 * Runs one command line (without `node` and the script). Resolves with the exit code, or with `undefined` for
 * `start`, whose server keeps the process alive.
 */
export async function runCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number | undefined> {
  let started = false;
  /** Set by a command whose output reports a failure (check app with a failed step). */
  let failed = false;
  const program = new Command('callhook');
  program
    .description('callhook: web call server with WCS-compatible REST hooks. Commands talk to the running server.')
    .version(VERSION, '-V, --version')
    .option('-c, --config <file>', 'configuration file (default: ./callhook.config.json when present)')
    .option('--json', 'print JSON for scripts instead of tables')
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride()
    .showHelpAfterError('(run callhook --help for the commands)');

  const globals = (cmd: Command): GlobalOptions => cmd.optsWithGlobals<GlobalOptions>();
  const configOf = (cmd: Command): Config => loadConfig({ file: globals(cmd).config, env: io.env });
  const clientOf = (cmd: Command): AdminClient => new AdminClient(configOf(cmd), io.env);
  /** `--json`: the API's data as is; else the renderer's text. */
  const print = <T>(cmd: Command, data: T, text: (d: T) => string): void => {
    io.out(globals(cmd).json ? JSON.stringify(data, null, 2) : text(data));
  };

  program
    .command('start')
    .description('run the server (what npm start runs)')
    .action(async (_opts, cmd: Command) => {
      growOldGenerationByHalf();
      // Imported here, not at the top: the other commands are thin clients and must not load the whole server.
      const { startServer } = await import('../../server.ts');
      try {
        await startServer({ configFile: globals(cmd).config });
      } catch (e) {
        // Expected start-up failures carry a code (EADDRINUSE, EACCES, ConfigError…): one clear line, exit 1.
        // Anything else is a bug and keeps its stack trace.
        if (e instanceof ConfigError) throw e;
        const code = (e as { code?: unknown }).code;
        if (typeof code === 'string') throw new CliError('CLI_START', `callhook could not start: ${(e as Error).message}`);
        throw e;
      }
      started = true;
    });

  // ------------------------------------------------------------------------------------------------------- show
  const show = program.command('show').description('show apps, methods, sessions, calls, call detail records, hooks or events');

  show
    .command('apps')
    .description('list apps')
    .option('-d, --detail', 'every field (secrets masked)')
    .action(async (opts: { detail?: boolean }, cmd: Command) => {
      const client = clientOf(cmd);
      const [apps, methods] = await Promise.all([
        client.request<render.AppData[]>('GET', '/api/apps'),
        client.request<render.RestMethodData[]>('GET', '/api/rest-methods'),
      ]);
      print(cmd, apps, (a) => render.renderApps(a, opts.detail === true, methods.length));
    });

  show
    .command('rest-methods')
    .description('every REST method callhook knows')
    .action(async (_opts, cmd: Command) => {
      print(cmd, await clientOf(cmd).request<render.RestMethodData[]>('GET', '/api/rest-methods'), render.renderRestMethods);
    });

  show
    .command('app-rest-methods')
    .description('the methods enabled for an app')
    .argument('<key>', 'app key')
    .action(async (key: string, _opts, cmd: Command) => {
      print(cmd, await clientOf(cmd).request<render.AppMethodsData>('GET', `/api/apps/${seg(key)}/rest-methods`), render.renderAppMethods);
    });

  show
    .command('sessions')
    .description('live client connections and their registrations')
    .action(async (_opts, cmd: Command) => {
      print(cmd, await clientOf(cmd).request<SessionInfo[]>('GET', '/api/sessions'), render.renderSessions);
    });

  show
    .command('calls')
    .description('live calls')
    .action(async (_opts, cmd: Command) => {
      print(cmd, await clientOf(cmd).request<CallInfo[]>('GET', '/api/calls'), render.renderCalls);
    });

  show
    .command('hooks')
    .description('the hook log, newest first')
    .option('--failed', 'only failed attempts')
    .option('--app <key>', 'only this app')
    .option('--method <name>', 'only this REST method')
    .option('--since <when>', 'only attempts since: ISO time, ms since epoch, or 30m / 2h / 7d back')
    .addOption(new Option('--limit <n>', 'at most this many (1-10000)').default('100'))
    .action(async (opts: { failed?: boolean; app?: string; method?: string; since?: string; limit: string }, cmd: Command) => {
      const q = new URLSearchParams({ limit: opts.limit });
      if (opts.failed) q.set('failed', 'true');
      if (opts.app !== undefined) q.set('app', opts.app);
      if (opts.method !== undefined) q.set('method', opts.method);
      if (opts.since !== undefined) q.set('since', opts.since);
      print(cmd, await clientOf(cmd).request<render.HookAttemptData[]>('GET', `/api/hooks?${q}`), render.renderHooks);
    });

  show
    .command('cdr')
    .description('call detail records, newest first')
    .option('--since <time>', 'only calls started since: ISO time, ms since epoch, or 30m / 2h / 7d back')
    .option('--app <key>', 'only this app')
    .addOption(new Option('--limit <n>', 'at most this many (1-10000)').default('100'))
    .action(async (opts: { since?: string; app?: string; limit: string }, cmd: Command) => {
      const q = new URLSearchParams({ limit: opts.limit });
      if (opts.since !== undefined) q.set('since', opts.since);
      if (opts.app !== undefined) q.set('app', opts.app);
      print(cmd, await clientOf(cmd).request<render.CallRecordData[]>('GET', `/api/cdr?${q}`), render.renderCallRecords);
    });

  show
    .command('events')
    .description('the event outbox: pending events and dead letters, oldest first')
    .option('--dead', 'only dead letters')
    .option('--app <key>', 'only this app')
    .addOption(new Option('--limit <n>', 'at most this many (1-10000)').default('100'))
    .action(async (opts: { dead?: boolean; app?: string; limit: string }, cmd: Command) => {
      const q = new URLSearchParams({ limit: opts.limit });
      if (opts.dead) q.set('dead', 'true');
      if (opts.app !== undefined) q.set('app', opts.app);
      print(cmd, await clientOf(cmd).request<render.OutboxEventData[]>('GET', `/api/events?${q}`), (e) =>
        render.renderEvents(e, opts.dead === true),
      );
    });

  // -------------------------------------------------------------------------------------------- add / update
  const add = program.command('add').description('add an app, or enable REST methods of an app');

  add
    .command('app')
    .description('add an app (no REST method is enabled yet)')
    .option('-u, --rest-username <user>', 'HTTP Basic user for the hooks')
    .option('-p, --rest-password <pass>', 'HTTP Basic password for the hooks')
    .option('-s, --rest-secret <secret>', 'key of the X-Callhook-Signature HMAC')
    .option('--codec-policy <policy>', "the app's calls' codecPolicy: passthrough, opus-to-browser or fail (default: the configuration's)")
    .argument('<name>', 'app name')
    .argument('<key>', 'app key (the client sends it as connection.appKey)')
    .argument('<url>', 'REST base URL; a hook goes to <url>/<method>')
    .action(async (name: string, key: string, url: string, opts: { restUsername?: string; restPassword?: string; restSecret?: string; codecPolicy?: string }, cmd: Command) => {
      const app = await clientOf(cmd).request<render.AppData>('POST', '/api/apps', {
        name,
        appKey: key,
        url,
        restUsername: opts.restUsername,
        restPassword: opts.restPassword,
        restSecret: opts.restSecret,
        codecPolicy: opts.codecPolicy,
      });
      print(cmd, app, render.renderAppAdded);
    });

  add
    .command('app-rest-method')
    .description('enable one REST method of an app, or all with -a')
    .option('-a, --all', 'every method')
    .argument('<key>', 'app key')
    .argument('[method]', 'method name (see show rest-methods)')
    .action(async (key: string, method: string | undefined, opts: { all?: boolean }, cmd: Command) => {
      const target = methodTarget(method, opts.all === true, 'add');
      const data = await clientOf(cmd).request<render.AppMethodsData>('PUT', `/api/apps/${seg(key)}/rest-methods/${seg(target)}`);
      print(cmd, data, (d) => `Enabled for ${d.appKey}: ${d.methods.length === 0 ? 'none' : d.methods.join(', ')}`);
    });

  program
    .command('update')
    .description('change an app')
    .command('app')
    .description('change an app; -u/-p/-s/--codec-policy with "" clear the value')
    .option('-k, --key <key>', 'new app key')
    .option('-l, --url <url>', 'new REST base URL')
    .option('-u, --rest-username <user>', 'HTTP Basic user ("" clears)')
    .option('-p, --rest-password <pass>', 'HTTP Basic password ("" clears)')
    .option('-s, --rest-secret <secret>', 'signature key ("" clears)')
    .option('--codec-policy <policy>', 'passthrough, opus-to-browser or fail ("" clears: the configuration\'s)')
    .argument('<name>', 'app name')
    .action(
      async (
        name: string,
        opts: { key?: string; url?: string; restUsername?: string; restPassword?: string; restSecret?: string; codecPolicy?: string },
        cmd: Command,
      ) => {
        const clear = (v: string | undefined): string | null | undefined => (v === '' ? null : v);
        const patch = {
          appKey: opts.key,
          url: opts.url,
          restUsername: clear(opts.restUsername),
          restPassword: clear(opts.restPassword),
          restSecret: clear(opts.restSecret),
          codecPolicy: clear(opts.codecPolicy),
        };
        if (Object.values(patch).every((v) => v === undefined)) {
          throw new CliError('CLI_USAGE', 'nothing to change: give at least one of -k, -l, -u, -p, -s, --codec-policy');
        }
        const app = await clientOf(cmd).request<render.AppData>('PATCH', `/api/apps/${seg(name)}`, patch);
        print(cmd, app, (a) => `Updated app ${a.name}.\n${render.renderApps([a], true, 0)}`);
      },
    );

  // --------------------------------------------------------------------------------------------------- remove
  const remove = program.command('remove').description('remove an app, or disable REST methods of an app');

  remove
    .command('app')
    .description('remove an app')
    .argument('<name>', 'app name')
    .action(async (name: string, _opts, cmd: Command) => {
      const data = await clientOf(cmd).request<{ removed: string }>('DELETE', `/api/apps/${seg(name)}`);
      print(cmd, data, (d) => `Removed app ${d.removed}.`);
    });

  remove
    .command('app-rest-method')
    .description('disable one REST method of an app, or all with -a')
    .option('-a, --all', 'every method')
    .argument('<key>', 'app key')
    .argument('[method]', 'method name')
    .action(async (key: string, method: string | undefined, opts: { all?: boolean }, cmd: Command) => {
      const target = methodTarget(method, opts.all === true, 'remove');
      const data = await clientOf(cmd).request<render.AppMethodsData>('DELETE', `/api/apps/${seg(key)}/rest-methods/${seg(target)}`);
      print(cmd, data, (d) => `Enabled for ${d.appKey}: ${d.methods.length === 0 ? 'none' : d.methods.join(', ')}`);
    });

  // ---------------------------------------------------------------------------------------------------- check
  program
    .command('check')
    .description('diagnose an app')
    .command('app')
    .description("walk the app's REST URL: name resolution, TCP, TLS, one probe POST per enabled method")
    .argument('<key>', 'app key')
    .action(async (key: string, _opts, cmd: Command) => {
      const config = configOf(cmd);
      // The server bounds each step; this bounds the whole walk (up to 17 probes, each up to the hook timeout).
      const bound = 20 * config.restRequestTimeoutMs + 30_000;
      const report = await new AdminClient(config, io.env).request<CheckReport>('POST', `/api/apps/${seg(key)}/check`, undefined, bound);
      print(cmd, report, render.renderCheck);
      if (!report.ok) failed = true;
    });

  // --------------------------------------------------------------------------------------------------- replay
  program
    .command('replay')
    .description('send dead events again')
    .command('events')
    .description('turn dead letters back into pending events, delivered at once')
    .option('--app <key>', 'only this app')
    .option('--since <time>', 'only events created since: ISO time, ms since epoch, or 30m / 2h / 7d back')
    .action(async (opts: { app?: string; since?: string }, cmd: Command) => {
      const data = await clientOf(cmd).request<{ replayed: number }>('POST', '/api/events/replay', { app: opts.app, since: opts.since });
      print(cmd, data, (d) => render.renderReplay(d.replayed));
    });

  try {
    await program.parseAsync(argv as string[], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 1;
    if (e instanceof CliError || e instanceof ConfigError || (e instanceof AdminError && e.code === 'ADMIN_TOKEN')) {
      io.err(e.message);
      return 1;
    }
    throw e;
  }
  if (started) return undefined;
  return failed ? 1 : 0;
}

/** `[-a] KEY [METHOD]`: exactly one of the two says which methods (`*` is the API's "all"). */
function methodTarget(method: string | undefined, all: boolean, verb: 'add' | 'remove'): string {
  if (all && method !== undefined) throw new CliError('CLI_USAGE', `give either -a or a METHOD, not both`);
  if (!all && method === undefined) {
    throw new CliError('CLI_USAGE', `give a METHOD (see callhook show rest-methods), or -a for all: callhook ${verb} app-rest-method -a KEY`);
  }
  return all ? '*' : method!;
}
