/**
 * The server as a user runs it (`callhook start`, what `npm start` runs), in a child process: it answers SIP
 * OPTIONS with 200 over UDP and TCP (RFC 3261 §11.2), survives garbage on its SIP port, refuses a bad
 * configuration naming the key, loads libdatachannel only when a call needs it, and stops cleanly on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CALLHOOK_CLI } from '../support/callhook-cli.ts';
import { eventually } from '../support/eventually.ts';
import { freePort } from '../support/ports.ts';

function options(port: number, transport: 'UDP' | 'TCP', branch: string): Buffer {
  return Buffer.from(
    [
      `OPTIONS sip:callhook@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/${transport} 127.0.0.1:9;branch=z9hG4bK${branch};rport`,
      'Max-Forwards: 70',
      `To: <sip:callhook@127.0.0.1:${port}>`,
      'From: <sip:probe@127.0.0.1>;tag=probe1',
      `Call-ID: ${branch}@127.0.0.1`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}

/** Sends datagrams from one socket and resolves with the first reply (or undefined after `ms`). */
async function udpExchange(port: number, datagrams: Buffer[], ms = 3000): Promise<string | undefined> {
  const socket = createSocket('udp4');
  await new Promise<void>((res) => socket.bind(0, '127.0.0.1', res));
  try {
    return await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), ms);
      socket.on('message', (m) => {
        clearTimeout(timer);
        resolve(m.toString('utf8'));
      });
      for (const d of datagrams) socket.send(d, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

async function tcpExchange(port: number, data: Buffer, ms = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TCP answer within ${ms} ms; got ${JSON.stringify(text)}`));
    }, ms);
    socket.on('data', (d) => {
      text += d.toString('utf8');
      if (text.includes('\r\n\r\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
    socket.write(data);
  });
}

function run(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [...CALLHOOK_CLI, 'start'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, output: () => out, exited };
}

describe('callhook start (the server process)', () => {
  let dataDir: string;
  let sipPort: number;
  let server: ReturnType<typeof run>;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'callhook-start-'));
    sipPort = await freePort('both');
    server = run({
      CALLHOOK_SIP_PORT: String(sipPort),
      CALLHOOK_WS_PORT: String(await freePort('tcp')),
      CALLHOOK_ADMIN_PORT: String(await freePort('tcp')),
      CALLHOOK_DATA_DIR: dataDir,
      CALLHOOK_LOCAL_IP: '127.0.0.1',
      CALLHOOK_LOG_LEVEL: 'info',
    });
    // Ready when OPTIONS is answered and the start is logged as complete (from then on a stop signal is handled);
    // bounded: 20 s for tsx to compile and the server to bind.
    let answered = false;
    await eventually(async () => {
      answered ||= (await udpExchange(sipPort, [options(sipPort, 'UDP', 'ready' + Date.now())], 250)) !== undefined;
      return answered && server.output().includes('"msg":"callhook started"');
    }, 20_000, () => `the server to answer OPTIONS and log its start:\n${server.output()}`);
  });
  after(async () => {
    server?.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers OPTIONS with 200, Allow and Accept over UDP', async () => {
    const reply = await udpExchange(sipPort, [options(sipPort, 'UDP', 'udp1')]);
    assert.ok(reply, 'an answer');
    assert.match(reply, /^SIP\/2\.0 200 OK\r\n/);
    assert.match(reply, /\r\nAllow: [^\r]*OPTIONS/);
    assert.match(reply, /\r\nAccept: /);
    assert.match(reply, /;received=127\.0\.0\.1/);
  });

  it('answers OPTIONS with 200 over TCP', async () => {
    const reply = await tcpExchange(sipPort, options(sipPort, 'TCP', 'tcp1'));
    assert.match(reply, /^SIP\/2\.0 200 OK\r\n/);
  });

  it('keeps serving after garbage, truncated, oversized and non-UTF-8 input (400 where it can answer)', async () => {
    const good = options(sipPort, 'UDP', 'bad1').toString();
    const noLength = good.replace('Content-Length: 0\r\n', 'Content-Length: 500\r\n');
    const notUtf8 = Buffer.concat([Buffer.from(good.replace('From: <sip:probe', 'From: "\u0000')), Buffer.from([0xff, 0xfe])]);
    const reply = await udpExchange(sipPort, [Buffer.from(noLength)]);
    assert.match(reply ?? '', /^SIP\/2\.0 400 /, 'a wrong Content-Length is answered 400 with its reason');
    await udpExchange(sipPort, [
      Buffer.from('\u0001\u0002 garbage'),
      Buffer.from(good.slice(0, 40)),
      notUtf8,
      Buffer.alloc(70_000, 'A'),
      Buffer.from(good.replace('CSeq: 1 OPTIONS', `X-Big: ${'x'.repeat(66_000)}\r\nCSeq: 1 OPTIONS`)),
    ], 300);
    const after = await udpExchange(sipPort, [options(sipPort, 'UDP', 'after1')]);
    assert.match(after ?? '', /^SIP\/2\.0 200 OK/);
    assert.equal(server.child.exitCode, null, 'still running');
  });

  it('holds no libdatachannel while no call was made: node-datachannel loads at the first WebRTC leg (idle RSS)', async () => {
    const maps = await readFile(`/proc/${server.child.pid}/maps`, 'utf8');
    assert.doesNotMatch(maps, /node_datachannel\.node/);
  });

  it('stops cleanly on SIGTERM', async () => {
    server.child.kill('SIGTERM');
    const code = await Promise.race([server.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
    assert.equal(code, 0, server.output());
  });
});

describe('callhook start with a bad configuration', () => {
  it('stops with exit code 1 and names the key, the value and what is allowed', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'callhook-badcfg-'));
    try {
      const p = run({ CALLHOOK_SIP_PORT: '99999', CALLHOOK_DATA_DIR: dataDir });
      const code = await Promise.race([p.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
      assert.equal(code, 1);
      assert.match(p.output(), /sipPort \(got 99999\)/);
      assert.match(p.output(), /65535/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('callhook start where libdatachannel cannot load', () => {
  const withoutLibdatachannel = `--import=${fileURLToPath(new URL('../support/without-libdatachannel.mjs', import.meta.url))}`;

  async function start(extra: Record<string, string>): Promise<{ p: ReturnType<typeof run>; sipPort: number; dataDir: string }> {
    const dataDir = await mkdtemp(join(tmpdir(), 'callhook-nolib-'));
    const sipPort = await freePort('both');
    const p = run({
      NODE_OPTIONS: withoutLibdatachannel,
      CALLHOOK_SIP_PORT: String(sipPort),
      CALLHOOK_WS_PORT: String(await freePort('tcp')),
      CALLHOOK_ADMIN_PORT: String(await freePort('tcp')),
      CALLHOOK_DATA_DIR: dataDir,
      CALLHOOK_LOCAL_IP: '127.0.0.1',
      ...extra,
    });
    return { p, sipPort, dataDir };
  }

  it('with webrtcEngine libdatachannel: exit 1, naming node-datachannel and the werift way out', async () => {
    const { p, dataDir } = await start({ CALLHOOK_WEBRTC_ENGINE: 'libdatachannel' });
    try {
      const code = await Promise.race([p.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
      assert.equal(code, 1, p.output());
      assert.match(p.output(), /could not load node-datachannel \(Cannot find package node-datachannel \(test\)\); set webrtcEngine to "werift"/);
    } finally {
      p.child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('with webrtcEngine werift: starts and serves', async () => {
    const { p, sipPort, dataDir } = await start({ CALLHOOK_WEBRTC_ENGINE: 'werift' });
    try {
      const answer = await eventually(() => udpExchange(sipPort, [options(sipPort, 'UDP', `nolib${Date.now()}`)], 250), 20_000, () => `an answer to OPTIONS:\n${p.output()}`);
      assert.match(answer, /^SIP\/2\.0 200 OK/, p.output());
    } finally {
      p.child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
