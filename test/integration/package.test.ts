/**
 * callhook as an operator installs it: `npm pack` of this repository (its `prepare` compiles src/ to dist/), the
 * tarball installed into an empty directory with npm (from npm's cache where it can: better-sqlite3 compiles its
 * native module there, which takes minutes on a loaded machine), its `callhook` bin put on PATH, then:
 * `callhook --help`, `callhook start` from another empty directory serving the web phone, and a program that
 * embeds the server through `import { startServer } from 'callhook'`, type-checked against the shipped
 * declarations. Nothing here runs the repository's sources: only what the tarball holds. And the README's way to
 * get `callhook` on PATH in a clone: `npm link`, into a private global prefix (nothing system-wide is touched).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ProcessGroup } from '../support/child-process.ts';
import { eventually } from '../support/eventually.ts';
import { freePort, LOOPBACK } from '../support/ports.ts';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
/** `npm pack` compiles the whole server (tsc) first. */
const PACK_TIMEOUT_MS = 300_000;
/** better-sqlite3 has no prebuilt binary offline: node-gyp compiles SQLite (about 3 minutes on 2 loaded cores). */
const INSTALL_TIMEOUT_MS = 600_000;
const COMMAND_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const MAX_BUFFER = 16 << 20;

/** What a package may hold: the compiled server, its bin, the web phone and the admin console it serves, the docs, the licence. */
const RUNTIME = /^(dist\/|bin\/callhook\.js$|web\/(index\.html|webphone\.js|webphone\.css)$|sdk\/dist\/callhook\.m?js$|console\/(index\.html|console\.css|dist\/console\.js)$|docs\/[^/]+\.(md|svg)$|docs\/console\/[^/]+\.png$|README\.md$|LICENSE$|package\.json$|binding\.gyp$|native\/[^/]+\.c$)/;

const EMBED_TS = `
import { startServer, type RunningServer, type StartOptions } from 'callhook';

const options: StartOptions = {
  overrides: { adminPort: 0, wsPort: 0, wsHost: '${LOOPBACK}', localIp: '${LOOPBACK}', sipPort: Number(process.argv[2]), dataDir: process.argv[3] },
  handleSignals: false,
};
const server: RunningServer = await startServer(options);
// @ts-expect-error: a bound port is a number (the declarations resolve to real types, not any)
const wrong: string = server.config.wsPort;
console.log(JSON.stringify({ wsPort: server.wsPort, adminUrl: server.adminUrl, wrong: typeof wrong }));
await server.close();
`;

interface PackedFile {
  path: string;
}

