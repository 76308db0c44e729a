/**
 * The SDK as a package a web developer installs: built with sdk/build.ts (bundles + tsc declarations) next to
 * sdk/package.json, linked into a consumer project's node_modules as `@callhook/sdk`. The consumer's TypeScript
 * (strict, skipLibCheck off, so our .d.ts files are checked too) must compile against the emitted declarations,
 * misuse must not compile (`@ts-expect-error` lines: types that had collapsed to `any` would fail them), and Node
 * must load both entry points through the package's "exports". Also checks that the committed sdk/dist is what
 * the sources build to.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { buildSdk } from '../../sdk/build.ts';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const CONSUMER_TS = `
import { connect, CallhookError, CALL_STATUSES, Session, type Call, type CallStatusEvent, type ConnectOptions, type MessageResult } from '@callhook/sdk';
import { verifySignature, signCallhook, SIGNATURE_HEADER, type SignatureCheck } from '@callhook/sdk/node';
import { WebSocket } from 'ws';

export async function phone(url: string): Promise<string[]> {
  const options: ConnectOptions = {
    url,
    appKey: 'defaultApp',
    WebSocket,
    sip: { login: 'alice', password: 'pw', domain: 'pbx.test', port: '5060', register: true },
    custom: { token: 't', n: [1, null] },
    reconnect: { attempts: 3, delayMs: 500 },
    media: { iceServers: [{ urls: 'stun:stun.example' }] },
  };
  const log: string[] = [];
  const session: Session = await connect(options);
  session.on('registered', (e) => log.push(e.info));
  session.on('registrationFailed', (e) => log.push(\`\${e.status} \${e.info}\`));
  session.on('disconnected', (e) => log.push(\`\${e.code} \${e.willReconnect}\`));
  session.on('message', (m) => log.push(m.body ?? ''));
  session.on('incomingCall', (call: Call) => {
    void session.answer(call, { audio: true, remoteAudio: document.createElement('audio') });
  });
  const call = session.call({ callee: '1000', video: false, custom: { ref: 1 } });
  call.on('status', (e: CallStatusEvent) => log.push(\`\${e.status} \${e.info?.toUpperCase() ?? ''}\`));
  call.on('transfer', (e) => log.push(e.status));
  call.sendDtmf('1#', 'INFO');
  call.hold();
  call.mute();
  const stats: RTCStatsReport = await call.getStats();
  log.push(String(stats.size));
  const sent: MessageResult = await session.sendMessage({ to: 'bob', body: 'x' });
  const accepted: 'ACCEPTED' = sent.status;
  log.push(accepted, CALL_STATUSES[0]);
  try {
    await session.sendMessage({ to: 'carol', body: 'y' });
  } catch (e) {
    if (e instanceof CallhookError) log.push(e.code, e.info, String(e.sipStatus));
  }
  // @ts-expect-error: not an event of a session
  session.on('ringing', () => undefined);
  // @ts-expect-error: the payload of 'registered' has no callId
  session.on('registered', (e) => e.callId);
  // @ts-expect-error: DTMF types are RFC2833, INFO, INFO_RELAY
  call.sendDtmf('1', 'SIP');
  // @ts-expect-error: callee is required
  session.call({ audio: true });
  // @ts-expect-error: sessions come from connect()
  new Session();
  await session.disconnect();
  return log;
}

export function verify(rawBody: string, header: string | undefined, secret: string): boolean {
  const check: SignatureCheck = verifySignature(rawBody, header, secret);
  // @ts-expect-error: a failed check has a reason, not a message
  if (!check.ok) return check.message;
  return check.ok && SIGNATURE_HEADER === 'X-Callhook-Signature' && signCallhook(rawBody, secret, 1).startsWith('t=1,');
}
`;

/** A page that uses the script-tag bundle's global. */
const GLOBAL_TS = `
/// <reference types="@callhook/sdk/global" />
export async function page(): Promise<string> {
  const session = await Callhook.connect({ url: 'ws://localhost:8080/' });
  // @ts-expect-error: url is required
  await Callhook.connect({});
  return session.userData?.sessionId ?? Callhook.SDK_VERSION;
}
`;

