/**
 * The SIP message layer: URIs (RFC 3261 §19.1), parameters, name-addr (§20.10), Via (§20.42), Digest headers
 * (RFC 7616), parsing (§7), serializing and stream framing (§18.3).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SipParseError } from '../../src/sip/errors.ts';
import {
  formatAuthHeader, formatNameAddr, formatParams, formatUri, formatVia, getCallId, getContacts, getCSeq, getExpires,
  getFrom, getMaxForwards, getTo, getVias, isSipUri, MAX_HEADER_BYTES, parseAuthHeader, parseCSeq, parseMessage,
  parseNameAddr, parseParams, parseUri, parseVia, serializeMessage, SipRequest, SipResponse, StreamFramer, topVia,
  type SipUri,
} from '../../src/sip/message/index.ts';

const CRLF = '\r\n';
/** Lines joined with CRLF; the last element is the body (use '' for none). */
function wire(...lines: string[]): Buffer {
  return Buffer.from(lines.join(CRLF));
}

function sipUri(text: string): SipUri {
  const u = parseUri(text);
  assert.ok(isSipUri(u), `${text} should be a SIP URI`);
  return u;
}

function parseError(fn: () => unknown): SipParseError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SipParseError, `expected SipParseError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a SipParseError');
}

const OPTIONS = [
  'OPTIONS sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877',
  'Max-Forwards: 70',
  'To: <sip:bob@biloxi.example.com>',
  'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710',
  'CSeq: 63104 OPTIONS',
  'Contact: <sip:alice@pc33.atlanta.example.com>',
  'Accept: application/sdp',
];

describe('URIs (RFC 3261 §19.1)', () => {
  it('reads user, password, host, port, parameters and headers', () => {
    const u = sipUri('sip:alice:secret@atlanta.example.com:5070;transport=TCP;lr;Maddr=239.255.255.1?subject=project%20x&priority=urgent');
    assert.equal(u.scheme, 'sip');
    assert.equal(u.user, 'alice');
    assert.equal(u.password, 'secret');
    assert.equal(u.host, 'atlanta.example.com');
    assert.equal(u.port, 5070);
    // Names compare case-insensitively (§19.1.4) and are lower-cased; values keep their case.
    assert.deepEqual([...u.params], [['transport', 'TCP'], ['lr', null], ['maddr', '239.255.255.1']]);
    assert.deepEqual([...u.headers], [['subject', 'project%20x'], ['priority', 'urgent']]);
  });

  it('keeps escapes as on the wire (RFC 4475 §3.1.1.3)', () => {
    const u = sipUri('sip:sips%3Auser%40example.com@example.net');
    assert.equal(u.user, 'sips%3Auser%40example.com');
    assert.equal(u.host, 'example.net');
    assert.equal(sipUri('sip:null-%00-null@example.com').user, 'null-%00-null');
  });

  it('reads a user part holding ";", "?" and "/" (RFC 4475 §3.1.1.9, §3.1.1.2)', () => {
    assert.equal(sipUri('sip:user;par=u%40example.net@example.com').user, 'user;par=u%40example.net');
    const u = sipUri("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
    assert.equal(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.equal(u.params.size, 0);
  });

  it('reads IPv6 references with and without a port, and sips:', () => {
    const a = sipUri('sips:[2001:db8::10]:5061;transport=tls');
    assert.equal(a.scheme, 'sips');
    assert.equal(a.host, '[2001:db8::10]');
    assert.equal(a.port, 5061);
    const b = sipUri('sip:alice@[::1]');
    assert.equal(b.host, '[::1]');
    assert.equal(b.port, undefined);
  });

  it('keeps other schemes opaque and lower-cases every scheme', () => {
    assert.deepEqual(parseUri('tel:+1-201-555-0123;phone-context=example.com'), { scheme: 'tel', opaque: '+1-201-555-0123;phone-context=example.com' });
    assert.deepEqual(parseUri('urn:service:sos'), { scheme: 'urn', opaque: 'service:sos' });
    assert.equal(parseUri('SIP:Alice@Example.COM').scheme, 'sip');
    assert.equal(sipUri('SIP:Alice@Example.COM').host, 'Example.COM');
  });

  it('formats back to the same text', () => {
    for (const text of [
      'sip:alice@atlanta.example.com',
      'sips:alice:pw@[::1]:5061;transport=tcp;lr?subject=x&p=y',
      'sip:user;par=u%40example.net@example.com',
      'sip:cal%6Cer@host5.example.net;%6c%72;n%61me=v%61lue%25%34%31',
      'tel:+1234',
      'sip:host.example.com:0',
    ]) assert.equal(formatUri(parseUri(text)), text);
  });

  it('refuses malformed URIs with a reason', () => {
    const cases: [string, RegExp][] = [
      ['sip:', /missing host/],
      ['sip:alice@', /missing host/],
      ['alice@example.com', /scheme/],
      ['<sip:alice@example.com>', /bad scheme/],
      ['sip:alice@example.com:65536', /port out of range/],
      ['sip:alice@example.com:', /missing port/],
      ['sip:al ice@example.com', /bad user part/],
      ['sip:al%zzice@example.com', /bad user part/],
      ['sip:@example.com', /bad user part/],
      ['sip:alice@[::1', /unterminated IPv6/],
      ['sip:alice@[not:an:address]', /bad IPv6/],
      ['sip:alice@example.com;;lr', /empty URI parameter/],
      ['sip:alice@example.com;lr;lr', /given twice/],
      ['sip:alice@example.com;a=', /empty value/],
      ['sip:alice@example.com;a=%G0', /bad escape/],
      ['sip:alice@example.com?', /bad URI header/],
      ['sip:alice@example.com?a', /bad URI header/],
      ['sip:alice@example.com example', /unexpected/],
      ['tel:', /empty URI/],
      ['tel:+1 234', /invalid character/],
    ];
    for (const [text, reason] of cases) {
      const e = parseError(() => parseUri(text));
      assert.match(e.reason, /^bad URI: /, text);
      assert.match(e.reason, reason, text);
    }
  });
});

describe('parameters (RFC 3261 §25.1 generic-param)', () => {
  it('allows whitespace around ";" and "=" and keeps quoted values with their quotes', () => {
    const p = parseParams(' ; tag = 98asjd8 ;lr; +sip.instance="<urn:uuid:f81d4fae>" ;received=2001:db8::9');
    assert.deepEqual([...p], [['tag', '98asjd8'], ['lr', null], ['+sip.instance', '"<urn:uuid:f81d4fae>"'], ['received', '2001:db8::9']]);
    assert.equal(formatParams(p), ';tag=98asjd8;lr;+sip.instance="<urn:uuid:f81d4fae>";received=2001:db8::9');
  });

  it('refuses empty, doubled and unterminated parameters', () => {
    assert.match(parseError(() => parseParams(';;')).reason, /empty parameter/);
    assert.match(parseError(() => parseParams(';a=1;A=2')).reason, /given twice/);
    assert.match(parseError(() => parseParams(';a="x')).reason, /unterminated/);
    assert.match(parseError(() => parseParams(';a=')).reason, /empty value/);
    assert.match(parseError(() => parseParams('tag=1')).reason, /unexpected 't'/);
  });
});

describe('name-addr and addr-spec (RFC 3261 §20.10)', () => {
  it('unescapes a quoted display name (RFC 4475 §3.1.1.1)', () => {
    const na = parseNameAddr('"J Rosenberg \\\\\\"" <sip:jdrosen@example.com> ; tag = 98asjd8');
    assert.equal(na.displayName, 'J Rosenberg \\"');
    assert.equal(formatUri(na.uri), 'sip:jdrosen@example.com');
    assert.deepEqual([...na.params], [['tag', '98asjd8']]);
    // Formatting escapes again, so the round trip is exact.
    assert.equal(formatNameAddr(na), '"J Rosenberg \\\\\\"" <sip:jdrosen@example.com>;tag=98asjd8');
    assert.deepEqual(parseNameAddr(formatNameAddr(na)), na);
  });

  it('reads token display names, with or without LWS before "<" (RFC 4475 §3.1.1.6)', () => {
    assert.equal(parseNameAddr('caller<sip:caller@example.com>;tag=323').displayName, 'caller');
    assert.equal(parseNameAddr("token1~` token2'+_ <sip:mundane@example.com>").displayName, "token1~` token2'+_");
    assert.equal(parseNameAddr('<sip:caller@example.com>').displayName, undefined);
    assert.equal(parseNameAddr('"" <sip:caller@example.com>').displayName, '');
  });

  it('gives parameters after a bare addr-spec to the header, not the URI', () => {
    const na = parseNameAddr('sip:+16505552222@ss1.example.net;user=phone;tag=887s');
    assert.equal((na.uri as SipUri).params.size, 0);
    assert.deepEqual([...na.params], [['user', 'phone'], ['tag', '887s']]);
    const inside = parseNameAddr('<sip:+16505552222@ss1.example.net;user=phone>;tag=887s');
    assert.deepEqual([...(inside.uri as SipUri).params], [['user', 'phone']]);
    assert.deepEqual([...inside.params], [['tag', '887s']]);
    assert.deepEqual(parseNameAddr('isbn:2983792873').uri, { scheme: 'isbn', opaque: '2983792873' });
  });

  it('always formats the <...> form', () => {
    assert.equal(formatNameAddr(parseNameAddr('sip:a@b;tag=1')), '<sip:a@b>;tag=1');
    // CR and LF cannot travel in a quoted-string: a display name from a user can never split a header.
    const na = { displayName: 'Eve\r\nVia: evil', uri: parseUri('sip:eve@example.com'), params: new Map() };
    assert.equal(formatNameAddr(na), '"Eve  Via: evil" <sip:eve@example.com>');
  });

  it('refuses what RFC 4475 §3.1.2.6, §3.1.2.13–15 describe', () => {
    assert.match(parseError(() => parseNameAddr('"Mr. J. User <sip:j.user@example.com>')).reason, /unterminated/);
    assert.match(parseError(() => parseNameAddr('sip:user@example.com?Route=%3Csip:sip.example.com%3E')).reason, /enclosed/);
    assert.match(parseError(() => parseNameAddr('"Watson, Thomas" < sip:t.watson@example.org >')).reason, /whitespace/);
    assert.match(parseError(() => parseNameAddr('Bell, Alexander <sip:a.g.bell@example.com>')).reason, /','/);
    assert.match(parseError(() => parseNameAddr('"Joe" <sip:joe@example.org>;;;;')).reason, /empty parameter/);
    assert.match(parseError(() => parseNameAddr('<sip:joe@example.org')).reason, /'>'/);
    assert.match(parseError(() => parseNameAddr('   ')).reason, /empty/);
  });
});

