/**
 * A private Asterisk 22 (PJSIP) for the integration tests: Debian unstable's packages, fetched and unpacked into a
 * cache directory by scripts/fetch-asterisk.sh, run through that tree's own dynamic loader (sid's glibc, not the
 * host's); nothing installed, no service. Each startAsterisk() gets its own temp directory (asterisk.conf with its
 * own directories, modules.conf, pjsip.conf, extensions.conf, the control socket, the AstDB, the log) and one free
 * loopback port for its UDP and TCP transports.
 *
 * The dialplan (context `callhook`, every endpoint's context) offers what the scenarios dial:
 *   echo          Answer, Echo(): the caller hears itself
 *   busy          Busy(): 486 Busy Here
 *   early         Progress (183 with SDP), Playback of a prompt as early media, then 480 (never answered)
 *   dtmf          Answer, Read() up to 4 digits, stored in AstDB `callhook/dtmf`, then Echo()
 *   send-dtmf     Answer, SendDTMF(<digits in AstDB callhook/send-dtmf>), then Echo()
 *   transferred   Answer, stores the caller's number in AstDB `callhook/transferred`, hangs up (a REFER target)
 *   anything else 404 Not Found
 * MESSAGE (context `callhook-messages`): the body is stored in AstDB `callhook/message`, `callhook/message-from`;
 * to `echo` it is also sent back to the sender's endpoint (MessageSend to its registered Contact).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ProcessGroup } from './child-process.ts';
import { eventually } from './eventually.ts';
import { LOOPBACK, freePort, freeUdpRange, waitUntilBound } from './ports.ts';

const execFileAsync = promisify(execFile);

const FETCH_SCRIPT = fileURLToPath(new URL('../../scripts/fetch-asterisk.sh', import.meta.url));
const MULTIARCH = 'x86_64-linux-gnu';
const START_ATTEMPTS = 3; // a freed port can be taken again before Asterisk binds it
const STOP_GRACE_MS = 5_000;
const CLI_TIMEOUT_MS = 10_000;
/** Each poll of the CLI runs a process: at most every 100 ms. */
const CLI_POLL_MS = 100;
const RTP_PORTS = 200;

/** The digest algorithms Asterisk 22 offers as a UAS (RFC 8760): one WWW-Authenticate challenge per algorithm. */
export type DigestAlgorithm = 'md5' | 'sha-256';

export interface AsteriskEndpoint {
  username: string;
  password: string;
  /** The algorithms of this endpoint's challenges (pjsip.conf auth `supported_algorithms_uas`); default ['md5']. */
  algorithms?: readonly DigestAlgorithm[];
  /** pjsip.conf `type=endpoint` options over the defaults below (e.g. { timers: 'always', dtmf_mode: 'info' }). */
  endpoint?: Readonly<Record<string, string>>;
  /** pjsip.conf `type=aor` options over the defaults (e.g. { qualify_frequency: '2', minimum_expiration: '5' }). */
  aor?: Readonly<Record<string, string>>;
}

export interface AsteriskOptions {
  endpoints: readonly AsteriskEndpoint[];
  /** The digest realm of every challenge; default `asterisk`. */
  realm?: string;
  /** Appended to pjsip.conf (e.g. a TLS transport); `${port}` is not expanded. */
  pjsipExtra?: string;
  /** Appended to extensions.conf (more contexts, or `[callhook](+)` to extend the test context). */
  extensionsExtra?: string;
  /** More modules to load (modules.conf `load =>`), e.g. 'res_srtp.so'. */
  modules?: readonly string[];
  /** Logs every SIP message (pjsip.conf `debug=yes`); default true: the log then explains a failed test. */
  sipDebug?: boolean;
  /** How long Asterisk may take to be fully booted; default 20000. */
  startTimeoutMs?: number;
}

/** One line of `core show channels concise`. */
export interface AsteriskChannel {
  /** e.g. `PJSIP/alice-00000001`. */
  name: string;
  context: string;
  extension: string;
  /** Asterisk's channel state: `Ring`, `Ringing`, `Up`, `Down`, `Busy`, … */
  state: string;
  /** The dialplan application running, e.g. `Echo`, `Dial`, `Playback`. */
  application: string;
  callerIdNumber: string;
  /** Seconds since the channel was created. */
  durationS: number;
}

