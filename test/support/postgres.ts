/**
 * A throwaway PostgreSQL for the store's tests: Debian's `postgresql` package (scripts/ensure-deps.sh) provides the
 * binaries; the cluster is made by `initdb` in a temp dir and `postgres` runs in the foreground on a free loopback
 * port, its unix socket in that dir. The package's own cluster and service are never used.
 *
 * PostgreSQL refuses to run as root. When the tests run as root (this CI machine, containers), initdb and postgres
 * run as `nobody` through `runuser`, and the temp dir is handed to `nobody` first; otherwise as the test's own user.
 *
 * Durability settings stay at PostgreSQL's defaults (fsync, synchronous_commit on): the benchmarks measure the
 * server as it would run. Authentication is `trust` on loopback: nothing but the test can reach the port.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ProcessGroup } from './child-process.ts';
import { eventually } from './eventually.ts';
import { freePort, LOOPBACK } from './ports.ts';

const PG_ROOT = '/usr/lib/postgresql';
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5000;
/** The superuser initdb creates; the tests connect as it. */
const USER = 'callhook';
const UNPRIVILEGED = 'nobody';

export interface Postgres {
  /** postgres://callhook@127.0.0.1:<port>/<database> of a fresh, empty database. */
  newDatabase(): Promise<string>;
  readonly port: number;
  readonly process: ProcessGroup;
  stop(): Promise<void>;
}

/** The newest installed major version's bin directory. */
function binDir(): string {
  const versions = (() => {
    try {
      return readdirSync(PG_ROOT).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    } catch {
      return [];
    }
  })();
  if (versions.length === 0) throw new Error(`PostgreSQL is not installed (no ${PG_ROOT}/<version>/bin): run scripts/ensure-deps.sh`);
  return join(PG_ROOT, versions[0]!, 'bin');
}

/** As root, `command` runs as `nobody` (PostgreSQL will not run as root). */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return userInfo().uid === 0 ? ['runuser', ['-u', UNPRIVILEGED, '--', command, ...args]] : [command, args];
}

let databases = 0;

/** Where PostgreSQL listens and runs: an address of a network namespace, the namespace, and the subnet it trusts. */
export interface PostgresNetns {
  name: string;
  ip: string;
  /** CIDR of the clients let in (trust, as loopback is). */
  clients: string;
}

export async function startPostgres(netns?: PostgresNetns): Promise<Postgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'callhook-pg-'));
  if (userInfo().uid === 0) {
    const nobody = spawnSync('id', ['-u', UNPRIVILEGED], { encoding: 'utf8' });
    chownSync(dir, Number(nobody.stdout.trim()), -1);
  }
  const data = join(dir, 'data');
  const [initCmd, initArgs] = asServerUser(join(bin, 'initdb'), ['-D', data, '-U', USER, '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  const init = spawnSync(initCmd, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed (${init.status ?? init.signal}): ${init.stderr || init.error?.message}`);

  if (netns !== undefined) appendFileSync(join(data, 'pg_hba.conf'), `host all all ${netns.clients} trust\n`);
  const host = netns?.ip ?? LOOPBACK;
  const port = await freePort('tcp');
  const [cmd, args] = asServerUser(join(bin, 'postgres'), [
    '-D', data, '-p', String(port), '-k', dir, '-c', `listen_addresses=${host}`, '-c', 'max_connections=200',
  ]);
  const child = netns !== undefined ? new ProcessGroup('ip', ['netns', 'exec', netns.name, cmd, ...args], dir) : new ProcessGroup(cmd, args, dir);
  const url = (database: string) => `postgres://${USER}@${host}:${port}/${database}`;
  await eventually(
    async () => {
      if (child.status !== undefined) throw new Error(`postgres ${child.status}: ${child.tail(20)}`);
      const c = new pg.Client({ connectionString: url('postgres') });
      try {
        await c.connect();
        return true;
      } catch {
        return false;
      } finally {
        await c.end().catch(() => undefined);
      }
    },
    START_TIMEOUT_MS,
    () => `postgres to accept connections on port ${port}: ${child.tail(20)}`,
    { maxPollMs: 100 },
  );

  return {
    port,
    process: child,
    async newDatabase() {
      const name = `t${process.pid}_${++databases}`;
      const admin = new pg.Client({ connectionString: url('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    async stop() {
      await child.stop(STOP_GRACE_MS);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
