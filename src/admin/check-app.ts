/**
 * `callhook check app KEY` / `POST /api/apps/{key}/check`: walks an app's REST URL the way a hook request would,
 * and says per step what failed and what to do (docs/admin.md "check app"):
 * name resolution, TCP connect, the TLS handshake for https, then one probe POST per enabled method, built and
 * sent exactly like a real hook (the engine's request builder and HTTP client: same URL joining, auth, signature,
 * no redirects, bounded reply), with `"callhookProbe": true` in the body so a backend can tell a probe from
 * traffic. The walk stops at the first network step that fails: the later ones could only repeat its error.
 */
import { lookup } from 'node:dns/promises';
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { HookHttpClient, type HookHttpResult } from '../hooks/http.ts';
import type { HookRequest } from '../hooks/request.ts';
import { JsonDepthError, parseJsonLimited } from '../json/limited-parse.ts';

export interface CheckStep {
  /** `dns`, `tcp`, `tls`, `methods` or `probe`. */
  step: 'dns' | 'tcp' | 'tls' | 'methods' | 'probe';
  /** For `probe` steps: the REST method probed. */
  method?: string;
  ok: boolean;
  /** What was observed, e.g. `127.0.0.1:8081 refused the connection`. */
  detail: string;
  /** What to do about it; present when `ok` is false. */
  advice?: string;
}

export interface CheckReport {
  appKey: string;
  url: string;
  /** True when every step is ok. */
  ok: boolean;
  steps: CheckStep[];
}

export interface CheckAppInput {
  appKey: string;
  /** The app's REST base URL (already validated as http/https). */
  url: string;
  /** Enabled methods, in the order of the REST method table. */
  methods: readonly string[];
  /** Builds the probe request for one method (auth, signature, URL) the way the hook engine does. */
  buildProbe(method: string): HookRequest;
  /** `restRequestTimeoutMs`: a probe slower than this fails like a hook would. */
  requestTimeoutMs: number;
  /** Bound for the TCP connect and TLS handshake (default: min(requestTimeoutMs, 10 s)). */
  connectTimeoutMs?: number;
}

/** An answer slower than this share of `restRequestTimeoutMs` is reported as too close to the limit. */
export const SLOW_SHARE = 0.5;

export async function checkApp(input: CheckAppInput): Promise<CheckReport> {
  const steps: CheckStep[] = [];
  const report = (): CheckReport => ({ appKey: input.appKey, url: input.url, ok: steps.every((s) => s.ok), steps });
  const url = new URL(input.url);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const connectTimeoutMs = input.connectTimeoutMs ?? Math.min(input.requestTimeoutMs, 10_000);

  const dns = await resolveStep(host);
  steps.push(dns.step);
  if (dns.addresses.length === 0) return report();

  const tcp = await connectStep(dns.addresses, port, connectTimeoutMs);
  steps.push(tcp.step);
  if (tcp.address === undefined) return report();

  if (url.protocol === 'https:') {
    const tls = await tlsStep(tcp.address, port, host, connectTimeoutMs);
    steps.push(tls);
    if (!tls.ok) return report();
  }

  if (input.methods.length === 0) {
    steps.push({
      step: 'methods',
      ok: false,
      detail: 'no REST method is enabled for this app, so callhook never calls its backend',
      advice: `enable them with: callhook add app-rest-method -a ${input.appKey}`,
    });
    return report();
  }
  steps.push(...(await probeSteps(input)));
  return report();
}

// ---------------------------------------------------------------------------------------------- name resolution

async function resolveStep(host: string): Promise<{ step: CheckStep; addresses: string[] }> {
  if (isIP(host) !== 0) {
    return { step: { step: 'dns', ok: true, detail: `${host} is an IP address, no lookup needed` }, addresses: [host] };
  }
  try {
    // The same resolver Node's HTTP client uses (getaddrinfo: /etc/hosts, then DNS).
    const found = await lookup(host, { all: true, verbatim: true });
    const addresses = found.map((a) => a.address);
    return { step: { step: 'dns', ok: true, detail: `${host} resolves to ${addresses.join(', ')}` }, addresses };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const detail =
      code === 'ENOTFOUND' || code === 'ENODATA'
        ? `${host} does not resolve (no such name)`
        : code === 'EAI_AGAIN'
          ? `looking up ${host} failed for now (the DNS server did not answer)`
          : `looking up ${host} failed: ${(e as Error).message}`;
    return {
      step: {
        step: 'dns',
        ok: false,
        detail,
        advice:
          'check the host name in the app URL (callhook update app -l URL NAME) and this machine\'s resolver ' +
          '(/etc/resolv.conf, /etc/hosts)',
      },
      addresses: [],
    };
  }
}

// ------------------------------------------------------------------------------------------------- TCP connect