describe('Via (RFC 3261 §20.42, RFC 3581)', () => {
  it('reads sent-protocol, sent-by and received / rport / branch', () => {
    const via = parseVia('SIP/2.0/udp 192.0.2.1:5062;received=198.51.100.7;rport=40012;branch=z9hG4bK776asdhds');
    assert.equal(via.protocol, 'SIP/2.0');
    assert.equal(via.transport, 'UDP');
    assert.equal(via.host, '192.0.2.1');
    assert.equal(via.port, 5062);
    assert.deepEqual([...via.params], [['received', '198.51.100.7'], ['rport', '40012'], ['branch', 'z9hG4bK776asdhds']]);
    assert.equal(parseVia('SIP/2.0/TCP h.example.com;rport;branch=z9hG4bK1').params.get('rport'), null);
  });

  it('reads an IPv6 sent-by and an unbracketed IPv6 received (RFC 5118 §4.5)', () => {
    const via = parseVia('SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bKas3-111;received=2001:db8::9:255');
    assert.equal(via.host, '[2001:db8::9:1]');
    assert.equal(via.port, 5070);
    assert.equal(via.params.get('received'), '2001:db8::9:255');
  });

  it('allows LWS inside sent-protocol and around the colon (RFC 4475 §3.1.1.1)', () => {
    const via = parseVia('SIP  /   2.0 /UDP 192.0.2.2 : 5060  ;  branch  =   390skdjuw');
    assert.equal(formatVia(via), 'SIP/2.0/UDP 192.0.2.2:5060;branch=390skdjuw');
  });

  it('refuses malformed Vias', () => {
    for (const bad of ['SIP/2.0 host', 'SIP/2.0/UDP', 'SIP/2.0/UDPhost', 'SIP/2.0/UDP 192.0.2.15;;', 'SIP/2.0/UDP h;rport=x', 'SIP/2.0/UDP h:99999']) {
      parseError(() => parseVia(bad));
    }
  });

  it('lists comma-separated and repeated Via headers in order; topVia is the first', () => {
    const msg = parseMessage(wire(
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP b.example.com;branch=z9hG4bK2',
      'v: SIP/2.0/UDP c.example.com;branch=z9hG4bK3',
      'To: <sip:bob@example.com>;tag=2', 'From: <sip:alice@example.com>;tag=1', 'Call-ID: x', 'CSeq: 1 OPTIONS', '', ''));
    assert.deepEqual(getVias(msg).map((v) => v.host), ['a.example.com', 'b.example.com', 'c.example.com']);
    assert.equal(topVia(msg).params.get('branch'), 'z9hG4bK1');
    msg.headers.delete('Via');
    assert.match(parseError(() => topVia(msg)).reason, /Missing Via/);
  });
});

