/**
 * The SDK's small pieces: the typed emitter, the `connection` fields built from the options, the ids it makes,
 * and the version it reports.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { connectionFields } from '../../sdk/src/connection-fields.ts';
import { Emitter, SDK_VERSION } from '../../sdk/src/index.ts';
import { newId } from '../../sdk/src/ids.ts';
import { eventually } from '../support/eventually.ts';

interface Events {
  ping: { n: number };
  other: string;
}

class TestEmitter extends Emitter<Events> {
  fire<K extends keyof Events>(event: K, payload: Events[K]): void {
    this.emit(event, payload);
  }
}

/** Runs `fn` with node:test's uncaughtException handlers set aside, collecting what is thrown until `expected` were. */
async function catchingUncaught(fn: () => void, expected: number): Promise<unknown[]> {
  const saved = process.listeners('uncaughtException');
  process.removeAllListeners('uncaughtException');
  const caught: unknown[] = [];
  const collect = (err: unknown) => caught.push(err);
  process.on('uncaughtException', collect);
  try {
    fn();
    await eventually(() => caught.length >= expected, 2000, `${expected} uncaught errors`);
  } finally {
    process.off('uncaughtException', collect);
    for (const l of saved) process.on('uncaughtException', l);
  }
  return caught;
}

describe('Emitter', () => {
  it('calls the listeners of an event in order, with the payload', () => {
    const e = new TestEmitter();
    const seen: string[] = [];
    e.on('ping', (p) => seen.push(`a${p.n}`));
    e.on('ping', (p) => seen.push(`b${p.n}`));
    e.on('other', (s) => seen.push(s));
    e.fire('ping', { n: 1 });
    e.fire('other', 'x');
    assert.deepEqual(seen, ['a1', 'b1', 'x']);
  });

  it('on() returns an unsubscribe function; off() removes; once() fires once', () => {
    const e = new TestEmitter();
    const seen: number[] = [];
    const unsubscribe = e.on('ping', (p) => seen.push(p.n));
    const listener = (p: { n: number }) => seen.push(p.n * 10);
    e.on('ping', listener);
    e.once('ping', (p) => seen.push(p.n * 100));
    e.fire('ping', { n: 1 });
    unsubscribe();
    e.off('ping', listener);
    e.fire('ping', { n: 2 });
    assert.deepEqual(seen, [1, 10, 100]);
  });

  it('a listener that throws does not stop the others; its error is rethrown on its own task', async () => {
    const e = new TestEmitter();
    const seen: number[] = [];
    const boom = new Error('listener bug');
    e.on('ping', () => {
      throw boom;
    });
    e.on('ping', (p) => seen.push(p.n));
    const caught = await catchingUncaught(() => e.fire('ping', { n: 7 }), 1);
    assert.deepEqual(seen, [7]);
    assert.deepEqual(caught, [boom]);
  });
});

describe('connection fields', () => {
  it('maps the sip options to the WCS field names and leaves out what was not given', () => {
    const fields = connectionFields(
      {
        appKey: 'shop',
        sip: { login: 'alice', authName: 'a1', password: 'pw', domain: 'pbx.test', outboundProxy: 'proxy.test', port: '5070', register: true, visibleName: 'Alice', transport: 'tcp' },
        custom: { token: 't' },
      },
      'UA/1.0',
    );
    assert.deepEqual(fields, {
      appKey: 'shop',
      mediaProviders: ['WebRTC'],
      clientVersion: `callhook-sdk ${SDK_VERSION}`,
      clientBrowserVersion: 'UA/1.0',
      sipLogin: 'alice',
      sipAuthenticationName: 'a1',
      sipPassword: 'pw',
      sipDomain: 'pbx.test',
      sipOutboundProxy: 'proxy.test',
      sipPort: '5070',
      sipRegisterRequired: true,
      sipVisibleName: 'Alice',
      sipTransport: 'tcp',
      custom: { token: 't' },
    });
  });

  it('without sip options sends no sip field (a backend supplies them); appKey defaults to defaultApp', () => {
    const fields = connectionFields({ custom: 'token-1' }, undefined);
    assert.deepEqual(fields, { appKey: 'defaultApp', mediaProviders: ['WebRTC'], clientVersion: `callhook-sdk ${SDK_VERSION}`, custom: 'token-1' });
    assert.deepEqual(Object.keys(connectionFields({ sip: { login: 'bob', register: false } }, undefined)).filter((k) => k.startsWith('sip')), [
      'sipLogin',
      'sipRegisterRequired',
    ]);
  });
});

describe('ids and version', () => {
  it('newId makes distinct RFC 9562 version-4 UUIDs', () => {
    const ids = new Set(Array.from({ length: 200 }, newId));
    assert.equal(ids.size, 200);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('SDK_VERSION is the version in sdk/package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../sdk/package.json', import.meta.url), 'utf8')) as { version: string };
    assert.equal(SDK_VERSION, pkg.version);
  });
});
