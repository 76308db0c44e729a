/**
 * Client digest authentication: the RFC example vectors (RFC 2617 §3.5, RFC 7616 §3.9.1), SIP vectors, and the
 * DigestClient rules — nc per nonce, stale, giving up, choosing among challenges (RFC 7616 §3.7, RFC 8760 §2.4).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { digestResponse, digestAlgorithm, formatNonceCount } from '../../src/sip/auth/digest.ts';
import { DigestAuthError, DigestClient, type Challenge } from '../../src/sip/auth/digest-client.ts';
import { formatAuthHeader, parseAuthHeader } from '../../src/sip/message/headers.ts';
import { Headers, SipRequest, SipResponse } from '../../src/sip/message/message.ts';
import { parseUri } from '../../src/sip/message/uri.ts';

const www = (value: string): Challenge => ({ header: 'WWW-Authenticate', value: parseAuthHeader(value) });
const proxy = (value: string): Challenge => ({ header: 'Proxy-Authenticate', value: parseAuthHeader(value) });

/** A cnonce source that hands out the given values in order, then fails the test. */
function cnonces(...values: string[]): () => string {
  return () => {
    const v = values.shift();
    assert.ok(v !== undefined, 'more cnonces asked for than expected');
    return v;
  };
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

describe('RFC 2617 §3.5 example', () => {
  // Password "Circle Of Life" (capital O) in RFC 2617; RFC 7616 errata 4495 notes the difference.
  const challenge =
    'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
    'opaque="5ccc069c403ebaf9f0171e9517f40e41"';

  it('computes response 6629fae49393a05397450978507c4ef1', () => {
    const response = digestResponse({
      algorithm: 'MD5',
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      password: 'Circle Of Life',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    assert.equal(response, '6629fae49393a05397450978507c4ef1');
  });

  it('the client answers the challenge with the example Authorization (qop=auth preferred, opaque echoed)', () => {
    const client = new DigestClient({ username: 'Mufasa', password: 'Circle Of Life' }, { cnonce: cnonces('0a4f113b') });
    client.challenged([www(challenge)]);
    const [cred, ...more] = client.credentials('GET', '/dir/index.html');
    assert.equal(more.length, 0);
    assert.equal(cred!.header, 'Authorization');
    const p = cred!.value.params;
    assert.equal(p.get('username'), 'Mufasa');
    assert.equal(p.get('realm'), 'testrealm@host.com');
    assert.equal(p.get('nonce'), 'dcd98b7102dd2f0e8b11d0f600bfb0c093');
    assert.equal(p.get('uri'), '/dir/index.html');
    assert.equal(p.get('qop'), 'auth');
    assert.equal(p.get('nc'), '00000001');
    assert.equal(p.get('cnonce'), '0a4f113b');
    assert.equal(p.get('response'), '6629fae49393a05397450978507c4ef1');
    assert.equal(p.get('opaque'), '5ccc069c403ebaf9f0171e9517f40e41');
    assert.equal(p.has('algorithm'), false, 'the challenge named no algorithm, so neither do the credentials');
    // On the wire qop and nc are tokens, the rest quoted (RFC 2617 §3.2.2).
    const text = formatAuthHeader(cred!.value);
    assert.match(text, /^Digest username="Mufasa", /);
    assert.match(text, /, qop=auth, nc=00000001/);
    assert.match(text, /response="6629fae49393a05397450978507c4ef1"/);
  });
});

describe('RFC 7616 §3.9.1 examples (MD5 and SHA-256)', () => {
  // Errata 4495: the password is "Circle of Life" with a lower-case o.
  const creds = { username: 'Mufasa', password: 'Circle of Life' };
  const cnonce = 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ';
  const common =
    'realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
  // The RFC's 401 offers SHA-256 first, then MD5.
  const sha256 = www(`Digest ${common}, algorithm=SHA-256`);
  const md5Challenge = www(`Digest ${common}, algorithm=MD5`);

  it('MD5: response 8ca523f5e9506fed4657c9700eebdbec', () => {
    const client = new DigestClient(creds, { cnonce: cnonces(cnonce) });
    client.challenged([md5Challenge]);
    const p = client.credentials('GET', '/dir/index.html')[0]!.value.params;
    assert.equal(p.get('response'), '8ca523f5e9506fed4657c9700eebdbec');
    assert.equal(p.get('algorithm'), 'MD5');
    assert.equal(p.get('opaque'), 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS');
  });

  it('SHA-256: response 753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1', () => {
    const client = new DigestClient(creds, { cnonce: cnonces(cnonce) });
    client.challenged([sha256]);
    const p = client.credentials('GET', '/dir/index.html')[0]!.value.params;
    assert.equal(p.get('response'), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    assert.equal(p.get('algorithm'), 'SHA-256');
  });

  it('offered both, the client answers SHA-256 whichever comes first (RFC 8760 §2.4)', () => {
    for (const order of [[sha256, md5Challenge], [md5Challenge, sha256]]) {
      const client = new DigestClient(creds, { cnonce: cnonces(cnonce) });
      client.challenged(order);
      const creds1 = client.credentials('GET', '/dir/index.html');
      assert.equal(creds1.length, 1, 'one realm, one credentials header');
      assert.equal(creds1[0]!.value.params.get('algorithm'), 'SHA-256');
      assert.equal(
        creds1[0]!.value.params.get('response'),
        '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      );
    }
  });
});

describe('SIP vectors (draft-smith-sipping-auth-examples: bob / zanzibar @ biloxi.com)', () => {
  const base = {
    username: 'bob',
    realm: 'biloxi.com',
    password: 'zanzibar',
    nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
    method: 'INVITE',
    uri: 'sip:bob@biloxi.com',
    qop: 'auth' as const,
    nc: '00000001',
    cnonce: '0a4f113b',
  };

  it('MD5, qop=auth', () => {
    assert.equal(digestResponse({ ...base, algorithm: 'MD5' }), '89eb0059246c02b2f6ee02c7961d5ea3');
  });

  it('MD5-sess folds nonce and cnonce into H(A1) as hex (RFC 7616 §3.4.2)', () => {
    assert.equal(digestResponse({ ...base, algorithm: 'MD5-sess' }), 'e4e4ea61d186d07a92c9e1f6919902e9');
  });
});

describe('other algorithms and modes', () => {
  it('RFC 2069 compatibility: no qop, so no nc / cnonce (RFC 2617 §3.2.2.1)', () => {
    const client = new DigestClient({ username: 'Mufasa', password: 'CircleOfLife' });
    client.challenged([
      www('Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'),
    ]);
    const p = client.credentials('GET', '/dir/index.html')[0]!.value.params;
    assert.equal(p.get('response'), '1949323746fe6a43ef61f9606e7febea');
    assert.deepEqual([...p.keys()], ['username', 'realm', 'nonce', 'uri', 'response', 'opaque']);
  });

  it('SHA-512-256 hashes with SHA-512/256 (RFC 7616 §3.2)', () => {
    const h = (s: string): string => createHash('sha512-256').update(s).digest('hex');
    const expected = h(`${h('bob:biloxi.com:zanzibar')}:n1:00000001:c1:auth:${h('REGISTER:sip:biloxi.com')}`);
    const got = digestResponse({
      algorithm: 'SHA-512-256', username: 'bob', realm: 'biloxi.com', password: 'zanzibar', nonce: 'n1',
      method: 'REGISTER', uri: 'sip:biloxi.com', qop: 'auth', nc: '00000001', cnonce: 'c1',
    });
    assert.equal(got, expected);
    assert.equal(got.length, 64);
  });

  it('qop=auth-int covers the body: H(A2) = H(method:uri:H(body)) (RFC 7616 §3.4.3)', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar' }, { cnonce: cnonces('c1') });
    client.challenged([www('Digest realm="biloxi.com", nonce="n1", qop="auth-int"')]);
    const body = Buffer.from('hello');
    const p = client.credentials('MESSAGE', 'sip:alice@biloxi.com', body)[0]!.value.params;
    assert.equal(p.get('qop'), 'auth-int');
    const ha1 = md5('bob:biloxi.com:zanzibar');
    const ha2 = md5(`MESSAGE:sip:alice@biloxi.com:${md5('hello')}`);
    assert.equal(p.get('response'), md5(`${ha1}:n1:00000001:c1:auth-int:${ha2}`));
  });

  it('algorithm tokens compare case-insensitively; absent means MD5; unknown ones are not ours', () => {
    assert.equal(digestAlgorithm(undefined), 'MD5');
    assert.equal(digestAlgorithm('md5'), 'MD5');
    assert.equal(digestAlgorithm('sha-256-SESS'), 'SHA-256-sess');
    assert.equal(digestAlgorithm('AKAv1-MD5'), undefined);
    assert.equal(formatNonceCount(255), '000000ff');
  });
});

describe('DigestClient bookkeeping', () => {
  const challenge = (nonce: string, extra = ''): Challenge =>
    www(`Digest realm="biloxi.com", nonce="${nonce}", qop="auth", algorithm=MD5${extra}`);

  it('before any challenge there is nothing to send', () => {
    assert.deepEqual(new DigestClient({ username: 'bob', password: 'x' }).credentials('REGISTER', 'sip:biloxi.com'), []);
  });

  it('nc counts requests per nonce in 8 hex digits and restarts with a new nonce (RFC 7616 §3.4)', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar' }, { cnonce: cnonces('c1', 'c2') });
    client.challenged([challenge('n1')]);
    const ncs: string[] = [];
    const responses = new Set<string>();
    for (let i = 0; i < 17; i++) {
      const p = client.credentials('REGISTER', 'sip:biloxi.com')[0]!.value.params;
      ncs.push(p.get('nc')!);
      responses.add(p.get('response')!);
      assert.equal(p.get('cnonce'), 'c1', 'one cnonce per nonce');
    }
    assert.equal(ncs[0], '00000001');
    assert.equal(ncs[9], '0000000a');
    assert.equal(ncs[16], '00000011');
    assert.equal(responses.size, 17, 'every nc yields a different response');
    client.accepted();
    client.challenged([challenge('n2', ', stale=true')]);
    const p = client.credentials('REGISTER', 'sip:biloxi.com')[0]!.value.params;
    assert.equal(p.get('nonce'), 'n2');
    assert.equal(p.get('nc'), '00000001');
    assert.equal(p.get('cnonce'), 'c2');
  });

  it('a stale challenge after our credentials is answered with the new nonce (RFC 7616 §3.3 stale)', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar' });
    client.challenged([challenge('n1')]);
    client.credentials('REGISTER', 'sip:biloxi.com');
    client.challenged([challenge('n2', ', stale=TRUE')]);
    assert.equal(client.credentials('REGISTER', 'sip:biloxi.com')[0]!.value.params.get('nonce'), 'n2');
  });

  it('a non-stale challenge right after our credentials means they were wrong: give up', () => {
    const client = new DigestClient({ username: 'bob', password: 'wrong' });
    client.challenged([challenge('n1')]);
    client.credentials('REGISTER', 'sip:biloxi.com');
    assert.throws(
      () => client.challenged([challenge('n2')]),
      (e: unknown) => e instanceof DigestAuthError && e.failure === 'rejected' && e.code === 'SIP_AUTH' && /biloxi\.com/.test(e.message),
    );
  });

  it('two challenges without our answer in between are not a rejection (the request went out without credentials)', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar' });
    client.challenged([challenge('n1')]);
    client.challenged([challenge('n2')]);
    assert.equal(client.credentials('REGISTER', 'sip:biloxi.com')[0]!.value.params.get('nonce'), 'n2');
  });

  it('after acceptance a fresh non-stale challenge is answered once more (the server dropped our nonce), then given up', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar' });
    client.challenged([challenge('n1')]);
    client.credentials('REGISTER', 'sip:biloxi.com');
    client.accepted();
    client.credentials('REGISTER', 'sip:biloxi.com'); // refresh with the cached nonce, nc=2
    client.challenged([challenge('n2')]);
    client.credentials('REGISTER', 'sip:biloxi.com');
    assert.throws(() => client.challenged([challenge('n3')]), DigestAuthError);
  });

  it('an endless run of stale challenges ends (maxStaleRetries)', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar' }, { maxStaleRetries: 2 });
    client.challenged([challenge('n0')]);
    client.credentials('REGISTER', 'sip:biloxi.com');
    client.challenged([challenge('n1', ', stale=true')]);
    client.credentials('REGISTER', 'sip:biloxi.com');
    client.challenged([challenge('n2', ', stale=true')]);
    client.credentials('REGISTER', 'sip:biloxi.com');
    assert.throws(() => client.challenged([challenge('n3', ', stale=true')]), /stale=true 3 times/);
  });

  it('a throw leaves the state unchanged: the old nonce is still the one used', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar' });
    client.challenged([challenge('n1')]);
    client.credentials('REGISTER', 'sip:biloxi.com');
    assert.throws(() => client.challenged([challenge('n2')]), DigestAuthError);
    assert.equal(client.credentials('REGISTER', 'sip:biloxi.com')[0]!.value.params.get('nonce'), 'n1');
  });

  it('nothing answerable (Basic, unknown algorithm, qop we lack, no nonce) is "unsupported"', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar' });
    assert.throws(
      () =>
        client.challenged([
          www('Basic realm="biloxi.com"'),
          www('Digest realm="biloxi.com", nonce="n", algorithm=AKAv1-MD5'),
          www('Digest realm="biloxi.com", nonce="n", qop="auth-conf"'),
          www('Digest realm="biloxi.com", algorithm=MD5'),
        ]),
      (e: unknown) =>
        e instanceof DigestAuthError && e.failure === 'unsupported' && /Basic/.test(e.message) && /AKAv1-MD5/.test(e.message),
    );
    assert.throws(() => client.challenged([]), /offered: none/);
  });

  it('unsupported challenges are skipped when a supported one is offered too', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar' });
    client.challenged([www('Digest realm="biloxi.com", nonce="x", algorithm=AKAv1-MD5'), challenge('n1')]);
    assert.equal(client.credentials('REGISTER', 'sip:biloxi.com')[0]!.value.params.get('nonce'), 'n1');
  });

  it('a configured realm answers only that realm (RFC 3261 §22.1)', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar', realm: 'atlanta.com' });
    assert.throws(() => client.challenged([challenge('n1')]), (e: unknown) => e instanceof DigestAuthError && e.failure === 'unsupported');
  });

  it('407s get Proxy-Authorization, and every challenged realm keeps its credentials (RFC 3261 §22.3)', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar' });
    client.challenged([proxy('Digest realm="proxy-a", nonce="pa", qop="auth"'), proxy('Digest realm="proxy-b", nonce="pb"')]);
    client.challenged([challenge('n1')]); // the registrar behind them, next round
    const creds = client.credentials('REGISTER', 'sip:biloxi.com');
    assert.deepEqual(
      creds.map((c) => `${c.header} ${c.value.params.get('realm')}`),
      ['Proxy-Authorization proxy-a', 'Proxy-Authorization proxy-b', 'Authorization biloxi.com'],
    );
  });
});