describe('CSeq, Call-ID, Max-Forwards, Expires, From, To, Contact', () => {
  const msg = parseMessage(wire(...OPTIONS, 'Expires: 3600', '', ''));

  it('reads the single-valued headers', () => {
    assert.deepEqual(getCSeq(msg), { seq: 63104, method: 'OPTIONS' });
    assert.deepEqual(parseCSeq('0009\tINVITE'), { seq: 9, method: 'INVITE' });
    assert.equal(getCallId(msg), 'a84b4c76e66710');
    assert.equal(getMaxForwards(msg), 70);
    assert.equal(getExpires(msg), 3600);
    assert.equal(getFrom(msg).displayName, 'Alice');
    assert.equal(getFrom(msg).params.get('tag'), '1928301774');
    assert.equal(getTo(msg).params.has('tag'), false);
  });

  it('bounds the scalars (RFC 3261 §8.1.1.5, §20.22; RFC 4475 §3.1.2.4)', () => {
    assert.match(parseError(() => parseCSeq('36893488147419103232 REGISTER')).reason, /expected|range/);
    assert.match(parseError(() => parseCSeq('4294967296 REGISTER')).reason, /range/);
    assert.equal(parseCSeq('4294967295 REGISTER').seq, 4294967295);
    assert.match(parseError(() => parseCSeq('1')).reason, /expected/);
    const m = parseMessage(wire(...OPTIONS, '', ''));
    m.headers.set('Max-Forwards', '300');
    assert.match(parseError(() => getMaxForwards(m)).reason, /Bad Max-Forwards header: expected 0-255/);
    m.headers.delete('Max-Forwards');
    assert.equal(getMaxForwards(m), undefined);
    // An aberrant expiry reads as absent: the element applies its default (RFC 4475 §3.1.2.4).
    m.headers.set('Expires', '1' + '0'.repeat(100));
    assert.equal(getExpires(m), undefined);
    m.headers.set('Expires', 'Thu, 01 Dec 1994 16:00:00 GMT');
    assert.equal(getExpires(m), undefined);
  });

  it('names the header that is missing or malformed', () => {
    const m = parseMessage(wire(...OPTIONS, '', ''));
    m.headers.delete('Call-ID');
    assert.equal(parseError(() => getCallId(m)).reason, 'Missing Call-ID header');
    m.headers.set('From', 'Bell, Alexander <sip:a@b>');
    assert.match(parseError(() => getFrom(m)).reason, /^Bad From header: /);
    m.headers.set('Call-ID', 'has space');
    assert.match(parseError(() => getCallId(m)).reason, /^Bad Call-ID header/);
  });

  it("reads Contact lists and the REGISTER wildcard '*' (RFC 3261 §10.2.2)", () => {
    const m = parseMessage(wire(...OPTIONS, 'Contact: "A, B" <sip:a@example.com>;q=0.5, sip:b@example.com;expires=60', '', ''));
    const contacts = getContacts(m);
    assert.ok(contacts !== '*');
    assert.deepEqual(contacts.map((c) => formatNameAddr(c)), [
      '<sip:alice@pc33.atlanta.example.com>', '"A, B" <sip:a@example.com>;q=0.5', '<sip:b@example.com>;expires=60',
    ]);
    m.headers.set('Contact', '*');
    assert.equal(getContacts(m), '*');
    m.headers.set('Contact', '*, <sip:a@b>');
    assert.match(parseError(() => getContacts(m)).reason, /only Contact/);
    m.headers.delete('Contact');
    assert.deepEqual(getContacts(m), []);
  });
});