describe('the callhook package', { timeout: PACK_TIMEOUT_MS + INSTALL_TIMEOUT_MS + 120_000 }, () => {
  let dir: string;
  /** The project the tarball is installed into (npm install --prefix). */
  let app: string;
  let files: string[];
  let env: NodeJS.ProcessEnv;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'callhook-package-'));
    app = join(dir, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'embedder', private: true, type: 'module' }));
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO, timeout: PACK_TIMEOUT_MS, maxBuffer: MAX_BUFFER });
    const [pack] = JSON.parse(packed.stdout) as { filename: string; files: PackedFile[] }[];
    assert.ok(pack, `npm pack printed no package: ${packed.stdout}`);
    files = pack.files.map((f) => f.path).sort();
    await run('npm', ['install', '--prefix', app, '--prefer-offline', '--no-audit', '--no-fund', join(dir, pack.filename)], {
      cwd: app,
      timeout: INSTALL_TIMEOUT_MS,
      maxBuffer: MAX_BUFFER,
    });
    // The installed bin first, as a global install or `npm install` + npx would put it.
    env = { ...withoutCallhookSettings(), PATH: [join(app, 'node_modules/.bin'), process.env['PATH']].join(delimiter) };
  }, { timeout: PACK_TIMEOUT_MS + INSTALL_TIMEOUT_MS });

  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('holds the runtime only: the compiled server, its bin, the web phone, the docs, the licence, the media transport\'s C source (built on install)', () => {
    assert.deepEqual(files.filter((f) => !RUNTIME.test(f)), [], 'files that are no part of the runtime');
    for (const needed of ['LICENSE', 'bin/callhook.js', 'dist/bin.js', 'dist/server.js', 'dist/server.d.ts', 'web/index.html', 'sdk/dist/callhook.js', 'console/dist/console.js', 'binding.gyp', 'native/media-transport.c']) {
      assert.ok(files.includes(needed), `${needed} is missing from the package`);
    }
  });

  it('npm link in the clone puts callhook on PATH (the README\'s way after npm ci)', async () => {
    const prefix = join(dir, 'global');
    // --ignore-scripts: `npm pack` above has just compiled dist/, as `npm ci` does in a fresh clone.
    await run('npm', ['link', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: REPO, env: { ...process.env, npm_config_prefix: prefix }, timeout: COMMAND_TIMEOUT_MS, maxBuffer: MAX_BUFFER,
    });
    const linked = { ...withoutCallhookSettings(), PATH: [join(prefix, 'bin'), process.env['PATH']].join(delimiter) };
    const { stdout } = await run('callhook', ['--help'], { cwd: tmpdir(), env: linked, timeout: COMMAND_TIMEOUT_MS });
    assert.match(stdout, /^Usage: callhook /m);
  });

  it('runs without a TypeScript loader: tsx is not installed with it', () => {
    assert.ok(existsSync(join(app, 'node_modules/callhook/dist/server.js')));
    assert.equal(existsSync(join(app, 'node_modules/tsx')), false, 'tsx was installed as a dependency');
  });

  it('callhook --help works from PATH in any directory', async () => {
    const { stdout } = await run('callhook', ['--help'], { cwd: tmpdir(), env, timeout: COMMAND_TIMEOUT_MS });
    assert.match(stdout, /^Usage: callhook /m);
    assert.match(stdout, /\bstart\b/);
  });

  it('callhook start in an empty directory starts, serves the web phone and stops on SIGTERM', async () => {
    const work = await mkdtemp(join(tmpdir(), 'callhook-package-start-'));
    const child = new ProcessGroup('callhook', ['start'], work, {
      ...env,
      CALLHOOK_ADMIN_PORT: '0',
      CALLHOOK_WS_PORT: '0',
      CALLHOOK_WS_HOST: LOOPBACK,
      CALLHOOK_SIP_PORT: String(await freePort('both')),
      CALLHOOK_LOCAL_IP: LOOPBACK,
    });
    try {
      const started = await eventually(
        () => child.status !== undefined || child.log.split('\n').find((l) => l.includes('"callhook started"')),
        START_TIMEOUT_MS,
        () => `"callhook started" (${child.status ?? 'running'}):\n${child.tail(20)}`,
      );
      assert.equal(typeof started, 'string', `callhook exited: ${child.status}\n${child.tail(20)}`);
      const { wsPort } = JSON.parse(started as string) as { wsPort: number };
      const page = await fetch(`http://${LOOPBACK}:${wsPort}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
      const sdk = await fetch(`http://${LOOPBACK}:${wsPort}/callhook.js`);
      assert.equal(sdk.status, 200, 'the SDK bundle the web phone loads');
      assert.ok(existsSync(join(work, 'data')), 'the data directory is made in the working directory');
    } finally {
      await child.stop(STOP_GRACE_MS);
      await child.exited;
      await rm(work, { recursive: true, force: true });
    }
  });

  it("import { startServer } from 'callhook' starts and stops a server, typed", async () => {
    await writeFile(join(app, 'embed.ts'), EMBED_TS);
    // The program is type-checked with the repository's compiler and @types/node (an embedder has its own).
    const typeRoots = [join(REPO, 'node_modules/@types')];
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, typeRoots, types: ['node'], outDir: '.',
        },
        files: ['embed.ts'],
      }),
    );
    await run(process.execPath, [TSC, '-p', app], { cwd: app, timeout: COMMAND_TIMEOUT_MS }).catch((e: { stdout?: string; message: string }) => {
      throw new Error(`the embedding program does not compile against the package's declarations:\n${e.stdout || e.message}`);
    });
    const data = join(dir, 'embed-data');
    const { stdout } = await run(process.execPath, ['embed.js', String(await freePort('both')), data], { cwd: app, env, timeout: COMMAND_TIMEOUT_MS });
    const result = JSON.parse(stdout.split('\n').find((l) => l.includes('"wrong"')) ?? 'null') as { wsPort: number; adminUrl: string; wrong: string };
    assert.ok(result.wsPort > 0, stdout);
    assert.match(result.adminUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(result.wrong, 'number');
  });
});

/** The test process's environment minus any CALLHOOK_* setting a developer may have exported. */
function withoutCallhookSettings(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CALLHOOK_')));
}
