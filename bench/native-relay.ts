/**
 * PROTOTYPE (issue 18): a passthrough relay in native code, to weigh what a media path without JavaScript per packet
 * would cost. N calls; per call the server (a child process) holds two UDP sockets in C (bench/native-relay/relay.c):
 * SRTP from the "browser" is checked and decrypted and sent plain to the "phone"; the phone's RTP is encrypted and
 * sent to the browser's latched address. This process plays both ends: SRTP browsers (src/media/srtp) sending
 * 50 packets/s of PCMU each, and phones echoing every packet like `sipp -rtp_echo`. Prints the server's CPU per
 * packet echoed back to a browser, the figure bench/media-relay.ts and the comparison kit print.
 *
 *   node --import tsx bench/native-relay.ts [calls=100] [windowSeconds=10] [rounds=2]
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SrtpContext, sessionKeys, type SrtpKeys } from '../src/media/srtp/index.ts';
import { serializeRtp } from '../src/media/rtp/packet.ts';
import { g711Packet, LOOPBACK, UdpRtpPeer } from './media-peers.ts';
import { machine } from './hooks-common.ts';

interface CallRequest { id: number; phonePort: number; toServer: SrtpKeys; toBrowser: SrtpKeys }

const newKeys = (): SrtpKeys => ({ suite: 'AES_CM_128_HMAC_SHA1_80', masterKey: randomBytes(16), masterSalt: randomBytes(14) });

if (process.argv[2] === 'server') {
  const relay = createRequire(import.meta.url)('/tmp/proto2/build/Release/relay.node');
  process.on('message', (m: CallRequest | 'cpu') => {
    if (m === 'cpu') {
      const c = process.cpuUsage();
      process.send!({ cpuUs: c.user + c.system, stats: relay.stats() });
      return;
    }
    const k = (keys: SrtpKeys) => {
      const s = sessionKeys(Buffer.from(keys.masterKey), Buffer.from(keys.masterSalt), false);
      return [s.encryption, s.salt, s.authentication];
    };
    const [browserFd, browserPort] = relay.open();
    const [sipFd] = relay.open();
    relay.relay(browserFd, sipFd, m.phonePort, ...k(m.toServer), ...k(m.toBrowser));
    process.send!({ id: m.id, port: browserPort });
  });
  process.send!('ready');
} else {
  const count = Number(process.argv[2] ?? 100);
  const windowSeconds = Number(process.argv[3] ?? 10);
  const rounds = Number(process.argv[4] ?? 2);
  console.log(`machine: ${machine()}, node ${process.version}`);
  for (let round = 1; round <= rounds; round++) console.log(await measure(count, windowSeconds));
}

async function measure(count: number, windowSeconds: number): Promise<string> {
  const child = fork(fileURLToPath(import.meta.url), ['server'], { execArgv: ['--import', 'tsx'] });
  const next = <T>() => new Promise<T>((r) => child.once('message', (m) => r(m as T)));
  await next();
  let echoed = 0;
  let failed = 0;
  const calls: Array<{ socket: Socket; port: number; send: SrtpContext; seq: number; ssrc: number; phone: UdpRtpPeer }> = [];
  for (let id = 0; id < count; id++) {
    const phone = await UdpRtpPeer.open();
    phone.echo = true;
    const toServer = newKeys();
    const toBrowser = newKeys();
    const reply = next<{ port: number }>();
    child.send({ id, phonePort: phone.port, toServer, toBrowser });
    const { port } = await reply;
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, LOOPBACK, r));
    const receive = new SrtpContext(toBrowser);
    socket.on('message', (buf) => {
      if (receive.unprotectRtp(buf)) echoed++;
      else failed++;
    });
    calls.push({ socket, port, send: new SrtpContext(toServer), seq: Math.floor(Math.random() * 65536), ssrc: randomBytes(4).readUInt32BE(), phone });
  }
  const SLOTS = 10;
  let slot = 0;
  let due = performance.now();
  const ticker = setInterval(() => {
    for (; performance.now() >= due; due += 2) {
      for (let i = slot++ % SLOTS; i < calls.length; i += SLOTS) {
        const c = calls[i]!;
        c.socket.send(c.send.protectRtp(serializeRtp(g711Packet(0, c.seq++, c.ssrc))), c.port, LOOPBACK);
      }
    }
  }, 2);
  const cpu = async () => {
    const reply = next<{ cpuUs: number; stats: number[] }>();
    child.send('cpu');
    return reply;
  };
  await sleep(2_000);
  const before = await cpu();
  const echoed0 = echoed;
  const t0 = performance.now();
  await sleep(windowSeconds * 1000);
  const after = await cpu();
  const seconds = (performance.now() - t0) / 1000;
  const n = echoed - echoed0;
  clearInterval(ticker);
  child.kill();
  for (const c of calls) {
    c.socket.close();
    await c.phone.close();
  }
  const cpuUs = after.cpuUs - before.cpuUs;
  return `${count} calls: ${(cpuUs / n).toFixed(1)} µs of the relay's CPU per packet echoed back to a browser, ` +
    `${(cpuUs / seconds / 1e4).toFixed(1)} % of a core, ${(n / seconds).toFixed(0)} echoed/s (${(count * 50)} sent/s), ` +
    `${failed} failed SRTP at the browsers, ${after.stats[1]} dropped by the relay; load average ${loadavg()[0]!.toFixed(2)}`;
}
