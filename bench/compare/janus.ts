/**
 * Janus (Debian's `janus` package) for the comparison kit: a private instance from a configuration written into a
 * temp directory (never /etc/janus or the system service), with only the SIP plugin and the WebSocket transport
 * loaded. ICE gathers on `iceInterface` alone: Janus leaves loopback out of its host candidates, so the kit gives it
 * a veth address inside the namespace (bench/compare/namespace.ts).
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessGroup } from '../../test/support/child-process.ts';
import { waitUntilBound } from '../../test/support/ports.ts';

const LIB = '/usr/lib/x86_64-linux-gnu/janus';
const KEEP_PLUGINS = new Set(['libjanus_sip.so']);
const KEEP_TRANSPORTS = new Set(['libjanus_websockets.so']);
const START_TIMEOUT_MS = 15_000;

export interface JanusOptions {
  wsPort: number;
  /** Address the SIP plugin binds SIP and RTP to. */
  sipIp: string;
  /** Interface ICE gathers on (ice_enforce_list). */
  iceInterface: string;
}

export interface JanusInstance {
  readonly wsUrl: string;
  readonly pid: number;
  readonly version: string;
  log(): string;
  stop(): Promise<void>;
}

/** The other plugins and transports, by file name: Janus loads every library in its folders unless told not to. */
async function othersThan(folder: string, keep: Set<string>): Promise<string> {
  const files = await readdir(join(LIB, folder));
  return files.filter((f) => f.endsWith('.so') && !keep.has(f)).join(',');
}

export async function startJanus(o: JanusOptions): Promise<JanusInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'callhook-compare-janus-'));
  await writeFile(join(dir, 'janus.jcfg'), `
general: {
  configs_folder = "${dir}"
  plugins_folder = "${LIB}/plugins"
  transports_folder = "${LIB}/transports"
  events_folder = "${LIB}/events"
  loggers_folder = "${LIB}/loggers"
  # Warnings and errors only, as bench/server-process.ts logs callhook (per-session info lines cost CPU).
  debug_level = 3
  # Clients send keepalives (every 25 s, as janus.js does); a session without them ends after 60 s.
  session_timeout = 60
}
plugins: { disable = "${await othersThan('plugins', KEEP_PLUGINS)}" }
transports: { disable = "${await othersThan('transports', KEEP_TRANSPORTS)}" }
events: { broadcast = false }
media: { rtp_port_range = "20000-29999" }
nat: { ice_enforce_list = "${o.iceInterface}" nice_debug = ${process.env["KIT_NICE_DEBUG"] ? "true" : "false"} }
`);
  await writeFile(join(dir, 'janus.transport.websockets.jcfg'), `
general: { json = "compact" ws = true ws_port = ${o.wsPort} ws_ip = "127.0.0.1" wss = false }
admin: { admin_ws = false admin_wss = false }
`);
  await writeFile(join(dir, 'janus.plugin.sip.jcfg'), `
general: {
  local_ip = "${o.sipIp}"
  sdp_ip = "${o.sipIp}"
  keepalive_interval = 0
  behind_nat = false
  register_ttl = 3600
  rtp_port_range = "30000-39999"
  events = false
}
`);
  const group = new ProcessGroup('janus', ['-C', join(dir, 'janus.jcfg'), '-F', dir, '-o'], dir);
  try {
    // Janus loads its plugins before its transports: once the WebSocket port is bound, the SIP plugin is there.
    await waitUntilBound('tcp', o.wsPort, { timeoutMs: START_TIMEOUT_MS, stillRunning: () => group.status === undefined });
  } catch (err) {
    await group.stop(2_000);
    await rm(dir, { recursive: true, force: true });
    throw new Error(`Janus did not start: ${group.status ?? 'running'}\n${group.tail(30)}`, { cause: err });
  }
  const version = /Janus version: \d+ \(([^)]+)\)/.exec(group.log)?.[1] ?? 'unknown';
  return {
    wsUrl: `ws://127.0.0.1:${o.wsPort}/`,
    pid: group.pid!,
    version,
    log: () => group.log,
    async stop() {
      await group.stop(5_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
