/**
 * `callhook start` in a child process, the way a user runs it, for tests that attack the real server: a scratch
 * directory as its working directory, settings in the `callhook.config.json` found there, the WebSocket and admin
 * ports 0 (the bound ones are read from the "callhook started" log line), a free SIP port that UDP and TCP share,
 * and the process killed should the test process exit first. `dataDir` may be given to restart on the same store.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CALLHOOK_CLI } from './callhook-cli.ts';
import { ProcessGroup } from './child-process.ts';
import { freePort, LOOPBACK } from './ports.ts';
import { eventually } from './ws-client.ts';

/** tsx compiles the sources at start; on a loaded machine that takes seconds. */
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

export interface CallhookProcess {
  readonly process: ProcessGroup;
  /** `http://127.0.0.1:<port>` of the admin port. */
  readonly adminUrl: string;
  readonly adminPort: number;
  readonly wsPort: number;
  readonly wsUrl: string;
  /** With `tlsCert` and `tlsKey`. */
  readonly wssPort: number | undefined;
  readonly sipPort: number;
  /** The admin API's bearer token (CALLHOOK_ADMIN_TOKEN of the process). */
  readonly adminToken: string;
  /** The scratch directory (working directory, config file, `data/`). */
  readonly dir: string;
  /** Undefined while it runs; then how it ended (`exited with code 1`, `killed by SIGKILL`). */
  readonly status: string | undefined;
  /** The JSON log lines so far (of its last MiB of output). */
  logs(): Record<string, unknown>[];
  /** The JSON log lines so far whose `msg` matches. */
  logLines(msg: RegExp): Record<string, unknown>[];
  /** Its resident set size, from /proc (Linux). */
  rssBytes(): number;
  /** Adds an app whose hooks go to `url` through the admin API, with `methods` enabled (default: every one). */
  addApp(appKey: string, url: string, methods?: readonly string[]): Promise<void>;
  /** SIGTERM (SIGKILL after a grace period), then the scratch directory is removed. */
  stop(): Promise<void>;
  /** Sends `signal` (SIGKILL: a crash), then removes the scratch directory; resolves with how the process ended. */
  kill(signal: NodeJS.Signals): Promise<string | undefined>;
}

/** Starts callhook with `settings` (configuration keys) over loopback defaults; resolves once it logged its start. */
export interface CallhookProcessOptions {
  /** Runs it in this network namespace (support/cluster.ts); its wsHost should then be the namespace's address. */
  netns?: string;
  /** The admin token (default: a random one); the nodes of a cluster share one. */
  adminToken?: string;
}

export async function startCallhookProcess(settings: Record<string, unknown> = {}, options: CallhookProcessOptions = {}): Promise<CallhookProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'callhook-process-'));
  const sipPort = typeof settings['sipPort'] === 'number' ? settings['sipPort'] : await freePort('both');
  const config = {
    adminPort: 0, wsPort: 0, wsHost: LOOPBACK, sipPort, localIp: LOOPBACK, dataDir: join(dir, 'data'), logLevel: 'info', ...settings,
  };
  await writeFile(join(dir, 'callhook.config.json'), JSON.stringify(config));
  const adminToken = options.adminToken ?? randomBytes(16).toString('hex');
  const command = [process.execPath, ...CALLHOOK_CLI, 'start'];
  const env = { ...process.env, CALLHOOK_ADMIN_TOKEN: adminToken };
  const child = options.netns !== undefined
    ? new ProcessGroup('ip', ['netns', 'exec', options.netns, ...command], dir, env)
    : new ProcessGroup(command[0]!, command.slice(1), dir, env);
  await eventually(() => child.status !== undefined || startLine(child.log) !== undefined, START_TIMEOUT_MS, 'callhook to log its start');
  const started = startLine(child.log);
  if (started === undefined) throw new Error(`callhook did not start (${child.status}):\n${child.tail(30)}`);
  const adminPort = Number(new URL(started.adminUrl).port);
  const logs = (): Record<string, unknown>[] => jsonLines(child.log);
  return {
    process: child,
    adminUrl: started.adminUrl,
    adminPort,
    wsPort: started.wsPort,
    wsUrl: `ws://${String(config.wsHost)}:${started.wsPort}`,
    wssPort: started.wssPort,
    sipPort,
    adminToken,
    dir,
    get status() {
      return child.status;
    },
    logs,
    logLines: (msg) => logs().filter((l) => msg.test(String(l['msg']))),
    rssBytes: () => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) * 1024,
    addApp: async (appKey, url, methods = ['*']) => {
      const headers = { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' };
      const added = await fetch(`${started.adminUrl}/api/apps`, { method: 'POST', headers, body: JSON.stringify({ name: appKey, appKey, url }) });
      if (added.status !== 201) throw new Error(`adding app ${appKey}: ${added.status} ${await added.text()}`);
      for (const method of methods) {
        const enabled = await fetch(`${started.adminUrl}/api/apps/${appKey}/rest-methods/${method}`, { method: 'PUT', headers });
        if (enabled.status !== 200) throw new Error(`enabling ${method} of ${appKey}: ${enabled.status} ${await enabled.text()}`);
      }
    },
    stop: async () => {
      await child.stop(STOP_GRACE_MS);
      await removeScratch(dir);
    },
    kill: async (signal) => {
      const status = await child.kill(signal);
      await removeScratch(dir);
      return status;
    },
  };
}

async function removeScratch(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

/** Complete JSON lines only: the last one may still be arriving, and the first of the kept MiB may be cut. */
function jsonLines(log: string): Record<string, unknown>[] {
  return log
    .split('\n')
    .slice(0, -1)
    .flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

function startLine(log: string): { adminUrl: string; wsPort: number; wssPort: number | undefined } | undefined {
  const line = jsonLines(log).find((l) => l['msg'] === 'callhook started');
  if (line === undefined) return undefined;
  const wssPort = typeof line['wssPort'] === 'number' ? line['wssPort'] : undefined;
  return { adminUrl: String(line['adminUrl']), wsPort: Number(line['wsPort']), wssPort };
}
