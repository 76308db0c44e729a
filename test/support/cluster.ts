/**
 * Hosts on one machine for the cluster test (issue 17): network namespaces, each joined by a veth pair to a bridge
 * on a private /24 the run creates (unique names and subnet per run) and removes, also after a failure; and
 * HAProxy balancing WebSockets over callhook nodes. The test process stays in the root namespace and reaches every
 * host through the bridge's own address. Needs root (ip netns) and Debian's haproxy (scripts/ensure-deps.sh).
 *
 * Importing this file puts a test in the `cluster` lane (scripts/run-tests.mjs).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessGroup } from './child-process.ts';
import { eventually } from './eventually.ts';

export interface Host {
  /** The namespace's name (`ip netns exec <ns> …`). */
  ns: string;
  ip: string;
}

export interface TestNetwork {
  /** The root namespace's address on the subnet: where hosts reach the test (a backend). */
  readonly gateway: string;
  /** `10.x.y.0/24`. */
  readonly cidr: string;
  /** Adds a host: a namespace with one address on the subnet. */
  addHost(): Host;
  /** Removes every host, veth and the bridge; safe to call twice. */
  remove(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A fresh subnet with a bridge in the root namespace; hosts are added with addHost. */
export function createTestNetwork(): TestNetwork {
  const id = randomBytes(3).toString('hex');
  const routes = execFileSync('ip', ['-4', 'route'], { encoding: 'utf8' });
  let prefix = '';
  for (let i = 0; i < 20 && (prefix === '' || routes.includes(`${prefix}.`)); i++) prefix = `10.${randomInt(200, 250)}.${randomInt(0, 255)}`;
  const bridge = `chbr${id}`;
  const hosts: Host[] = [];
  const remove = (): void => {
    for (const h of hosts.splice(0)) {
      try {
        ip('netns', 'del', h.ns); // its end of the veth pair goes with it, and so does ours
      } catch {
        // already gone
      }
    }
    try {
      ip('link', 'del', bridge);
    } catch {
      // already gone
    }
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${prefix}.254/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
  } catch (e) {
    remove();
    throw e;
  }
  return {
    gateway: `${prefix}.254`,
    cidr: `${prefix}.0/24`,
    addHost() {
      const n = hosts.length + 1;
      const host = { ns: `ch${id}n${n}`, ip: `${prefix}.${n}` };
      hosts.push(host);
      const outer = `chv${id}${n}`;
      ip('netns', 'add', host.ns);
      ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.ns);
      ip('link', 'set', outer, 'master', bridge);
      ip('link', 'set', outer, 'up');
      ip('-n', host.ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0');
      ip('-n', host.ns, 'link', 'set', 'eth0', 'up');
      ip('-n', host.ns, 'link', 'set', 'lo', 'up');
      ip('-n', host.ns, 'route', 'add', 'default', 'via', `${prefix}.254`);
      return host;
    },
    remove,
  };
}

export interface HaproxyBackendServer {
  name: string;
  ip: string;
  wsPort: number;
  adminPort: number;
}

export interface Haproxy {
  /** `ws://<host ip>:<port>` of the balanced WebSocket frontend. */
  readonly wsUrl: string;
  /** The configuration it runs (docs/scaling.md shows the same). */
  readonly config: string;
  readonly process: ProcessGroup;
  stop(): Promise<void>;
}

/**
 * HAProxy in `host`, balancing WebSockets over `servers` by least connections, each checked with GET /healthz on its
 * admin port (a draining node fails it). The configuration is docs/scaling.md's, with fast checks for a test.
 */
export async function startHaproxy(host: Host, port: number, servers: readonly HaproxyBackendServer[]): Promise<Haproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'callhook-haproxy-'));
  const config = [
    'global',
    '    maxconn 4000',
    'defaults',
    '    mode http',
    '    timeout connect 5s',
    '    timeout client  60s',
    '    timeout server  60s',
    '    timeout tunnel  120s',
    '    timeout client-fin 5s',
    '    option forwardfor',
    'frontend callhook_ws',
    `    bind ${host.ip}:${port}`,
    '    default_backend callhook_nodes',
    'backend callhook_nodes',
    '    balance leastconn',
    '    option httpchk GET /healthz',
    '    http-check expect status 200',
    ...servers.map((s) => `    server ${s.name} ${s.ip}:${s.wsPort} check port ${s.adminPort} inter 500ms fall 2 rise 2`),
    '',
  ].join('\n');
  const file = join(dir, 'haproxy.cfg');
  await writeFile(file, config);
  // -db: foreground, no daemon, so the process group is ours to stop.
  const proc = new ProcessGroup('ip', ['netns', 'exec', host.ns, 'haproxy', '-db', '-f', file], dir);
  const wsUrl = `ws://${host.ip}:${port}`;
  await eventually(async () => {
    if (proc.status !== undefined) throw new Error(`haproxy ${proc.status}: ${proc.tail(20)}`);
    try {
      // Any HTTP answer (a 400 to a plain GET, or a 503 while no node is up yet) says it listens.
      await fetch(`http://${host.ip}:${port}/`);
      return true;
    } catch {
      return false;
    }
  }, 10_000, 'haproxy to listen');
  return {
    wsUrl,
    config,
    process: proc,
    async stop() {
      await proc.stop(2000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