/** One line of `pjsip show contacts`. */
export interface AsteriskContact {
  aor: string;
  /** The Contact URI as registered (with rewrite_contact: the source address). */
  uri: string;
  /** `Avail` once a qualify OPTIONS was answered, `NonQual` without qualify, `Unavail`, `Unknown`. */
  status: string;
}

export interface OriginateOptions {
  /** The caller ID the call shows (From header). */
  callerIdNumber: string;
  callerIdName?: string;
  /** Where the call goes once answered: an extension of the `callhook` context; default `echo`. */
  then?: string;
  /** Seconds Dial() rings before giving up (a missed call); default 30. */
  ringTimeoutS?: number;
}

export interface AsteriskInstance {
  readonly host: string;
  /** The UDP and TCP transports' port. */
  readonly port: number;
  readonly realm: string;
  /** The Asterisk version (`core show version`'s second word, e.g. `22.10.1+dfsg+…`). */
  readonly version: string;
  /** Runs one CLI command through the control socket (`asterisk -rx`) and returns its output. */
  cli(command: string): Promise<string>;
  /**
   * Calls `endpoint` (registered) through a Local channel that sets the caller ID and Dial()s it; once answered,
   * the call runs extension `then`. When Dial() returns, `DIALSTATUS` is stored in AstDB `originate/<endpoint>`
   * (ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL): see dialStatus().
   */
  originate(endpoint: string, opts: OriginateOptions): Promise<void>;
  /** The DIALSTATUS of the last originate() to `endpoint`, once Dial() returned. */
  dialStatus(endpoint: string): Promise<string | undefined>;
  /** A key of the AstDB (the dialplan's results: `callhook/dtmf`, `callhook/message`, …), undefined if unset. */
  dbGet(family: string, key: string): Promise<string | undefined>;
  dbPut(family: string, key: string, value: string): Promise<void>;
  dbDel(family: string, key: string): Promise<void>;
  channels(): Promise<AsteriskChannel[]>;
  contacts(): Promise<AsteriskContact[]>;
  /** Polls `read` until `predicate` holds; throws after `timeoutMs` naming `what` and the last value read. */
  waitFor<T>(read: () => Promise<T>, predicate: (value: T) => boolean, timeoutMs: number, what: string): Promise<T>;
  /**
   * A PBX restart: stops Asterisk and starts it again on the same port with the same configuration. With
   * `forgetRegistrations` the AstDB (where PJSIP keeps its contacts across restarts) is emptied first, so every
   * client must register again.
   */
  restart(opts?: { forgetRegistrations?: boolean }): Promise<void>;
  /** Asterisk's log so far (its `full` log file: verbose, notices, warnings, and every SIP message). */
  logs(): string;
  /** Stops the process group and removes the temp directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** The unpacked tree (fetched on first use; reused after, without the network). */
let treePromise: Promise<string> | undefined;

export function asteriskTree(): Promise<string> {
  treePromise ??= execFileAsync('sh', [FETCH_SCRIPT], { timeout: 600_000, maxBuffer: 1 << 20 }).then(({ stdout }) =>
    stdout.trim().split('\n').at(-1)!,
  );
  return treePromise;
}

export async function startAsterisk(opts: AsteriskOptions): Promise<AsteriskInstance> {
  validate(opts);
  const tree = await asteriskTree();
  const dir = await mkdtemp(join(tmpdir(), 'callhook-asterisk-'));
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort('both');
      const rtpStart = await freeUdpRange(RTP_PORTS);
      await writeConfiguration(dir, tree, port, rtpStart, opts);
      const asterisk = new AsteriskProcess(dir, tree, port, opts);
      try {
        await asterisk.start();
        return asterisk;
      } catch (err) {
        await asterisk.kill();
        if (attempt < START_ATTEMPTS && asterisk.logs().includes('Address already in use')) {
          // The next attempt's log starts empty, so that this attempt's failure is not read as the next one's.
          await rm(join(dir, 'log/full'), { force: true });
          continue;
        }
        throw err;
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Names end up in pjsip.conf section headers and dialplan patterns: keep them plain. */
function validate(opts: AsteriskOptions): void {
  const seen = new Set<string>();
  for (const { username, password } of opts.endpoints) {
    if (!/^[A-Za-z0-9_.-]+$/.test(username)) throw new Error(`startAsterisk: invalid username ${JSON.stringify(username)}`);
    if (seen.has(username)) throw new Error(`startAsterisk: duplicate username ${username}`);
    seen.add(username);
    if (password === '' || /[\n;]/.test(password)) throw new Error(`startAsterisk: invalid password for ${username}`);
  }
}

function directories(dir: string, tree: string) {
  return {
    astetcdir: join(dir, 'etc'),
    astmoddir: join(tree, 'usr/lib', MULTIARCH, 'asterisk/modules'),
    astvarlibdir: join(dir, 'lib'),
    astdbdir: join(dir, 'lib'),
    astkeydir: join(dir, 'lib'),
    astdatadir: join(dir, 'data'),
    astagidir: join(dir, 'data/agi-bin'),
    astspooldir: join(dir, 'spool'),
    astrundir: join(dir, 'run'),
    astlogdir: join(dir, 'log'),
    astsbindir: join(tree, 'usr/sbin'),
  };
}

/**
 * Only what the scenarios use (autoload = no): start-up stays around a second, and no module complains about a
 * configuration it lacks.
 */
const MODULES = [
  // PJSIP, its registrar, digest authentication, SDP/RTP, NAT fix-ups, DTMF (RFC 4733 and INFO), MESSAGE, REFER
  'res_pjproject.so', 'res_sorcery_config.so', 'res_sorcery_memory.so', 'res_sorcery_astdb.so', 'res_pjsip.so',
  'res_pjsip_session.so', 'chan_pjsip.so', 'res_pjsip_authenticator_digest.so',
  'res_pjsip_outbound_authenticator_digest.so', 'res_pjsip_endpoint_identifier_user.so', 'res_pjsip_registrar.so',
  'res_pjsip_sdp_rtp.so', 'res_rtp_asterisk.so', 'res_pjsip_nat.so', 'res_pjsip_caller_id.so',
  'res_pjsip_dtmf_info.so', 'res_pjsip_messaging.so', 'res_pjsip_pubsub.so', 'res_pjsip_refer.so',
  'res_pjsip_rfc3326.so', 'res_pjsip_dlg_options.so', 'res_pjsip_logger.so', 'res_timing_timerfd.so',
  // dialplan, applications, functions
  'pbx_config.so', 'app_echo.so', 'app_playback.so', 'app_dial.so', 'app_read.so', 'app_senddtmf.so', 'func_db.so',
  'func_callerid.so', 'func_channel.so', 'func_strings.so', 'func_cut.so',
  // bridging (Local channels, Dial), codecs and the prompts' file format
  'res_clioriginate.so', 'chan_bridge_media.so', 'bridge_simple.so', 'bridge_builtin_features.so', 'codec_ulaw.so', 'codec_alaw.so',
  'codec_gsm.so', 'format_gsm.so', 'format_pcm.so',
];

const ENDPOINT_DEFAULTS: Readonly<Record<string, string>> = {
  context: 'callhook',
  message_context: 'callhook-messages',
  disallow: 'all',
  allow: 'ulaw,alaw',
  // What docs/interop.md tells a user to set for callhook: media through Asterisk, replies to the source address.
  direct_media: 'no',
  rtp_symmetric: 'yes',
  force_rport: 'yes',
  rewrite_contact: 'yes',
  dtmf_mode: 'rfc4733',
};

const AOR_DEFAULTS: Readonly<Record<string, string>> = {
  max_contacts: '1',
  remove_existing: 'yes',
  minimum_expiration: '5',
};

async function writeConfiguration(
  dir: string,
  tree: string,
  port: number,
  rtpStart: number,
  opts: AsteriskOptions,
): Promise<void> {
  const dirs = directories(dir, tree);
  for (const d of [dirs.astetcdir, dirs.astvarlibdir, dirs.astspooldir, dirs.astrundir, dirs.astlogdir, dirs.astagidir]) {
    await mkdir(d, { recursive: true });
  }
  // The data directory reads the tree's: the XML documentation (without it the core refuses to register its
  // configuration options and stops) and the prompts, whose sounds/en link Debian's postinst would have made.
  if (!existsSync(join(dirs.astdatadir, 'sounds/en'))) {
    const share = join(tree, 'usr/share/asterisk');
    await mkdir(join(dirs.astdatadir, 'sounds'), { recursive: true });
    await symlink(join(share, 'documentation'), join(dirs.astdatadir, 'documentation'));
    await symlink(join(share, 'sounds/en_US_f_Allison'), join(dirs.astdatadir, 'sounds/en'));
  }
  const etc = dirs.astetcdir;
  const section = (name: string, options: Record<string, string>) =>
    [`[${name}]`, ...Object.entries(options).map(([k, v]) => `${k} = ${v}`), ''].join('\n');

  await writeFile(
    join(dir, 'asterisk.conf'),
    [
      section('directories', dirs),
      section('options', {
        // A test's Asterisk: no colour codes, no "are you sure" at stop, quick shutdown of calls.
        nocolor: 'yes',
        transmit_silence: 'no',
        documentation_language: 'en_US',
        hideconnect: 'yes',
        cache_media_frames: 'no',
      }),
    ].join('\n'),
  );
  await writeFile(
    join(etc, 'modules.conf'),
    ['[modules]', 'autoload = no', ...MODULES, ...(opts.modules ?? [])].map((m) => (m.endsWith('.so') ? `load => ${m}` : m)).join('\n') + '\n',
  );
  await writeFile(
    join(etc, 'logger.conf'),
    ['[general]', 'dateformat = %F %T.%3q', '[logfiles]', 'full => notice,warning,error,verbose(3)', ''].join('\n'),
  );
  await writeFile(join(etc, 'rtp.conf'), section('general', { rtpstart: String(rtpStart), rtpend: String(rtpStart + RTP_PORTS - 1) }));
  await writeFile(join(etc, 'indications.conf'), section('general', { country: 'us' }) + section('us', { description: 'United States', ringcadence: '2000,4000', dial: '350+440', busy: '480+620/500,0/500', ring: '440+480/2000,0/4000', congestion: '480+620/250,0/250' }));
  await writeFile(join(etc, 'pjsip.conf'), pjsipConf(port, opts));
  await writeFile(join(etc, 'extensions.conf'), extensionsConf(opts.extensionsExtra));
  // Present but empty, so the modules that read them do not log an error each.
  for (const empty of ['ccss.conf', 'cdr.conf', 'cel.conf', 'features.conf', 'udptl.conf', 'acl.conf', 'pjproject.conf']) {
    await writeFile(join(etc, empty), '');
  }
}

function pjsipConf(port: number, opts: AsteriskOptions): string {
  const lines = [
    '[global]',
    'type = global',
    'user_agent = Asterisk (callhook test)',
    `default_realm = ${opts.realm ?? 'asterisk'}`,
    `debug = ${opts.sipDebug === false ? 'no' : 'yes'}`,
    'endpoint_identifier_order = username',
    '',
  ];
  for (const protocol of ['udp', 'tcp']) {
    lines.push(`[transport-${protocol}]`, 'type = transport', `protocol = ${protocol}`, `bind = ${LOOPBACK}:${port}`, '');
  }
  for (const e of opts.endpoints) {
    const endpoint = { ...ENDPOINT_DEFAULTS, auth: `${e.username}-auth`, aors: e.username, ...e.endpoint };
    const auth = {
      auth_type: 'digest',
      username: e.username,
      password: e.password,
      supported_algorithms_uas: (e.algorithms ?? ['md5']).join(','),
    };
    lines.push(`[${e.username}]`, 'type = endpoint', ...options(endpoint), '');
    lines.push(`[${e.username}-auth]`, 'type = auth', ...options(auth), '');
    lines.push(`[${e.username}]`, 'type = aor', ...options({ ...AOR_DEFAULTS, ...e.aor }), '');
  }
  if (opts.pjsipExtra !== undefined) lines.push(opts.pjsipExtra);
  return lines.join('\n') + '\n';
}

function options(values: Readonly<Record<string, string>>): string[] {
  return Object.entries(values).map(([k, v]) => `${k} = ${v}`);
}

function extensionsConf(extra: string | undefined): string {
  return `[general]
static = yes
writeprotect = yes

[callhook]
exten => echo,1,Answer()
 same => n,Echo()
exten => busy,1,Busy(5)
exten => early,1,Progress()
 same => n,Playback(demo-congrats,noanswer)
 same => n,Congestion(5)
exten => dtmf,1,Answer()
 same => n,Read(DIGITS,,4,,,20)
 same => n,Set(DB(callhook/dtmf)=\${DIGITS})
 same => n,Echo()
exten => send-dtmf,1,Answer()
 same => n,Wait(1)
 same => n,SendDTMF(\${DB(callhook/send-dtmf)},250)
 same => n,Echo()
exten => transferred,1,Answer()
 same => n,Set(DB(callhook/transferred)=\${CALLERID(num)})
 same => n,Hangup()

[callhook-messages]
exten => _[a-zA-Z0-9]!,1,Set(DB(callhook/message)=\${MESSAGE(body)})
 same => n,Set(DB(callhook/message-from)=\${MESSAGE(from)})
 same => n,GotoIf($["\${EXTEN}" != "echo"]?done)
 same => n,Set(SENDER=\${CUT(CUT(MESSAGE(from),@,1),:,2)})
 same => n,MessageSend(pjsip:\${SENDER},"Echo" <sip:echo@${LOOPBACK}>)
 same => n(done),Hangup()

; Local/<endpoint>@callhook-originate: the caller ID, then Dial() the endpoint; its DIALSTATUS is kept.
[callhook-originate]
exten => _[a-zA-Z0-9]!,1,Set(CALLERID(num)=\${DB(originate-callerid/\${EXTEN})})
 same => n,Set(CALLERID(name)=\${DB(originate-callername/\${EXTEN})})
 same => n,Dial(PJSIP/\${EXTEN},\${DB(originate-timeout/\${EXTEN})},g)
 same => n,Set(DB(originate/\${EXTEN})=\${DIALSTATUS})
 same => n,Hangup()

${extra ?? ''}
`;
}

class AsteriskProcess implements AsteriskInstance {
  readonly host = LOOPBACK;
  readonly realm: string;
  version = '';
  private group: ProcessGroup | undefined;
  private stopping: Promise<void> | undefined;
  private readonly loader: string;
  private readonly libraryPath: string;
  private readonly binary: string;
  private readonly confFile: string;

  constructor(
    private readonly dir: string,
    tree: string,
    readonly port: number,
    private readonly opts: AsteriskOptions,
  ) {
    this.realm = opts.realm ?? 'asterisk';
    this.loader = join(tree, 'usr/lib', MULTIARCH, 'ld-linux-x86-64.so.2');
    this.libraryPath = [join(tree, 'usr/lib', MULTIARCH), join(tree, 'lib', MULTIARCH)].join(':');
    this.binary = join(tree, 'usr/sbin/asterisk');
    this.confFile = join(dir, 'asterisk.conf');
  }

  /** The command line of `asterisk <args>` through the tree's dynamic loader (sid's glibc and libraries). */
  private command(args: string[]): [string, string[]] {
    return [this.loader, ['--library-path', this.libraryPath, this.binary, '-C', this.confFile, ...args]];
  }

  private env(): NodeJS.ProcessEnv {
    // HOME: `asterisk -r` keeps its history there.
    return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: this.dir, LANG: 'C' };
  }

  async start(): Promise<void> {
    const [command, args] = this.command(['-f', '-n', '-q']);
    this.group = new ProcessGroup(command, args, this.dir, this.env());
    const group = this.group;
    const timeoutMs = this.opts.startTimeoutMs ?? 20_000;
    const deadline = Date.now() + timeoutMs;
    try {
      // The control socket exists once the CLI can be reached; then wait for every module to have loaded.
      await eventually(() => {
        if (group.status !== undefined) throw new Error(`Asterisk ${group.status} at start`);
        return existsSync(join(this.dir, 'run/asterisk.ctl'));
      }, timeoutMs, 'the control socket of Asterisk');
      await this.cli('core waitfullybooted', Math.max(1_000, deadline - Date.now()));
      // A transport that cannot bind its port is logged, and Asterisk runs on without it.
      const unbound = /Transport '([^']+)' could not be started: (.*)/.exec(this.logs());
      if (unbound !== null) throw new Error(`the PJSIP transport ${unbound[1]} could not be started: ${unbound[2]}`);
      await waitUntilBound('udp', this.port, { timeoutMs: Math.max(1_000, deadline - Date.now()), stillRunning: () => group.status === undefined });
      this.version = (await this.cli('core show version')).split(/\s+/)[1] ?? '';
    } catch (err) {
      throw this.failure((err as Error).message, err);
    }
  }