describe('Digest challenges and credentials (RFC 7616 §3.3, §3.4)', () => {
  it('reads a challenge and quotes qop in it', () => {
    const h = parseAuthHeader('Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", stale=TRUE');
    assert.equal(h.scheme, 'Digest');
    assert.equal(h.params.get('qop'), 'auth, auth-int');
    assert.equal(h.params.get('stale'), 'TRUE');
    assert.equal(
      formatAuthHeader(h),
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", stale=TRUE',
    );
  });

  it('formats credentials with nc, qop and algorithm unquoted', () => {
    const creds = {
      scheme: 'Digest',
      params: new Map([
        ['username', 'Mufasa'], ['realm', 'http-auth@example.org'], ['uri', '/dir/index.html'], ['algorithm', 'MD5'],
        ['nonce', '7ypf'], ['nc', '00000001'], ['cnonce', 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ'],
        ['qop', 'auth'], ['response', '8ca523f5e9506fed4657c9700eebdbec'], ['opaque', 'FQhe'],
      ]),
    };
    const text = formatAuthHeader(creds);
    assert.equal(text, 'Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, nonce="7ypf", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe"');
    assert.deepEqual(parseAuthHeader(text), creds);
  });

  it('unescapes quoted values and keeps commas inside quotes', () => {
    const h = parseAuthHeader('Digest realm="a \\"b\\", c",nonce=abc');
    assert.equal(h.params.get('realm'), 'a "b", c');
    assert.equal(formatAuthHeader(h), 'Digest realm="a \\"b\\", c", nonce="abc"');
  });

  it('refuses malformed auth headers', () => {
    for (const bad of ['Digest', 'Digest realm', 'Digest realm="x', 'Digest realm="x" nonce="y"', 'Basic dXNlcjpwYXNz', 'Digest a=1, a=2']) {
      parseError(() => parseAuthHeader(bad));
    }
  });
});

describe('parseMessage (RFC 3261 §7)', () => {
  it('reads a request with folded, compact, repeated and comma-listed headers', () => {
    const msg = parseMessage(wire(
      'INVITE sip:bob@biloxi.example.com SIP/2.0',
      'v: SIP/2.0/UDP pc33.atlanta.example.com',
      '   ;branch=z9hG4bK776asdhds',
      'max-forwards: 70',
      't: <sip:bob@biloxi.example.com>',
      'f: "Alice"',
      '\t<sip:alice@atlanta.example.com>;tag=1928301774',
      'i: a84b4c76e66710@pc33.atlanta.example.com',
      'CSEQ : 314159 INVITE',
      'm: <sip:alice@pc33.atlanta.example.com>',
      'Supported: timer, 100rel',
      'k: replaces',
      'NewFangledHeader:   newfangled value',
      ' continued newfangled value',
      'Subject:',
      'c: application/sdp',
      'l: 4',
      '',
      'v=0\n'));
    assert.ok(msg instanceof SipRequest);
    assert.equal(msg.method, 'INVITE');
    assert.equal(formatUri(msg.uri), 'sip:bob@biloxi.example.com');
    assert.deepEqual(msg.headers.fields.map((f) => f.name), [
      'Via', 'Max-Forwards', 'To', 'From', 'Call-ID', 'CSeq', 'Contact', 'Supported', 'Supported', 'NewFangledHeader',
      'Subject', 'Content-Type',
    ]);
    assert.equal(msg.headers.get('Via'), 'SIP/2.0/UDP pc33.atlanta.example.com ;branch=z9hG4bK776asdhds');
    assert.equal(msg.headers.get('From'), '"Alice" <sip:alice@atlanta.example.com>;tag=1928301774');
    assert.equal(msg.headers.get('NewFangledHeader'), 'newfangled value continued newfangled value');
    assert.equal(msg.headers.get('Subject'), '');
    assert.deepEqual(msg.headers.getAll('Supported'), ['timer', '100rel', 'replaces']);
    assert.equal(msg.body.toString(), 'v=0\n');
    // Content-Length is framing, consumed by the parser: the body's length is the truth.
    assert.equal(msg.headers.get('Content-Length'), undefined);
  });

  it('reads a response, with or without a reason phrase (RFC 4475 §3.1.1.13)', () => {
    const rest = ['Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'To: <sip:b@h>;tag=2', 'From: <sip:a@h>;tag=1', 'Call-ID: c', 'CSeq: 1 INVITE', '', ''];
    const ok = parseMessage(wire('SIP/2.0 180 Ringing', ...rest));
    assert.ok(ok instanceof SipResponse);
    assert.equal(ok.status, 180);
    assert.equal(ok.reason, 'Ringing');
    assert.equal((parseMessage(wire('SIP/2.0 100 ', ...rest)) as SipResponse).reason, '');
    assert.equal((parseMessage(wire('SIP/2.0 100', ...rest)) as SipResponse).reason, '');
    for (const bad of ['SIP/2.0 99 Low', 'SIP/2.0 700 High', 'SIP/2.0 4294967301 big', 'SIP/2.0 2OO OK']) {
      const e = parseError(() => parseMessage(wire(bad, ...rest)));
      assert.equal(e.reason, 'Bad status line');
      assert.equal(e.partial, undefined, 'a bad response is never answered');
    }
  });

  it('cuts a datagram body to Content-Length and takes the rest when it is absent (RFC 3261 §18.3)', () => {
    const cut = parseMessage(wire(...OPTIONS, 'Content-Length: 3', '', 'abcdef'));
    assert.equal(cut.body.toString(), 'abc');
    const rest = parseMessage(wire(...OPTIONS, '', 'abcdef'));
    assert.equal(rest.body.toString(), 'abcdef');
    const e = parseError(() => parseMessage(wire(...OPTIONS, 'Content-Length: 7', '', 'abcdef')));
    assert.equal(e.reason, 'Content-Length larger than the body');
    assert.ok(e.partial instanceof SipRequest, 'a 400 is possible');
  });

  it('keeps a body that is not UTF-8 byte for byte', () => {
    const body = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0d, 0x0a, 0x0d, 0x0a, 0xc3]);
    const msg = parseMessage(Buffer.concat([wire(...OPTIONS, `Content-Length: ${body.length}`, '', ''), body]));
    assert.deepEqual(msg.body, body);
    assert.deepEqual(parseMessage(serializeMessage(msg)).body, body);
  });

  it('rejects invalid UTF-8 in the headers, with a partial request', () => {
    const head = wire(...OPTIONS.slice(0, -1), 'Subject: caf');
    const e = parseError(() => parseMessage(Buffer.concat([head, Buffer.from([0xc3, 0x28]), Buffer.from('\r\n\r\n')])));
    assert.equal(e.reason, 'Invalid UTF-8 in the header section');
    assert.ok(e.partial instanceof SipRequest);
    // Valid UTF-8 in a header is fine.
    assert.equal(parseMessage(wire(...OPTIONS, 'Subject: café ☎', '', '')).headers.get('Subject'), 'café ☎');
  });

  it('skips CRLFs before the start line (RFC 3261 §7.5)', () => {
    const msg = parseMessage(Buffer.concat([Buffer.from('\r\n\r\n'), wire(...OPTIONS, '', '')]));
    assert.equal(msg.kind === 'request' && msg.method, 'OPTIONS');
    assert.equal(parseError(() => parseMessage(Buffer.from('\r\n\r\n'))).reason, 'Empty message');
  });

  it('enforces the size limits without hanging', () => {
    const huge = 'X-Filler: ' + 'a'.repeat(MAX_HEADER_BYTES);
    const t0 = Date.now();
    assert.equal(parseError(() => parseMessage(wire(...OPTIONS, huge, '', ''), { maxMessageBytes: 1 << 20 })).reason, 'Header section too large');
    assert.equal(parseError(() => parseMessage(wire(...OPTIONS, '', 'x'.repeat(70_000)))).reason, 'Message too large');
    assert.equal(parseError(() => parseMessage(wire(...OPTIONS, '', 'x'.repeat(2000)), { maxMessageBytes: 1500 })).reason, 'Message too large');
    assert.ok(Date.now() - t0 < 2000);
  });

  it('refuses malformed framing and header lines', () => {
    const cases: [Buffer, string, boolean][] = [
      [wire(...OPTIONS, 'Content-Length: -1', '', ''), 'Bad Content-Length header', true],
      [wire(...OPTIONS, 'Content-Length: 0', 'l: 0', '', ''), 'Multiple Content-Length headers', true],
      [wire(...OPTIONS, 'Broken header line', '', ''), 'Malformed header line', true],
      [wire(...OPTIONS, 'Bad Name: x', '', ''), 'Malformed header line', true],
      [wire(...OPTIONS, ''), 'Missing empty line after the headers', true],
      [Buffer.from(OPTIONS.join('\n') + '\n\n'), 'Bare CR or LF in the header section', false],
      [wire(...OPTIONS.slice(0, 2), 'X: a\rb', ...OPTIONS.slice(2), '', ''), 'Bare CR or LF in the header section', true],
      [wire('garbage', '', ''), 'Bad request line', false],
      [wire('\u0000\u0001\u0002', '', ''), 'Bad request line', false],
    ];
    for (const [buf, reason, partial] of cases) {
      const e = parseError(() => parseMessage(buf));
      assert.equal(e.reason, reason, JSON.stringify(buf.toString()));
      assert.equal(e.partial !== undefined, partial, reason);
    }
  });

  it('checks the mandatory headers of requests and responses (RFC 3261 §8.1.1)', () => {
    const without = (name: string) => OPTIONS.filter((l) => !l.startsWith(`${name}:`));
    for (const name of ['Via', 'To', 'From', 'Call-ID', 'CSeq']) {
      const e = parseError(() => parseMessage(wire(...without(name), '', '')));
      assert.equal(e.reason, `Missing ${name} header`);
      assert.equal(e.partial, undefined, 'a 400 must copy the header that is missing');
    }
    // Max-Forwards may be missing (RFC 2543 peers).
    assert.equal(getMaxForwards(parseMessage(wire(...without('Max-Forwards'), '', ''))), undefined);
    const twice = parseError(() => parseMessage(wire(...OPTIONS, 'Call-ID: other', '', '')));
    assert.equal(twice.reason, 'Multiple Call-ID headers');
    assert.ok(twice.partial);
    const mismatch = parseError(() => parseMessage(wire(...OPTIONS.map((l) => l.replace('63104 OPTIONS', '63104 INVITE')), '', '')));
    assert.equal(mismatch.reason, 'CSeq method does not match the request method');
    assert.ok(mismatch.partial);
    const badContact = parseError(() => parseMessage(wire(...OPTIONS, 'Contact: <sip:x@y', '', '')));
    assert.match(badContact.reason, /^Bad Contact header: /);
  });
});

