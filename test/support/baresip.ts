/**
 * A private baresip (Debian package baresip-core) for the integration tests: a SIP phone that registers on the test
 * Kamailio and answers calls by itself, with no sound card — it sends a sine tone (`ausine`) and drops what it
 * receives (`aubridge` to a device nobody reads). Each startBaresip() gets its own temp config directory and free
 * loopback ports; the call state is read from baresip's `ctrl_tcp` module (netstring-framed JSON events, and
 * commands such as `dial` and `hangup`).
 *
 * baresip 1.0 binds its SIP port for UDP and TCP and the next port up for TLS, so both must be free; a port lost to
 * another process between the check and baresip's bind is retried with new ones.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessGroup } from './child-process.ts';
import { eventually } from './eventually.ts';
import { LOOPBACK, freePort, waitUntilBound } from './ports.ts';

const START_ATTEMPTS = 3;
const STOP_GRACE_MS = 3_000;
const COMMAND_TIMEOUT_MS = 5_000;
/** Each registration check is a control command: at most every 50 ms. */
const CONTROL_POLL_MS = 50;

export interface BaresipOptions {
  /** The account: sip:<user>@<domain>, digest user <user>, password. */
  user: string;
  password: string;
  domain: string;
  /** Where REGISTER and every out-of-dialog request go (the test Kamailio). */
  outboundProxy: { host: string; port: number };
  transport?: 'udp' | 'tcp';
  /** `auto` answers incoming calls at once (the default); `manual` leaves them ringing for an `accept` command. */
  answerMode?: 'auto' | 'manual';
  /** Registration interval in seconds; 0 = do not register. Default 60. */
  regint?: number;
  /** Frequency of the tone baresip sends, Hz; default 440. */
  toneHz?: number;
  /** The codecs baresip offers and accepts, in its order (names as in SDP). Default PCMU, PCMA. */
  audioCodecs?: ReadonlyArray<'PCMU' | 'PCMA' | 'G722'>;
  /**
   * A directory where baresip's sndfile module writes each call's audio as WAV files: `dump-<time>-dec.wav` is what
   * it received, decoded, at the codec's sampling rate (16 kHz for G.722). Default: nothing is recorded.
   */
  recordDir?: string;
  /** How long baresip may take to listen on its control port; default 10000. */
  startTimeoutMs?: number;
  /**
   * SDES SRTP (baresip's `srtp` module): `srtp` offers RTP/AVP with a=crypto and takes plain RTP too (best-effort),
   * `srtp-mand` offers RTP/SAVP and takes SRTP only. Default: none, plain RTP (an RTP/SAVP offer is refused).
   */
  mediaenc?: 'srtp' | 'srtp-mand';
}

/** One ctrl_tcp event, e.g. `{event:true, class:"call", type:"CALL_ESTABLISHED", peeruri:"sip:...", id:"..."}`. */
export interface BaresipEvent {
  type: string;
  class?: string;
  param?: string;
  peeruri?: string;
  id?: string;
  [key: string]: unknown;
}

export interface BaresipResponse {
  ok: boolean;
  data: string;
}

export interface BaresipInstance {
  /** baresip's SIP port on 127.0.0.1 (UDP and TCP). */
  readonly sipPort: number;
  /** sip:<user>@<domain> */
  readonly aor: string;
  /** Every event so far, in order. */
  events(): BaresipEvent[];
  /** The first event of `type` (matching `predicate`) seen so far or still to come; throws after `timeoutMs`. */
  waitForEvent(type: string, timeoutMs: number, predicate?: (e: BaresipEvent) => boolean): Promise<BaresipEvent>;
  /**
   * Resolves once the account is registered (its `reginfo` line shows OK). Registration starts with baresip, before
   * the control connection is open, so its REGISTER_OK event is not among `events()`.
   */
  waitRegistered(timeoutMs: number): Promise<void>;
  /** Sends a ctrl_tcp command (`dial`, `hangup`, `accept`, ...) and resolves with baresip's response. */
  command(command: string, params?: string): Promise<BaresipResponse>;
  /** Everything baresip printed so far (the last MiB). */
  logs(): string;
  /** Stops the process group and removes the config directory. Safe to call twice. */
  stop(): Promise<void>;
}

export type BaresipErrorCode = 'BARESIP_BAD_OPTION' | 'BARESIP_START' | 'BARESIP_EXITED' | 'BARESIP_COMMAND' | 'BARESIP_WAIT_TIMEOUT';

/** A bad option, a failed start or exit, a failed command, or a wait that timed out (message ends with the log tail). */
export class BaresipError extends Error {
  constructor(
    readonly code: BaresipErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BaresipError';
  }
}