const RUNTIME_MJS = `
import { connect, SDK_VERSION, CallhookError } from '@callhook/sdk';
import { verifySignature, signCallhook } from '@callhook/sdk/node';
const body = '{"appKey":"a"}';
const header = signCallhook(body, 'k', Math.floor(Date.now() / 1000));
const error = await connect({ url: 'http://nope/' }).catch((e) => e);
console.log(JSON.stringify({
  connect: typeof connect,
  version: SDK_VERSION,
  refused: error instanceof CallhookError ? error.code : String(error),
  verified: verifySignature(body, header, 'k'),
  tampered: verifySignature(body + ' ', header, 'k'),
}));
`;

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('the SDK package', { timeout: 120_000 }, () => {
  let dir: string;
  let pkg: string;
  let consumer: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callhook-sdk-package-'));
    pkg = join(dir, 'sdk');
    consumer = join(dir, 'consumer');
    await buildSdk({ outDir: join(pkg, 'dist') });
    await copyFile(join(REPO, 'sdk/package.json'), join(pkg, 'package.json'));
    await mkdir(join(consumer, 'node_modules/@callhook'), { recursive: true });
    await symlink(pkg, join(consumer, 'node_modules/@callhook/sdk'), 'dir');
    await symlink(join(REPO, 'node_modules/@types'), join(consumer, 'node_modules/@types'), 'dir');
    await symlink(join(REPO, 'node_modules/ws'), join(consumer, 'node_modules/ws'), 'dir');
    await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await writeFile(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          types: ['node'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
        },
        files: ['main.ts', 'page.ts'],
      }),
    );
    await writeFile(join(consumer, 'main.ts'), CONSUMER_TS);
    await writeFile(join(consumer, 'page.ts'), GLOBAL_TS);
    await writeFile(join(consumer, 'runtime.mjs'), RUNTIME_MJS);
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('a consumer project type-checks against the emitted declarations (tsc --noEmit, strict, skipLibCheck off)', async () => {
    const result = await run(process.execPath, [TSC, '-p', consumer], { cwd: consumer, timeout: 60_000 }).catch(
      (err: { stdout?: string; stderr?: string }) => ({ failed: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
    );
    assert.ok(!('failed' in result), `tsc reported:\n${'failed' in result ? result.failed : ''}`);
  });

  it('a type error in the consumer is reported against our declarations (the check has teeth)', async () => {
    await writeFile(join(consumer, 'wrong.ts'), "import { connect } from '@callhook/sdk';\nexport const s: number = connect({ url: 'ws://x/' });\n");
    const out = await run(process.execPath, [TSC, '--noEmit', '--strict', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--types', 'node', 'wrong.ts'], {
      cwd: consumer,
      timeout: 60_000,
    }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? '',
    );
    assert.match(out, /wrong\.ts\(2,14\): error TS2322: Type 'Promise<Session>' is not assignable to type 'number'/);
  });

  it('Node loads both entry points through the package exports', async () => {
    const { stdout } = await run(process.execPath, ['runtime.mjs'], { cwd: consumer, timeout: 30_000 });
    const pkgJson = JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { version: string };
    assert.deepEqual(JSON.parse(stdout), {
      connect: 'function',
      version: pkgJson.version,
      refused: 'INVALID_ARGUMENT',
      verified: { ok: true },
      tampered: { ok: false, reason: 'mismatch' },
    });
  });

  it('the committed sdk/dist is what the sources build to (else: node --import tsx sdk/build.ts)', async () => {
    const committed = join(REPO, 'sdk/dist');
    const fresh = join(pkg, 'dist');
    assert.deepEqual(await listFiles(committed), await listFiles(fresh));
    for (const file of await listFiles(fresh)) {
      const [a, b] = await Promise.all([readFile(join(committed, file), 'utf8'), readFile(join(fresh, file), 'utf8')]);
      assert.ok(a === b, `sdk/dist/${file} is stale: run node --import tsx sdk/build.ts`);
    }
  });
});