/** How a failed TCP connect reads to a person, with what to do. Exported for unit tests of each case. */
export function explainConnectError(code: string | undefined, target: string, port: number, timeoutMs: number, message: string): { detail: string; advice: string } {
  switch (code) {
    case 'ECONNREFUSED':
      return {
        detail: `${target} refused the connection: the port is closed (nothing listens on it, or a firewall rejects it)`,
        advice:
          `start the backend, or fix the port in the app URL; if the backend runs, make it listen on this address ` +
          `and allow port ${port} in the firewall of its host`,
      };
    case 'ETIMEDOUT':
      return {
        detail: `${target} did not answer within ${timeoutMs} ms: the port is filtered by a firewall (packets dropped) or the host is down`,
        advice: `open port ${port} for this server in the backend host's firewall (and any cloud security group), or check that the host is up`,
      };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return {
        detail: `no route to ${target} (${code})`,
        advice: 'check the address in the app URL and the network path (routing, VPN, firewall) between this server and the backend',
      };
    case 'ECONNRESET':
      return {
        detail: `${target} reset the connection while it was being opened`,
        advice: 'a firewall or proxy in between may be dropping the connection; check its rules',
      };
    default:
      return { detail: `connecting to ${target} failed: ${message}`, advice: 'check the host and port in the app URL' };
  }
}

function connectOnce(address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    });
  });
}

function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Tries the resolved addresses in order, as the HTTP client would fall back; the first that connects wins. */
async function connectStep(addresses: string[], port: number, timeoutMs: number): Promise<{ step: CheckStep; address?: string }> {
  let firstError: NodeJS.ErrnoException | undefined;
  let firstTarget = '';
  for (const address of addresses) {
    const target = hostPort(address, port);
    try {
      const socket = await connectOnce(address, port, timeoutMs);
      socket.destroy();
      return { step: { step: 'tcp', ok: true, detail: `connected to ${target}` }, address };
    } catch (e) {
      if (firstError === undefined) {
        firstError = e as NodeJS.ErrnoException;
        firstTarget = target;
      }
    }
  }
  const { detail, advice } = explainConnectError(firstError?.code, firstTarget, port, timeoutMs, firstError?.message ?? '');
  return { step: { step: 'tcp', ok: false, detail, advice } };
}

// ----------------------------------------------------------------------------------------------- TLS handshake

/** Certificate problems by OpenSSL verify code (openssl-verify(1)), named for people. Exported for unit tests. */
export function explainTlsError(code: string | undefined, host: string, message: string): { detail: string; advice: string } {
  const trustAdvice =
    'use a certificate from a CA this server trusts, or start callhook with NODE_EXTRA_CA_CERTS=<the CA in PEM>';
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return { detail: `the backend's certificate has expired`, advice: 'renew the certificate on the backend' };
    case 'CERT_NOT_YET_VALID':
      return { detail: `the backend's certificate is not valid yet`, advice: 'check the clocks of both hosts, or the certificate dates' };
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
      return { detail: `the backend's certificate is self-signed (${code})`, advice: trustAdvice };
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_GET_ISSUER_CERT':
      return {
        detail: `the backend's certificate chain cannot be verified (${code}): an unknown CA or missing intermediate certificates`,
        advice: `serve the full chain (certificate plus intermediates) on the backend; ${trustAdvice}`,
      };
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return {
        detail: `the backend's certificate is not valid for ${host}`,
        advice: 'use in the app URL a host name the certificate names, or get a certificate for this name',
      };
    case 'ETIMEDOUT':
      return { detail: `no TLS handshake from ${host}: ${message}`, advice: 'check that this port serves TLS (https)' };
    default:
      if (code === 'EPROTO' || /wrong version number|packet length too long|unknown protocol/i.test(message)) {
        return {
          detail: `the port does not speak TLS (${message})`,
          advice: 'use http:// in the app URL if the backend serves plain HTTP, or point the URL at its TLS port',
        };
      }
      return { detail: `TLS handshake failed: ${message}`, advice: 'check the backend\'s TLS configuration and certificate' };
  }
}

function describeCert(cert: PeerCertificate): string {
  const subject = cert.subject?.CN ?? cert.subjectaltname ?? 'unnamed';
  const issuer = cert.issuer?.CN ?? cert.issuer?.O ?? 'unknown issuer';
  return `certificate for ${subject} issued by ${issuer}, valid until ${cert.valid_to}`;
}

function tlsStep(address: string, port: number, host: string, timeoutMs: number): Promise<CheckStep> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: address,
      port,
      // SNI only for names (RFC 6066 §3: literal IP addresses are not permitted in "HostName").
      servername: isIP(host) === 0 ? host : undefined,
      // Verify as the hook client does; for an IP URL the certificate must name that IP.
      checkServerIdentity: (_h, cert) => checkServerIdentity(host, cert),
    });
    const finish = (step: CheckStep): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(step);
    };
    const timer = setTimeout(() => {
      const { detail, advice } = explainTlsError('ETIMEDOUT', host, `no answer within ${timeoutMs} ms`);
      finish({ step: 'tls', ok: false, detail, advice });
    }, timeoutMs);
    socket.once('secureConnect', () => {
      finish({ step: 'tls', ok: true, detail: `${socket.getProtocol() ?? 'TLS'}, ${describeCert(socket.getPeerCertificate())}` });
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const { detail, advice } = explainTlsError(e.code, host, e.message);
      finish({ step: 'tls', ok: false, detail, advice });
    });
  });
}

