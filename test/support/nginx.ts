/**
 * nginx (the Debian package) as the TLS reverse proxy of docs/deploy.md, run the way the suite runs its other peers:
 * a foreground process (`daemon off`) in its own process group, with a scratch directory as its prefix holding the
 * configuration, the pid file, the logs, the temp files and a self-signed certificate made by `openssl req -x509`,
 * listening on a free loopback port. The `http` block is docs/deploy.md's nginx block itself, with only its
 * listen address, upstream and certificate paths replaced, so the documented recipe is what the test runs.
 * `startNginxBalancer` does the same with docs/scaling.md's block: plain HTTP in front of one callhook per core.
 */
import { execFile } from 'node:child_process';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ProcessGroup } from './child-process.ts';
import { freePort, LOOPBACK, waitUntilBound } from './ports.ts';

const DEPLOY_DOC = resolve(import.meta.dirname, '../../docs/deploy.md');
const SCALING_DOC = resolve(import.meta.dirname, '../../docs/scaling.md');
const NGINX = '/usr/sbin/nginx';
const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

export interface NginxProxy {
  /** `wss://127.0.0.1:<port>` (startNginxProxy) or `ws://127.0.0.1:<port>` (startNginxBalancer) */
  readonly url: string;
  readonly port: number;
  /** The configuration nginx runs (the doc's block inside the test's wrapper). */
  readonly config: string;
  readonly process: ProcessGroup;
  /** The access log so far. */
  accessLog(): Promise<string>;
  stop(): Promise<void>;
}

/** The first ```nginx block of docs/deploy.md (or of `docPath`). */
export async function documentedNginxBlock(docPath = DEPLOY_DOC): Promise<string> {
  const doc = await readFile(docPath, 'utf8');
  const block = /^```nginx\n([\s\S]*?)^```$/m.exec(doc)?.[1];
  if (block === undefined) throw new Error(`no \`\`\`nginx block in ${docPath}`);
  return block;
}

/** Replaces `from` by `to` in `text`, insisting that the doc still has it (else the test would run another config). */
function swap(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the documented nginx block no longer contains "${from}": update test/support/nginx.ts`);
  return text.split(from).join(to);
}

/** Starts nginx in front of callhook's `ws://127.0.0.1:<upstreamPort>`; resolves once it listens. */
export async function startNginxProxy(upstreamPort: number): Promise<NginxProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'callhook-nginx-'));
  try {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    await promisify(execFile)('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', `subjectAltName=DNS:localhost,IP:${LOOPBACK}`, '-keyout', key, '-out', cert,
    ]);
    const port = await freePort('tcp');
    let block = await documentedNginxBlock();
    block = swap(block, 'listen 443 ssl;', `listen ${LOOPBACK}:${port} ssl;`);
    block = swap(block, '/etc/letsencrypt/live/phone.example.com/fullchain.pem', cert);
    block = swap(block, '/etc/letsencrypt/live/phone.example.com/privkey.pem', key);
    block = swap(block, 'http://127.0.0.1:8080', `http://${LOOPBACK}:${upstreamPort}`);
    return await runNginx(dir, block, port, `wss://${LOOPBACK}:${port}`);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * docs/scaling.md's block in front of callhook processes on `upstreamPorts` (one per core), listening on a free
 * loopback port with plain HTTP; resolves once it listens.
 */
export async function startNginxBalancer(upstreamPorts: readonly [number, number]): Promise<NginxProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'callhook-nginx-'));
  try {
    const port = await freePort('tcp');
    let block = await documentedNginxBlock(SCALING_DOC);
    block = swap(block, 'listen 80;', `listen ${LOOPBACK}:${port};`);
    block = swap(block, 'server 127.0.0.1:8080;', `server ${LOOPBACK}:${upstreamPorts[0]};`);
    block = swap(block, 'server 127.0.0.1:8081;', `server ${LOOPBACK}:${upstreamPorts[1]};`);
    return await runNginx(dir, block, port, `ws://${LOOPBACK}:${port}`);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** nginx on `block` in the scratch directory `dir`, which stop() removes. */
async function runNginx(dir: string, block: string, port: number, url: string): Promise<NginxProxy> {
  // What a packaged nginx.conf provides around the block, kept inside the scratch directory.
  const config = [
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${join(dir, 'error.log')} info;`,
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${join(dir, 'access.log')};`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, `${t}_temp`)};`),
    block,
    '}',
    '',
  ].join('\n');
  const file = join(dir, 'nginx.conf');
  await writeFile(file, config);
  const child = new ProcessGroup(NGINX, ['-p', dir, '-c', file, '-e', join(dir, 'error.log'), '-g', 'daemon off;'], dir);
  try {
    await waitUntilBound('tcp', port, { timeoutMs: START_TIMEOUT_MS, stillRunning: () => child.status === undefined });
  } catch (err) {
    const errors = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
    await child.stop(STOP_GRACE_MS);
    throw new Error(`nginx did not start (${child.status ?? 'running'}): ${child.log}\n${errors}`, { cause: err });
  }
  return {
    url,
    port,
    config,
    process: child,
    accessLog: () => readFile(join(dir, 'access.log'), 'utf8').catch(() => ''),
    stop: async () => {
      await child.stop(STOP_GRACE_MS);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