  async cli(command: string, timeoutMs = CLI_TIMEOUT_MS): Promise<string> {
    const [file, args] = this.command(['-rx', command]);
    try {
      const { stdout } = await execFileAsync(file, args, { timeout: timeoutMs, cwd: this.dir, env: this.env() });
      return stdout;
    } catch (err) {
      throw this.failure(`asterisk -rx '${command}' failed: ${(err as Error).message}`, err);
    }
  }

  async originate(endpoint: string, opts: OriginateOptions): Promise<void> {
    await this.dbDel('originate', endpoint);
    await this.dbPut('originate-callerid', endpoint, opts.callerIdNumber);
    await this.dbPut('originate-callername', endpoint, opts.callerIdName ?? '');
    await this.dbPut('originate-timeout', endpoint, String(opts.ringTimeoutS ?? 30));
    await this.cli(`channel originate Local/${endpoint}@callhook-originate extension ${opts.then ?? 'echo'}@callhook`);
  }

  dialStatus(endpoint: string): Promise<string | undefined> {
    return this.dbGet('originate', endpoint);
  }

  async dbGet(family: string, key: string): Promise<string | undefined> {
    const out = await this.cli(`database get ${family} ${key}`);
    const m = /^Value: (.*)$/m.exec(out);
    return m ? m[1] : undefined;
  }

