/**
 * A private Kamailio (registrar + proxy) for the integration tests: each call to startKamailio() gets its own temp
 * directory (config defines, db_text users, control socket, runtime files) and its own free loopback port for UDP
 * and TCP (and TLS with `tls`), never the system service, /etc/kamailio, or 5060. The routing logic is
 * test/support/kamailio.cfg.
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CertificateFiles } from './certs.ts';
import { ProcessGroup } from './child-process.ts';
import { eventually } from './eventually.ts';
import { LOOPBACK, freePort } from './ports.ts';

const execFileAsync = promisify(execFile);

export const DEFAULT_DOMAIN = 'callhook.test';
const CONFIG_FILE = fileURLToPath(new URL('./kamailio.cfg', import.meta.url));

/** Table versions of the Kamailio 5.6 schema (Debian's /usr/share/kamailio/dbtext/kamailio/version). */
const DB_TABLE_VERSIONS = { version: 1, subscriber: 7 } as const;

const START_ATTEMPTS = 3; // a freed port can be taken again before Kamailio binds it
const STOP_GRACE_MS = 5_000;
const RPC_TIMEOUT_MS = 5_000;
/** Each ul.dump runs kamcmd: at most every 50 ms. */
const RPC_POLL_MS = 50;

export interface KamailioUser {
  username: string;
  password: string;
}

export interface KamailioOptions {
  users: readonly KamailioUser[];
  /** The SIP domain users register in (also the digest realm). Requests for 127.0.0.1 are accepted as well. */
  domain?: string;
  /** RFC 3261 T1 for the transactions Kamailio relays (Timer F = 64*T1); default 500. */
  t1Ms?: number;
  /** RFC 3261 T2; default 4000. */
  t2Ms?: number;
  /**
   * The registrar's shortest accepted expiry in seconds (RFC 3261 §10.3 step 7): a REGISTER asking for less gets
   * 423 Interval Too Brief with this Min-Expires; default 60. A small value lets a test watch a refresh.
   */
  minExpires?: number;
  /** How long Kamailio may take to answer its first OPTIONS; default 10000. */
  startTimeoutMs?: number;
  /** Listen on a TLS port too (`tlsPort`), serving this certificate (test/support/certs.ts). */
  tls?: CertificateFiles;
  /** Where Kamailio listens and runs: an address of a network namespace, and the namespace (support/cluster.ts). */
  netns?: { name: string; ip: string };
}

/**
 * One registered contact as Kamailio's usrloc holds it. usrloc runs with use_domain=0, so `aor` is the user part
 * alone ("alice"): sip:alice@callhook.test and sip:alice@127.0.0.1 are the same record.
 */
export interface LocationBinding {
  aor: string;
  /** The Contact URI as registered, e.g. "sip:alice@127.0.0.1:40000;transport=udp". */
  contact: string;
  /** Seconds left before the binding expires. */
  expires: number;
  callId: string;
  cseq: number;
  /** Kamailio's socket the REGISTER came in on, e.g. "udp:127.0.0.1:31000" or "tcp:127.0.0.1:31000". */
  socket: string;
  /** Source address recorded for NAT traversal; unset in this configuration (no NAT fix-ups on loopback). */
  received?: string;
  /** The REGISTER's User-Agent header, if it had one. */
  userAgent?: string;
}

export interface KamailioInstance {
  readonly host: string;
  readonly port: number;
  /** The TLS port, when started with `tls`. */
  readonly tlsPort: number | undefined;
  readonly domain: string;
  /** The live bindings (expired or deleted ones left out), read through `kamcmd ul.dump`. */
  locations(): Promise<LocationBinding[]>;
  /**
   * Adds a binding by hand (`kamcmd ul.add`), as if `aor` had registered `contact` for `expiresSec`: a peer that
   * cannot register, such as a sipp UAS, becomes reachable as sip:<aor>@<domain> through the proxy.
   */
  addLocation(aor: string, contact: string, expiresSec?: number): Promise<void>;
  /** The number of live contacts (usrloc statistics): ul.dump's reply is too big for kamcmd past ~500 bindings. */
  contactCount(): Promise<number>;
  /** Polls locations() until `predicate` holds; throws after `timeoutMs` with the last bindings seen. */
  waitForLocations(
    predicate: (bindings: LocationBinding[]) => boolean,
    timeoutMs: number,
  ): Promise<LocationBinding[]>;
  /** Everything Kamailio has logged so far (stderr and stdout, the last MiB). */
  logs(): string;
  /** Stops the whole process group and removes the temp directory. Safe to call twice. */
  stop(): Promise<void>;
}