export async function startBaresip(opts: BaresipOptions): Promise<BaresipInstance> {
  validate(opts);
  const dir = await mkdtemp(join(tmpdir(), 'callhook-baresip-'));
  try {
    for (let attempt = 1; ; attempt++) {
      const { sipPort, ctrlPort } = await choosePorts();
      await writeConfig(dir, opts, sipPort, ctrlPort);
      const proc = new BaresipProcess(dir, opts, sipPort, ctrlPort);
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

function validate(opts: BaresipOptions): void {
  const bad = (what: string) => {
    throw new BaresipError('BARESIP_BAD_OPTION', `startBaresip: ${what}`);
  };
  // Values go into baresip's config and accounts files: nothing that would end a line or a parameter.
  if (!/^[A-Za-z0-9._-]+$/.test(opts.user)) bad(`user must be letters, digits, . _ -; got ${JSON.stringify(opts.user)}`);
  if (!/^[A-Za-z0-9.-]+$/.test(opts.domain)) bad(`domain must be a host name; got ${JSON.stringify(opts.domain)}`);
  if (/[;"\s<>,]/.test(opts.password) || opts.password === '') bad('password must be non-empty without ; " < > , or spaces');
  const regint = opts.regint ?? 60;
  if (!Number.isInteger(regint) || regint < 0) bad(`regint must be a non-negative integer; got ${regint}`);
  if (opts.recordDir !== undefined && !/^\/[^\s;"<>,]*$/.test(opts.recordDir)) bad(`recordDir must be an absolute path without spaces; got ${JSON.stringify(opts.recordDir)}`);
  if (opts.audioCodecs !== undefined && opts.audioCodecs.length === 0) bad('audioCodecs must name at least one codec');
  const tone = opts.toneHz ?? 440;
  if (!Number.isInteger(tone) || tone < 10 || tone > 20_000) bad(`toneHz must be 10-20000 (ausine's range); got ${tone}`);
}

/** A SIP port free for UDP and TCP whose next port is free for TCP (baresip's TLS listener), and a control port. */
async function choosePorts(): Promise<{ sipPort: number; ctrlPort: number }> {
  for (let i = 0; i < 20; i++) {
    const sipPort = await freePort('both');
    if (sipPort >= 65535) continue;
    const ctrlPort = await freePort('tcp');
    if (ctrlPort === sipPort + 1 || !(await tcpPortFree(sipPort + 1))) continue;
    return { sipPort, ctrlPort };
  }
  throw new BaresipError('BARESIP_START', 'no free pair of SIP ports found on 127.0.0.1');
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: LOOPBACK, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * baresip's `config` (one setting per line: audio without a sound card, media and SIP on loopback, the modules
 * needed and no others) and `accounts` (the registration, auto-answer, outbound proxy).
 */
async function writeConfig(dir: string, opts: BaresipOptions, sipPort: number, ctrlPort: number): Promise<void> {
  const config = [
    'poll_method epoll',
    `sip_listen ${LOOPBACK}:${sipPort}`,
    // Media and Contact on loopback, not the first network interface's address.
    `net_interface ${LOOPBACK}`,
    'call_local_timeout 120',
    'call_max_calls 4',
    // ausine produces 48 kHz stereo only; baresip resamples for G.711.
    `audio_source ausine,${opts.toneHz ?? 440}`,
    'ausrc_srate 48000',
    'ausrc_channels 2',
    // aubridge pairs a player with a source of the same device name; nobody reads "callhook-null": dropped.
    'audio_player aubridge,callhook-null',
    'audio_alert aubridge,callhook-null',
    'audio_level no',
    'rtcp_mux no',
    'jitter_buffer_delay 5-10',
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module g722.so',
    'module ausine.so',
    ...(opts.recordDir === undefined ? [] : ['module sndfile.so', `snd_path ${opts.recordDir}`]),
    'module aubridge.so',
    ...(opts.mediaenc ? ['module srtp.so'] : []),
    'module_tmp account.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen ${LOOPBACK}:${ctrlPort}`,
    '',
  ].join('\n');
  const transport = opts.transport ?? 'udp';
  const proxy = `sip:${opts.outboundProxy.host}:${opts.outboundProxy.port};transport=${transport}`;
  const account = [
    `<sip:${opts.user}@${opts.domain};transport=${transport}>`,
    `auth_pass=${opts.password}`,
    `outbound="${proxy}"`,
    `regint=${opts.regint ?? 60}`,
    `answermode=${opts.answerMode ?? 'auto'}`,
    // baresip names its codecs by sampling rate: G.722's is 16000 (its SDP clock rate of 8000 does not find it).
    `audio_codecs=${(opts.audioCodecs ?? ['PCMU', 'PCMA']).map((c) => (c === 'G722' ? 'G722/16000/1' : c)).join(',')}`,
    'medianat=',
    `mediaenc=${opts.mediaenc ?? ''}`,
  ].join(';');
  await writeFile(join(dir, 'config'), config);
  await writeFile(join(dir, 'accounts'), `${account}\n`);
  await writeFile(join(dir, 'contacts'), '');
}

class BaresipProcess implements BaresipInstance {
  readonly aor: string;
  private readonly group: ProcessGroup;
  private control: Socket | undefined;
  private inbound = Buffer.alloc(0);
  private readonly seen: BaresipEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly pending = new Map<string, (r: BaresipResponse) => void>();
  private tokens = 0;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    opts: BaresipOptions,
    readonly sipPort: number,
    private readonly ctrlPort: number,
  ) {
    this.aor = `sip:${opts.user}@${opts.domain}`;
    this.group = new ProcessGroup('baresip', ['-f', dir], dir);
    void this.group.exited.then(() => {
      this.control?.destroy();
      this.wakeAll();
    });
  }

  /** Ready once ctrl_tcp listens and our control connection is open. */
  async waitReady(timeoutMs: number): Promise<void> {
    try {
      await waitUntilBound('tcp', this.ctrlPort, { timeoutMs, stillRunning: () => this.group.status === undefined });
    } catch (err) {
      throw this.failure('BARESIP_START', `baresip did not start: ${(err as Error).message}`);
    }
    this.control = await new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: LOOPBACK, port: this.ctrlPort }, () => resolve(socket));
      socket.once('error', (err) => reject(this.failure('BARESIP_START', `ctrl_tcp connection failed: ${err.message}`)));
    });
    this.control.on('data', (chunk: Buffer) => this.receive(chunk));
    this.control.on('error', () => undefined);
  }

  events(): BaresipEvent[] {
    return [...this.seen];
  }

  async waitForEvent(type: string, timeoutMs: number, predicate: (e: BaresipEvent) => boolean = () => true): Promise<BaresipEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.seen.find((e) => e.type === type && predicate(e));
      if (found) return found;
      if (this.group.status !== undefined) throw this.failure('BARESIP_EXITED', `baresip ${this.group.status} while waiting for ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        const types = this.seen.map((e) => e.type).join(', ');
        throw this.failure('BARESIP_WAIT_TIMEOUT', `no ${type} event within ${timeoutMs} ms (seen: ${types || 'none'})`);
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  async waitRegistered(timeoutMs: number): Promise<void> {
    let reginfo = '';
    try {
      await eventually(async () => {
        reginfo = (await this.command('reginfo')).data;
        // "> sip:carol@callhook.test   OK  callhook-test-kamailio Expires 60s" (with colour codes around OK).
        return /\bOK\b/.test(reginfo.replace(/\u001b\[[0-9;]*m/g, ''));
      }, timeoutMs, () => `the registration: ${reginfo}`, { maxPollMs: CONTROL_POLL_MS });
    } catch (err) {
      throw err instanceof BaresipError ? err : this.failure('BARESIP_WAIT_TIMEOUT', (err as Error).message);
    }
  }

  command(command: string, params?: string): Promise<BaresipResponse> {
    const control = this.control;
    if (control === undefined || this.group.status !== undefined) {
      return Promise.reject(this.failure('BARESIP_EXITED', `baresip is not running (${this.group.status ?? 'no control connection'})`));
    }
    const token = String(++this.tokens);
    const json = JSON.stringify({ command, ...(params !== undefined && { params }), token });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(this.failure('BARESIP_COMMAND', `no response to ${command} within ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(token, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      control.write(`${Buffer.byteLength(json)}:${json},`);
    });
  }

  logs(): string {
    return this.group.log;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.kill();
      await rm(this.dir, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  async kill(): Promise<void> {
    this.control?.destroy();
    await this.group.stop(STOP_GRACE_MS);
  }

  /** Netstrings (`<length>:<json>,`) from ctrl_tcp: events (`event: true`) and command responses (`response: true`). */
  private receive(chunk: Buffer): void {
    this.inbound = Buffer.concat([this.inbound, chunk]);
    for (;;) {
      const colon = this.inbound.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(this.inbound.subarray(0, colon).toString('latin1'));
      if (!Number.isInteger(length)) {
        this.inbound = Buffer.alloc(0);
        return;
      }
      if (this.inbound.length < colon + 1 + length + 1) return;
      const json = this.inbound.subarray(colon + 1, colon + 1 + length).toString('utf8');
      this.inbound = this.inbound.subarray(colon + 1 + length + 1);
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(json) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (message['event'] === true) {
        this.seen.push(message as BaresipEvent);
        this.wakeAll();
      } else if (message['response'] === true) {
        const token = String(message['token'] ?? '');
        this.pending.get(token)?.({ ok: message['ok'] === true, data: String(message['data'] ?? '') });
        this.pending.delete(token);
      }
    }
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }

  private failure(code: BaresipErrorCode, message: string): BaresipError {
    return new BaresipError(code, `${message}\n--- baresip log (tail) ---\n${this.group.tail(30)}`);
  }
}