  async dbPut(family: string, key: string, value: string): Promise<void> {
    // The CLI splits on blanks unless quoted; the values the tests store have no quotes.
    if (value.includes('"')) throw new Error(`dbPut: a value with a quote cannot go through the CLI: ${value}`);
    await this.cli(`database put ${family} ${key} "${value}"`);
  }

  async dbDel(family: string, key: string): Promise<void> {
    await this.cli(`database del ${family} ${key}`);
  }

  async channels(): Promise<AsteriskChannel[]> {
    // Channel!Context!Extension!Priority!State!Application!Data!CallerID!Accountcode!PeerAccount!AMAFlags!Duration!…
    const out = await this.cli('core show channels concise');
    return out
      .split('\n')
      // Message/ast_msg_queue is the channel Asterisk keeps to run the MESSAGE dialplan: not a call.
      .filter((line) => line.includes('!') && !line.startsWith('Message/'))
      .map((line) => {
        const f = line.split('!');
        return {
          name: f[0] ?? '',
          context: f[1] ?? '',
          extension: f[2] ?? '',
          state: f[4] ?? '',
          application: f[5] ?? '',
          callerIdNumber: f[7] ?? '',
          durationS: Number(f[11] ?? 0),
        };
      });
  }

  async contacts(): Promise<AsteriskContact[]> {
    // The table cuts long URIs short: the whole URI comes from the registrar's AstDB rows
    // ("/registrar/contact/alice;@<hash>: {…,"uri":"sip:…",…}"), the status from the table
    // ("  Contact:  alice/sip:7f3a@127.0.0.1:40000;tra   0a1b2c3d4e Avail        0.712").
    const stored = [...(await this.cli('database show registrar/contact')).matchAll(/^\/registrar\/contact\/([^;]+);@\S+: (\{.*\})\s*$/gm)]
      .map((m) => ({ aor: m[1]!, uri: String((JSON.parse(m[2]!) as { uri?: unknown }).uri ?? '') }));
    const contacts: AsteriskContact[] = [];
    // The table's header line, "Contact:  <Aor/ContactUri…>", starts with "<" and does not match.
    for (const m of (await this.cli('pjsip show contacts')).matchAll(/^\s*Contact:\s+([^/\s<]+)\/(\S+)\s+\S+\s+(\S+)/gm)) {
      const [, aor, shown, status] = m as unknown as [string, string, string, string];
      const uri = stored.find((c) => c.aor === aor && c.uri.startsWith(shown))?.uri ?? shown;
      contacts.push({ aor, uri, status });
    }
    return contacts;
  }

  async waitFor<T>(read: () => Promise<T>, predicate: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    let last: T | undefined;
    return eventually(async () => {
      last = await read();
      return predicate(last) && { value: last };
    }, timeoutMs, () => `${what}; last seen: ${JSON.stringify(last)}`, { maxPollMs: CLI_POLL_MS }).then((v) => v.value);
  }

  async restart(opts: { forgetRegistrations?: boolean } = {}): Promise<void> {
    await this.kill();
    if (opts.forgetRegistrations === true) await rm(join(this.dir, 'lib/astdb.sqlite3'), { force: true });
    try {
      await this.start();
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  logs(): string {
    let full = '';
    try {
      full = readFileSync(join(this.dir, 'log/full'), 'utf8');
    } catch {
      // not written yet
    }
    return `${full}${this.group?.log ?? ''}`;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.kill();
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  /** SIGTERM to the group (Asterisk hangs up its channels and exits), SIGKILL if it lingers. */
  async kill(): Promise<void> {
    await this.group?.stop(STOP_GRACE_MS);
  }

  private failure(message: string, cause?: unknown): Error {
    const tail = this.logs().split('\n').slice(-40).join('\n');
    return new Error(`${message}\n--- asterisk log (tail) ---\n${tail}`, { cause });
  }
}