describe('serializeMessage', () => {
  it('writes canonical names, headers in order, and Content-Length from the body', () => {
    const msg = parseMessage(wire(...OPTIONS.map((l) => l.replace(/^To:/, 't:').replace(/^Call-ID:/, 'call-id:')), 'l: 0', '', ''));
    msg.body = Buffer.from('hello');
    const text = serializeMessage(msg).toString();
    assert.equal(text, [
      'OPTIONS sip:bob@biloxi.example.com SIP/2.0',
      'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKhjhs8ass877',
      'Max-Forwards: 70',
      'To: <sip:bob@biloxi.example.com>',
      'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
      'Call-ID: a84b4c76e66710',
      'CSeq: 63104 OPTIONS',
      'Contact: <sip:alice@pc33.atlanta.example.com>',
      'Accept: application/sdp',
      'Content-Length: 5',
      '',
      'hello',
    ].join(CRLF));
  });

  it('writes a Content-Length set by hand as the body length', () => {
    const res = new SipResponse(200, 'OK');
    res.headers.append('Content-Length', '1234');
    assert.equal(serializeMessage(res).toString(), 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  });

  it('turns CR and LF inside a value into SP (no header injection)', () => {
    const res = new SipResponse(200, 'OK\r\nX-Evil: 1');
    res.headers.append('Subject', 'a\r\nVia: SIP/2.0/UDP evil');
    assert.equal(serializeMessage(res).toString(), 'SIP/2.0 200 OK  X-Evil: 1\r\nSubject: a  Via: SIP/2.0/UDP evil\r\nContent-Length: 0\r\n\r\n');
  });

  it('round-trips stably: parse(serialize(parse(x))) equals parse(x)', () => {
    const samples: Buffer[] = [
      wire(...OPTIONS, '', ''),
      wire('INVITE SIP:Bob@Biloxi.Example.COM;Transport=UDP;LR SIP/2.0', ...OPTIONS.slice(1).map((l) => l.replace('OPTIONS', 'INVITE')),
        'Route: <sip:p1.example.com;lr>,', ' <sip:p2.example.com;lr>', 'X-Folded: a', '\tb', 'c: text/plain', '', 'body\r\n\r\nwith blank lines'),
      wire('SIP/2.0 100 ', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1;received=192.0.2.1;rport=5060', 'To: <sip:b@h>', 'From: <sip:a@h>;tag=1', 'Call-ID: c', 'CSeq: 1 INVITE', '', ''),
      wire('MESSAGE tel:+1234 SIP/2.0', ...OPTIONS.slice(1).map((l) => l.replace('OPTIONS', 'MESSAGE')), 'Content-Length: 2', '', 'hi and ignored'),
    ];
    for (const sample of samples) {
      const once = parseMessage(sample);
      const twice = parseMessage(serializeMessage(once));
      assert.deepEqual(twice, once);
      assert.deepEqual(serializeMessage(twice), serializeMessage(once));
    }
  });
});

describe('StreamFramer (RFC 3261 §18.3)', () => {
  const a = wire(...OPTIONS, 'Content-Length: 5', '', 'hello');
  const b = wire('SIP/2.0 200 OK', 'Via: SIP/2.0/TCP h;branch=z9hG4bK1', 'To: <sip:b@h>;tag=2', 'From: <sip:a@h>;tag=1', 'Call-ID: c', 'CSeq: 1 OPTIONS', 'l: 0', '', '');
  const both = Buffer.concat([a, b]);

  function texts(msgs: Buffer[]): string[] {
    return msgs.map((m) => m.toString());
  }

  it('hands out several messages from one chunk', () => {
    const f = new StreamFramer();
    assert.deepEqual(texts(f.push(Buffer.concat([both, a]))), texts([a, b, a]));
    assert.deepEqual(f.push(Buffer.alloc(0)), []);
  });

  it('reassembles two messages split at every possible point', () => {
    for (let cut = 0; cut <= both.length; cut++) {
      const f = new StreamFramer();
      const out = [...f.push(both.subarray(0, cut)), ...f.push(both.subarray(cut))];
      assert.deepEqual(texts(out), texts([a, b]), `split at ${cut}`);
    }
  });

  it('reassembles a message arriving one byte at a time', () => {
    const f = new StreamFramer();
    const out: Buffer[] = [];
    for (let i = 0; i < both.length; i++) out.push(...f.push(both.subarray(i, i + 1)));
    assert.deepEqual(texts(out), texts([a, b]));
    const msg = parseMessage(out[0]!);
    assert.equal(msg.body.toString(), 'hello');
  });

  it('skips CRLF keep-alives between messages (RFC 5626 §3.5.1)', () => {
    const f = new StreamFramer();
    const stream = Buffer.concat([Buffer.from('\r\n\r\n'), a, Buffer.from('\r\n'), Buffer.from('\r\n\r\n'), b, Buffer.from('\r\n')]);
    assert.deepEqual(texts(f.push(stream)), texts([a, b]));
    assert.deepEqual(texts(f.push(a)), texts([a]), 'the framer is clean after trailing keep-alives');
  });

  it('reports each CRLFCRLF ping between messages, however the stream is cut (RFC 5626 §3.5.1)', () => {
    // Two pings, a message, a pong-sized CRLF and a third ping (a lone CRLF is not a ping), then a message.
    const stream = Buffer.concat([Buffer.from('\r\n\r\n\r\n\r\n'), a, Buffer.from('\r\n'), b, Buffer.from('\r\n\r\n'), a]);
    for (let cut = 0; cut <= stream.length; cut++) {
      let pings = 0;
      const f = new StreamFramer({ onPing: () => pings++ });
      const out = [...f.push(stream.subarray(0, cut)), ...f.push(stream.subarray(cut))];
      assert.deepEqual(texts(out), texts([a, b, a]), `split at ${cut}`);
      assert.equal(pings, 3, `pings, split at ${cut}`);
    }
  });

  it('reads a folded or compact Content-Length', () => {
    const folded = wire(...OPTIONS, 'Content-Length:', ' 2', '', 'ok');
    assert.deepEqual(texts(new StreamFramer().push(folded)), texts([folded]));
  });

  it('throws on a missing or doubled Content-Length (the connection is then closed)', () => {
    assert.match(parseError(() => new StreamFramer().push(wire(...OPTIONS, '', ''))).reason, /Missing Content-Length/);
    assert.match(parseError(() => new StreamFramer().push(wire(...OPTIONS, 'Content-Length: 1', 'l: 2', '', 'ab'))).reason, /Multiple Content-Length/);
    assert.match(parseError(() => new StreamFramer().push(wire(...OPTIONS, 'Content-Length: -1', '', ''))).reason, /Bad Content-Length/);
  });

  it('throws on an oversized header section or message, without waiting for the rest', () => {
    const f = new StreamFramer();
    const endless = Buffer.from(`OPTIONS sip:x SIP/2.0\r\nX: ${'a'.repeat(1000)}`);
    assert.throws(() => {
      for (let i = 0; i < 100; i++) f.push(endless);
    }, (e: unknown) => e instanceof SipParseError && e.reason === 'Header section too large');
    const big = wire(...OPTIONS, 'Content-Length: 100000', '', '');
    assert.equal(parseError(() => new StreamFramer().push(big)).reason, 'Message too large');
    const small = new StreamFramer({ maxMessageBytes: a.length - 1 });
    assert.equal(parseError(() => small.push(a)).reason, 'Message too large');
    assert.deepEqual(texts(new StreamFramer({ maxMessageBytes: a.length }).push(a)), texts([a]), 'the limit itself is allowed');
  });
});
