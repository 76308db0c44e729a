/**
 * How callhook serves the web phone on wsPort (src/client-api/web-phone.ts): the page, its script and stylesheet,
 * and the SDK bundles, each with its content type and the page's security headers; anything else 404, whatever
 * the path tries (`..`, encoded dots, backslashes, the repository's real paths); only GET and HEAD. Plus the
 * page script type-checks against the SDK's declarations (web/tsconfig.json), and the WebSocket still upgrades
 * on `/` next to the page.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer, TestClient, type TestServer } from '../support/ws-client.ts';

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the target sent exactly as given (fetch would normalise `..` and `%2e` away before sending). */
function rawGet(port: number, target: string, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, method, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${target}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

describe('the web phone as callhook serves it', () => {
  let ts: TestServer;
  let port: number;

  before(async () => {
    ts = await startTestServer();
    port = ts.server.wsPort;
  });
  after(async () => {
    await ts?.stop();
  });

  it('serves the page, its script and stylesheet, and the SDK bundles, byte for byte with their content types', async () => {
    const files: Array<[string, string, RegExp]> = [
      ['/', 'web/index.html', /^text\/html; charset=utf-8$/],
      ['/index.html', 'web/index.html', /^text\/html; charset=utf-8$/],
      ['/webphone.js', 'web/webphone.js', /^text\/javascript; charset=utf-8$/],
      ['/webphone.css', 'web/webphone.css', /^text\/css; charset=utf-8$/],
      ['/callhook.js', 'sdk/dist/callhook.js', /^text\/javascript; charset=utf-8$/],
      ['/callhook.mjs', 'sdk/dist/callhook.mjs', /^text\/javascript; charset=utf-8$/],
      ['/?from=bookmark', 'web/index.html', /^text\/html/],
    ];
    for (const [target, file, type] of files) {
      const res = await rawGet(port, target);
      assert.equal(res.status, 200, target);
      assert.match(String(res.headers['content-type']), type, target);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', target);
      assert.equal(res.body, await readFile(repo(file), 'utf8'), `${target} is ${file}`);
    }
  });

  it('the page: the script and styles it loads are served, and its headers forbid framing and foreign scripts', async () => {
    const res = await rawGet(port, '/');
    const csp = String(res.headers['content-security-policy']);
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self' ws: wss:", "frame-ancestors 'none'"]) {
      assert.ok(csp.split('; ').includes(directive), `CSP has ${directive}: ${csp}`);
    }
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    const linked = [...res.body.matchAll(/(?:src|href)="(\/[^"]*)"/g)].map((m) => m[1]!);
    assert.deepEqual(linked.sort(), ['/callhook.js', '/webphone.css', '/webphone.js']);
    for (const path of linked) assert.equal((await rawGet(port, path)).status, 200, path);
    assert.doesNotMatch(res.body, /<script>|<style>|\son\w+=/, 'no inline script, style or handler (the CSP would block them)');
  });

  it('anything else is 404: other names, directory tricks, the repository paths behind the files', async () => {
    const targets = [
      '/favicon.ico',
      '/web/index.html',
      '/sdk/dist/callhook.js',
      '/../package.json',
      '/..%2fpackage.json',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/web/../package.json',
      '/.%2e/src/server.ts',
      '/webphone.js/',
      '/webphone.js%00.html',
      '/WEBPHONE.JS',
      '/..\\package.json',
      '//etc/passwd',
      '/index.html/../../package.json',
      'http://127.0.0.1/../package.json',
      '*',
    ];
    for (const target of targets) {
      const res = await rawGet(port, target);
      assert.equal(res.status, 404, target);
      assert.equal(res.body, 'not found\n', target);
    }
  });

  it('only GET and HEAD: HEAD has the headers and no body, other methods 405 with Allow', async () => {
    const head = await rawGet(port, '/webphone.css', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(Number(head.headers['content-length']), (await readFile(repo('web/webphone.css'))).length);
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const res = await rawGet(port, '/', method);
      assert.equal(res.status, 405, method);
      assert.equal(res.headers['allow'], 'GET, HEAD', method);
    }
  });

  it('the WebSocket endpoint still upgrades on / next to the page', async () => {
    const client = await TestClient.open(ts.wsUrl);
    client.send('connection', { appKey: 'defaultApp' });
    assert.equal((await client.next()).message, 'getUserData');
    await client.close();
  });

  it('the page script type-checks against the SDK declarations (tsc -p web)', async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const result = await promisify(execFile)(process.execPath, [tsc, '-p', repo('web')], { timeout: 120_000 }).then(
      () => '',
      (err: { stdout?: string; message: string }) => err.stdout || err.message,
    );
    assert.equal(result, '', 'tsc -p web reports no error');
  });
});