export type KamailioErrorCode =
  | 'KAMAILIO_BAD_OPTION'
  | 'KAMAILIO_START'
  | 'KAMAILIO_EXITED'
  | 'KAMAILIO_RPC'
  | 'KAMAILIO_WAIT_TIMEOUT';

/**
 * A bad option, a failed start, an unexpected exit or a failed RPC (the message then ends with the tail of
 * Kamailio's log), or a waitForLocations() that timed out.
 */
export class KamailioError extends Error {
  constructor(
    readonly code: KamailioErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KamailioError';
  }
}

export async function startKamailio(opts: KamailioOptions): Promise<KamailioInstance> {
  const domain = opts.domain ?? DEFAULT_DOMAIN;
  const t1Ms = opts.t1Ms ?? 500;
  const t2Ms = opts.t2Ms ?? 4_000;
  const minExpires = opts.minExpires ?? 60;
  validate(opts, domain, t1Ms, t2Ms, minExpires);

  const dir = await mkdtemp(join(tmpdir(), 'callhook-kamailio-'));
  try {
    await writeDatabase(join(dir, 'db'), opts.users, domain);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort('both');
      const tls = opts.tls && { ...opts.tls, port: await freePort('tcp') };
      const proc = new KamailioProcess(dir, port, domain, { t1Ms, t2Ms, minExpires, ...(tls && { tls }), ...(opts.netns && { netns: opts.netns }) });
      try {
        await proc.waitReady(opts.startTimeoutMs ?? 10_000);
        return proc;
      } catch (err) {
        await proc.kill();
        if (attempt < START_ATTEMPTS && proc.logs().includes('Address already in use')) continue;
        throw err;
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

function validate(opts: KamailioOptions, domain: string, t1Ms: number, t2Ms: number, minExpires: number): void {
  const bad = (what: string) => {
    throw new KamailioError('KAMAILIO_BAD_OPTION', `startKamailio: ${what}`);
  };
  if (!/^[A-Za-z0-9.-]+$/.test(domain)) bad(`domain must be a host name, got ${JSON.stringify(domain)}`);
  if (!Number.isInteger(t1Ms) || t1Ms < 50) bad(`t1Ms must be an integer >= 50, got ${t1Ms}`);
  if (!Number.isInteger(t2Ms) || t2Ms < t1Ms) bad(`t2Ms must be an integer >= t1Ms, got ${t2Ms}`);
  // 3600 is the cfg's max_expires.
  if (!Number.isInteger(minExpires) || minExpires < 1 || minExpires > 3600) {
    bad(`minExpires must be an integer from 1 to 3600, got ${minExpires}`);
  }
  const seen = new Set<string>();
  for (const { username, password } of opts.users) {
    // RFC 3261 §25.1 user part, unescaped: what a test can put in a From/To URI without percent-encoding.
    if (!/^[A-Za-z0-9\-_.!~*'()&=+$,;?/]+$/.test(username)) bad(`invalid username ${JSON.stringify(username)}`);
    if (seen.has(username)) bad(`duplicate username ${username}`);
    seen.add(username);
    if (password.length === 0) bad(`empty password for ${username}`);
  }
}

/**
 * The db_text database auth_db reads: one file per table, a typed header line, then rows separated by ':'
 * (kamailio's modules/db_text). `version` is checked by the modules at start; `subscriber` keeps only the columns
 * auth_db queries (username, domain, password: calculate_ha1 hashes the plaintext password per request).
 * Bindings are not stored here: usrloc keeps them in memory (db_mode 0).
 */
async function writeDatabase(dbDir: string, users: readonly KamailioUser[], domain: string): Promise<void> {
  await mkdir(dbDir);
  const versions = Object.entries(DB_TABLE_VERSIONS).map(([table, v]) => `0:${table}:${v}`);
  await writeFile(
    join(dbDir, 'version'),
    ['id(int,auto) table_name(string) table_version(int) ', ...versions, ''].join('\n'),
  );
  const rows = users.map(
    (u, i) => `${i + 1}:${dbTextEscape(u.username)}:${dbTextEscape(domain)}:${dbTextEscape(u.password)}`,
  );
  await writeFile(
    join(dbDir, 'subscriber'),
    ['id(int,auto) username(string) domain(string) password(string) ', ...rows, ''].join('\n'),
  );
}

/** What db_text reads back as the character itself (its file parser's backslash escapes). */
const DB_TEXT_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  ':': '\\:',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\0': '\\0',
};

function dbTextEscape(value: string): string {
  return value.replace(/[\\:\n\r\t\0]/g, (c) => DB_TEXT_ESCAPES[c] ?? c);
}

class KamailioProcess implements KamailioInstance {
  readonly host: string;
  private readonly group: ProcessGroup;
  private readonly ctlSocket: string;
  private stopping: Promise<void> | undefined;
  readonly tlsPort: number | undefined;

  constructor(
    private readonly dir: string,
    readonly port: number,
    readonly domain: string,
    settings: { t1Ms: number; t2Ms: number; minExpires: number; tls?: CertificateFiles & { port: number }; netns?: { name: string; ip: string } },
  ) {
    this.host = settings.netns?.ip ?? LOOPBACK;
    this.ctlSocket = join(dir, 'ctl.sock');
    this.tlsPort = settings.tls?.port;
    // Every value the cfg needs is a pre-processor define (see the header of kamailio.cfg).
    const defines = {
      SIP_PORT: String(port),
      SIP_IP: this.host,
      SIP_DOMAIN: JSON.stringify(domain),
      DB_URL: JSON.stringify(`text://${join(dir, 'db')}`),
      CTL_SOCKET: JSON.stringify(`unix:${this.ctlSocket}`),
      T1_MS: String(settings.t1Ms),
      T2_MS: String(settings.t2Ms),
      FR_MS: String(64 * settings.t1Ms),
      MIN_EXPIRES: String(settings.minExpires),
      ...(settings.tls && {
        TLS_PORT: String(settings.tls.port),
        TLS_CERT: JSON.stringify(settings.tls.cert),
        TLS_KEY: JSON.stringify(settings.tls.key),
      }),
    };
    const args = [
      ...['-f', CONFIG_FILE],
      '-DD', // stay in the foreground (children still fork), so the process group is ours to stop
      '-E', // log to stderr, which we keep
      ...['-n', '2', '-N', '2'], // UDP and TCP workers
      ...['-a', 'no'], // no auto aliases: only 127.0.0.1 and the test domain are "myself"
      ...['-m', '64', '-M', '8'], // shared / private memory (MB)
      ...['-w', dir, '-Y', dir], // working and runtime directory (not /run/kamailio)
      ...Object.entries(defines).flatMap(([name, value]) => ['-A', `${name}=${value}`]),
      ...(settings.tls ? ['-A', 'WITH_TLS'] : []),
    ];
    this.group = settings.netns
      ? new ProcessGroup('ip', ['netns', 'exec', settings.netns.name, 'kamailio', ...args], dir)
      : new ProcessGroup('kamailio', args, dir);
  }

  logs(): string {
    return this.group.log;
  }

  /** Ready once Kamailio answers an OPTIONS to itself with 200 (the cfg's liveness route). */
  async waitReady(timeoutMs: number): Promise<void> {
    const probe = createSocket('udp4');
    // From loopback, or, for a Kamailio in a namespace, from whichever address routes to it.
    await new Promise<void>((resolve) => probe.bind(0, this.host === LOOPBACK ? LOOPBACK : '0.0.0.0', resolve));
    let n = 0;
    try {
      await eventually(() => {
        if (this.group.status !== undefined) throw this.failure('KAMAILIO_START', `Kamailio ${this.group.status} at start`);
        return this.options(probe, ++n);
      }, timeoutMs, 'Kamailio to answer OPTIONS');
    } catch (err) {
      throw err instanceof KamailioError ? err : this.failure('KAMAILIO_START', (err as Error).message, err);
    } finally {
      probe.close();
    }
  }

  private options(probe: ReturnType<typeof createSocket>, n: number): Promise<boolean> {
    const local = probe.address();
    const callId = `probe-${process.pid}-${n}@${LOOPBACK}`;
    const request = [
      `OPTIONS sip:${this.host}:${this.port} SIP/2.0`,
      `Via: SIP/2.0/UDP ${LOOPBACK}:${local.port};branch=z9hG4bK-probe-${n};rport`,
      'Max-Forwards: 70',
      `From: <sip:probe@${LOOPBACK}>;tag=probe${n}`,
      `To: <sip:${this.host}:${this.port}>`,
      `Call-ID: ${callId}`,
      `CSeq: ${n} OPTIONS`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), 200);
      const onMessage = (msg: Buffer) => {
        const text = msg.toString('latin1');
        if (text.includes(callId) && text.startsWith('SIP/2.0 200')) done(true);
      };
      const done = (ok: boolean) => {
        clearTimeout(timer);
        probe.off('message', onMessage);
        resolve(ok);
      };
      probe.on('message', onMessage);
      probe.send(request, this.port, this.host, (err) => {
        if (err) done(false);
      });
    });
  }

  async locations(): Promise<LocationBinding[]> {
    if (this.group.status !== undefined) throw this.failure('KAMAILIO_EXITED', `Kamailio ${this.group.status}`);
    let stdout: string;
    try {
      ({ stdout } = await execFileAsync('kamcmd', ['-s', `unix:${this.ctlSocket}`, 'ul.dump'], {
        timeout: RPC_TIMEOUT_MS,
      }));
    } catch (err) {
      throw this.failure('KAMAILIO_RPC', `kamcmd ul.dump failed: ${(err as Error).message}`, err);
    }
    return parseUlDump(stdout);
  }

  async addLocation(aor: string, contact: string, expiresSec = 3600): Promise<void> {
    if (this.group.status !== undefined) throw this.failure('KAMAILIO_EXITED', `Kamailio ${this.group.status}`);
    let stdout: string;
    try {
      // ul.add table AOR contact expires q path flags cflags methods; `s:` makes the empty path a string (kamcmd
      // types a bare argument by its look), methods 255 accepts every request.
      ({ stdout } = await execFileAsync('kamcmd', ['-s', `unix:${this.ctlSocket}`, 'ul.add', 'location', aor, contact, String(expiresSec), '1.0', 's:', '0', '0', '255'], {
        timeout: RPC_TIMEOUT_MS,
      }));
    } catch (err) {
      throw this.failure('KAMAILIO_RPC', `kamcmd ul.add failed: ${(err as Error).message}`, err);
    }
    // kamcmd exits 0 on an RPC error and prints it.
    if (/^error:/m.test(stdout)) throw this.failure('KAMAILIO_RPC', `kamcmd ul.add failed: ${stdout.trim()}`);
  }

  async contactCount(): Promise<number> {
    if (this.group.status !== undefined) throw this.failure('KAMAILIO_EXITED', `Kamailio ${this.group.status}`);
    let stdout: string;
    try {
      ({ stdout } = await execFileAsync('kamcmd', ['-s', `unix:${this.ctlSocket}`, 'stats.get_statistics', 'usrloc:'], {
        timeout: RPC_TIMEOUT_MS,
      }));
    } catch (err) {
      throw this.failure('KAMAILIO_RPC', `kamcmd stats.get_statistics failed: ${(err as Error).message}`, err);
    }
    // The usrloc group, one line each: "usrloc:location_contacts = 1000"
    const match = /location_contacts\s*=\s*(\d+)/.exec(stdout);
    if (!match) throw this.failure('KAMAILIO_RPC', `unexpected statistics reply: ${stdout}`);
    return Number(match[1]);
  }

  async waitForLocations(
    predicate: (bindings: LocationBinding[]) => boolean,
    timeoutMs: number,
  ): Promise<LocationBinding[]> {
    let bindings: LocationBinding[] = [];
    try {
      return await eventually(async () => {
        bindings = await this.locations();
        return predicate(bindings) && bindings;
      }, timeoutMs, () => `the bindings to reach the expected state; last seen: ${JSON.stringify(bindings)}`, { maxPollMs: RPC_POLL_MS });
    } catch (err) {
      throw err instanceof KamailioError ? err : new KamailioError('KAMAILIO_WAIT_TIMEOUT', (err as Error).message, { cause: err });
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.kill();
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  /** SIGTERM to the group (Kamailio's main process also stops its children), SIGKILL if it lingers. */
  kill(): Promise<void> {
    return this.group.stop(STOP_GRACE_MS);
  }

  private failure(code: KamailioErrorCode, message: string, cause?: unknown): KamailioError {
    return new KamailioError(code, `${message}\n--- kamailio log (tail) ---\n${this.group.tail(40)}`, { cause });
  }
}

/**
 * `kamcmd` prints an RPC result as nested blocks: `{`, `Name: {`, `Name: value`, `}`. Each block becomes a list of
 * [name, value] entries (names repeat: one `Info` per AoR, one `Contact` per binding).
 */
type RpcBlock = Array<[string, string | RpcBlock]>;

function parseRpcOutput(text: string): RpcBlock {
  const root: RpcBlock = [];
  const stack: RpcBlock[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const current = stack.at(-1);
    if (line === '{' && current === undefined) {
      stack.push(root);
    } else if (line === '}') {
      if (stack.pop() === undefined) throw new Error(`unbalanced kamcmd output: ${text}`);
    } else if (current !== undefined && line.endsWith(': {')) {
      const block: RpcBlock = [];
      current.push([line.slice(0, -3), block]);
      stack.push(block);
    } else if (current !== undefined && line.includes(': ')) {
      const at = line.indexOf(': ');
      current.push([line.slice(0, at), line.slice(at + 2)]);
    } else {
      throw new Error(`unexpected kamcmd output line ${JSON.stringify(line)}`);
    }
  }
  return root;
}

function blocks(block: RpcBlock, name: string): RpcBlock[] {
  return block
    .filter(([key, value]) => key === name && typeof value !== 'string')
    .map(([, value]) => value as RpcBlock);
}

function field(block: RpcBlock, name: string): string | undefined {
  const entry = block.find(([key, value]) => key === name && typeof value === 'string');
  return entry?.[1] as string | undefined;
}

/** usrloc's RPC prints "[not set]" for an empty field; registrar stores "n/a" when a REGISTER has no User-Agent. */
const NOT_SET = '[not set]';
const NO_USER_AGENT = 'n/a';

/** The location table out of `kamcmd ul.dump` (usrloc's RPC: Domains > Domain > AoRs > Info > Contacts > Contact). */
function parseUlDump(text: string): LocationBinding[] {
  const bindings: LocationBinding[] = [];
  for (const domains of blocks(parseRpcOutput(text), 'Domains')) {
    for (const table of blocks(domains, 'Domain')) {
      if (field(table, 'Domain') !== 'location') continue;
      for (const aors of blocks(table, 'AoRs')) {
        for (const info of blocks(aors, 'Info')) {
          const aor = field(info, 'AoR') ?? '';
          for (const contacts of blocks(info, 'Contacts')) {
            for (const contact of blocks(contacts, 'Contact')) {
              const binding = toBinding(aor, contact);
              if (binding !== undefined) bindings.push(binding);
            }
          }
        }
      }
    }
  }
  return bindings;
}

function toBinding(aor: string, contact: RpcBlock): LocationBinding | undefined {
  const expires = field(contact, 'Expires');
  // usrloc prints a live binding's remaining seconds, else "expired", "deleted" (or "permanent", not used here).
  if (expires === 'expired' || expires === 'deleted') return undefined;
  if (expires === undefined || !/^\d+$/.test(expires)) throw new Error(`unexpected Expires ${expires} for ${aor}`);
  const optional = (name: string) => {
    const value = field(contact, name);
    return value === undefined || value === NOT_SET || value === NO_USER_AGENT ? undefined : value;
  };
  const binding: LocationBinding = {
    aor,
    contact: field(contact, 'Address') ?? '',
    expires: Number(expires),
    callId: field(contact, 'Call-ID') ?? '',
    cseq: Number(field(contact, 'CSeq')),
    socket: field(contact, 'Socket') ?? '',
  };
  const received = optional('Received');
  const userAgent = optional('User-Agent');
  if (received !== undefined) binding.received = received;
  if (userAgent !== undefined) binding.userAgent = userAgent;
  return binding;
}