// -------------------------------------------------------------------------------------------------- probe POSTs

function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 60)}…` : oneLine;
}

/**
 * Interprets one probe's result (the engine's HookHttpClient result) for a person: the step's detail and, when
 * it failed, what to do. Exported for unit tests.
 */
export function explainProbe(appKey: string, method: string, url: string, result: HookHttpResult, requestTimeoutMs: number): CheckStep {
  const step = (ok: boolean, detail: string, advice?: string): CheckStep =>
    advice === undefined ? { step: 'probe', method, ok, detail } : { step: 'probe', method, ok, detail, advice };
  if (result.kind === 'error') {
    if (result.code === 'TIMEOUT') {
      return step(
        false,
        `POST ${url}: no answer within ${requestTimeoutMs} ms (restRequestTimeoutMs)`,
        `the backend's handler for /${method} hangs or is too slow; a hook that times out counts as an error`,
      );
    }
    if (result.code === 'TOO_LARGE') {
      return step(false, `POST ${url}: ${result.error}`, `answer with the JSON body received for /${method} (a mirror), not a page`);
    }
    return step(false, `POST ${url} failed: ${result.error}`, 'check that the backend keeps running and answers HTTP on this URL');
  }
  const { status } = result;
  const latencyMs = Math.round(result.latencyMs);
  const got = `POST ${url} → ${status}${result.statusText ? ` ${result.statusText}` : ''} in ${latencyMs} ms`;
  const disable = `or disable the method: callhook remove app-rest-method ${appKey} ${method}`;
  if (status === 404) {
    return step(false, `${got}: the backend has no handler for /${method}`, `add a handler for POST …/${method} that answers 200 with the JSON it received, ${disable}`);
  }
  if (status === 401 || status === 403) {
    return step(
      false,
      `${got}: the backend refused the request's authentication`,
      'check restUsername/restPassword or restSecret (callhook update app -u USER -p PASS NAME, or -s SECRET) against what the backend expects',
    );
  }
  if (status === 405) {
    return step(false, `${got}: the backend does not accept POST here`, `hooks are POST requests; accept POST on …/${method}`);
  }
  if (status >= 300 && status < 400) {
    const location = result.headers['location'];
    return step(
      false,
      `${got}: redirected${location ? ` to ${location}` : ''}; callhook does not follow redirects`,
      'set the app URL to the final location (callhook update app -l URL NAME)',
    );
  }
  if (status >= 500) {
    return step(false, `${got}: the backend's handler for /${method} failed`, "see the backend's logs for this request");
  }
  if (status !== 200) {
    return step(false, `${got}: a hook is accepted only with 200 and a JSON body`, `answer 200 with the JSON body received for /${method}`);
  }
  let parsed: unknown;
  try {
    // A backend's answer is read with the depth limit of every JSON that crosses a port, so the probe fails
    // where a real hook would.
    parsed = parseJsonLimited(result.bodyText);
  } catch (e) {
    if (e instanceof JsonDepthError) {
      return step(
        false,
        `${got}: the reply nests JSON deeper than ${e.maxDepth} levels, more than callhook accepts`,
        `answer with the JSON body received for /${method} (a mirror), nested at most ${e.maxDepth} levels`,
      );
    }
    const type = result.headers['content-type'] ?? 'no Content-Type';
    return step(
      false,
      `${got}: the reply is not JSON (${type}: ${JSON.stringify(preview(result.bodyText))})`,
      `answer 200 with a JSON object — at least the body received for /${method} (a mirror)`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return step(false, `${got}: the reply is JSON but not an object`, `answer with a JSON object — at least the body received for /${method}`);
  }
  if (latencyMs >= requestTimeoutMs * SLOW_SHARE) {
    return step(
      false,
      `${got}: close to restRequestTimeoutMs (${requestTimeoutMs} ms)`,
      'under load this hook will time out; make the handler faster or raise restRequestTimeoutMs',
    );
  }
  return step(true, got);
}

/** One POST per method, one after another as real hooks come, over the engine's own HTTP client. */
async function probeSteps(input: CheckAppInput): Promise<CheckStep[]> {
  const client = new HookHttpClient();
  try {
    const steps: CheckStep[] = [];
    for (const method of input.methods) {
      const req = input.buildProbe(method);
      const result = await client.send(req, { timeoutMs: input.requestTimeoutMs });
      steps.push(explainProbe(input.appKey, method, req.url, result, input.requestTimeoutMs));
    }
    return steps;
  } finally {
    client.close();
  }
}