describe('DigestClient with SIP messages (authorize / handleResponse)', () => {
  function register(): SipRequest {
    const h = new Headers();
    h.append('Via', 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKabc');
    h.append('From', '<sip:bob@biloxi.com>;tag=1');
    h.append('To', '<sip:bob@biloxi.com>');
    h.append('Call-ID', 'c1@127.0.0.1');
    h.append('CSeq', '1 REGISTER');
    return new SipRequest('REGISTER', parseUri('sip:biloxi.com'), h);
  }
  function response(status: number, reason: string, fields: [string, string][] = []): SipResponse {
    const h = new Headers();
    for (const [n, v] of fields) h.append(n, v);
    return new SipResponse(status, reason, h);
  }

  it('401 → retry with Authorization over the Request-URI as sent; 200 → done; wrong password → SIP 401 error', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar' }, { cnonce: cnonces('0a4f113b', 'c2') });
    const req = register();
    client.authorize(req);
    assert.equal(req.headers.has('Authorization'), false, 'no credentials before a challenge');
    const r401 = response(401, 'Unauthorized', [
      ['WWW-Authenticate', 'Digest realm="biloxi.com", qop="auth", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", algorithm=MD5'],
    ]);
    assert.equal(client.handleResponse(r401), true);
    client.authorize(req);
    const auth = parseAuthHeader(req.headers.get('Authorization')!);
    assert.equal(auth.params.get('uri'), 'sip:biloxi.com');
    const ha1 = md5('bob:biloxi.com:zanzibar');
    assert.equal(
      auth.params.get('response'),
      md5(`${ha1}:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:${md5('REGISTER:sip:biloxi.com')}`),
    );
    client.authorize(req);
    assert.equal(req.headers.getAll('Authorization').length, 1, 'authorize replaces earlier credentials');
    assert.equal(client.handleResponse(response(100, 'Trying')), false);
    assert.equal(client.handleResponse(response(200, 'OK')), false);

    // The next refresh reuses the nonce (nc=3), the server now refuses the password: give up, naming the status.
    client.authorize(req);
    assert.equal(parseAuthHeader(req.headers.get('Authorization')!).params.get('nc'), '00000003');
    const again = response(401, 'Unauthorized', [['WWW-Authenticate', 'Digest realm="biloxi.com", qop="auth", nonce="fresh"']]);
    assert.equal(client.handleResponse(again), true, 'after acceptance one fresh challenge is answered');
    client.authorize(req);
    assert.throws(
      () => client.handleResponse(again),
      (e: unknown) => e instanceof DigestAuthError && e.response === again && e.message.startsWith('SIP 401 Unauthorized'),
    );
  });

  it('a 407 with a malformed Proxy-Authenticate and no usable one is unsupported, naming the status', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar' });
    const r = response(407, 'Proxy Authentication Required', [['Proxy-Authenticate', 'Digest realm="unterminated']]);
    assert.throws(
      () => client.handleResponse(r),
      (e: unknown) => e instanceof DigestAuthError && e.failure === 'unsupported' && /^SIP 407 /.test(e.message),
    );
  });

  it('reads challenges of both kinds from one response (RFC 3261 §16.7 step 6)', () => {
    const client = new DigestClient({ username: 'bob', password: 'zanzibar' });
    const r = response(407, 'Proxy Authentication Required', [
      ['Proxy-Authenticate', 'Digest realm="proxy", nonce="p"'],
      ['WWW-Authenticate', 'Digest realm="biloxi.com", nonce="w"'],
    ]);
    assert.equal(client.handleResponse(r), true);
    const req = register();
    client.authorize(req);
    assert.equal(req.headers.getAll('Proxy-Authorization').length, 1);
    assert.equal(req.headers.getAll('Authorization').length, 1);
  });
});
