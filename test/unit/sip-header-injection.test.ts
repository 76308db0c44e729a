/**
 * Header injection (issue 10, item 4): what an application may add to a request (a call's `inviteParameters`) is
 * checked by the SIP stack — token names (RFC 3261 §25.1), no compact forms (§7.3.3) in any case, none of the
 * headers the stack writes, no control characters in values. Content types from clients are held to the same rule.
 * (The serializer only turns CR and LF into SP: other control characters may legally travel as quoted-pairs,
 * RFC 3261 §25.1, RFC 4475 §3.1.1.2, so it cannot remove them from what it relays.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SipError } from '../../src/sip/errors.ts';
import { checkExtensionHeader } from '../../src/sip/message/header-names.ts';
import type { SipUri } from '../../src/sip/message/types.ts';
import { parseUri } from '../../src/sip/message/uri.ts';
import { Inviter } from '../../src/sip/ua/inviter.ts';
import type { UserAgent } from '../../src/sip/ua/user-agent.ts';
import { isMediaType } from '../../src/gateway/media-type.ts';

/** The message checkExtensionHeader refuses `name: value` with (fails the test when it accepts it). */
function refusal(name: string, value = 'v'): string {
  try {
    checkExtensionHeader(name, value);
  } catch (e) {
    assert.ok(e instanceof SipError && e.code === 'SIP_HEADER', `SipError SIP_HEADER, got ${String(e)}`);
    return e.message;
  }
  assert.fail(`${JSON.stringify(name)}: ${JSON.stringify(value)} was accepted`);
}

describe('checkExtensionHeader', () => {
  it('accepts extension headers with token names and text values (HTAB and UTF-8 included)', () => {
    for (const [name, value] of [
      ['X-Tag', 'a'], ['P-Preferred-Identity', '<sip:alice@example.com>'], ['User-to-User', '56a390f3d2b7310023a2;encoding=hex'],
      ['x.y!%*_+`\'~', 'v'], ['Subject', 'Meeting'], ['X-Tab', 'a\tb'], ['X-Name', 'Jürgen ✓'], ['X-Empty', ''],
    ]) {
      assert.doesNotThrow(() => checkExtensionHeader(name!, value!), name);
    }
  });

  it('refuses the compact forms of RFC 3261 §7.3.3 and every other one-letter name, in any case', () => {
    const compact = { i: 'Call-ID', m: 'Contact', e: 'Content-Encoding', f: 'From', t: 'To', c: 'Content-Type', k: 'Supported', l: 'Content-Length', s: 'Subject', v: 'Via' };
    for (const [letter, long] of Object.entries(compact)) {
      for (const name of [letter, letter.toUpperCase()]) {
        assert.equal(refusal(name), `header name "${name}" is the compact form of ${long} (RFC 3261 §7.3.3)`);
      }
    }
    assert.equal(refusal('q'), 'header name "q" is a letter kept for compact forms (RFC 3261 §7.3.3)');
    assert.equal(refusal('Z'), 'header name "Z" is a letter kept for compact forms (RFC 3261 §7.3.3)');
  });

  it('refuses the headers the stack writes, in any spelling', () => {
    for (const name of [
      'Contact', 'contact', 'CONTACT', 'Call-ID', 'call-id', 'Call-Id', 'From', 'to', 'Via', 'CSeq', 'cseq', 'Max-Forwards', 'Route',
      'Record-Route', 'Content-Type', 'content-length', 'Content-Encoding', 'Authorization', 'proxy-authorization',
    ]) {
      assert.equal(refusal(name), `header "${name}" is written by the SIP stack itself`);
    }
  });

  it('refuses names that are not RFC 3261 tokens, naming the character', () => {
    assert.equal(refusal('X Tag'), 'header name "X Tag" is not an RFC 3261 token (U+0020 at 1)');
    assert.equal(refusal('X-Tag:'), 'header name "X-Tag:" is not an RFC 3261 token (\':\' at 5)');
    assert.equal(refusal('X\r\nContact'), 'header name "X\\r\\nContact" is not an RFC 3261 token (U+000D at 1)');
    // RFC 7230 tchar, but not an RFC 3261 token
    assert.equal(refusal('X#Tag'), 'header name "X#Tag" is not an RFC 3261 token (\'#\' at 1)');
    assert.match(refusal('Ünï'), /^header name "Ünï" is not an RFC 3261 token \(U\+00DC at 0\)$/);
    assert.equal(refusal(''), 'a header name is empty');
  });

  it('refuses values with a control character other than HTAB, naming it and where', () => {
    for (const [c, code] of [['\u000b', '000B'], ['\u0007', '0007'], ['\u0000', '0000'], ['\r', '000D'], ['\n', '000A'], ['\u001f', '001F'], ['\u007f', '007F']]) {
      assert.equal(refusal('X-Tag', `ab${c}Contact: x`), `the value of header "X-Tag" has a control character (U+${code} at 2)`);
    }
  });

  it('guards the Inviter: a refused header throws before anything is set up', () => {
    const options = { account: { aor: parseUri('sip:alice@example.com') as SipUri, nextHop: { host: 'example.com', transport: 'UDP' as const } }, target: parseUri('sip:bob@example.com'), sdp: Buffer.alloc(0) };
    // No user agent at all: the check comes first, so nothing of it is touched.
    const ua = {} as UserAgent;
    assert.throws(() => new Inviter(ua, { ...options, headers: [{ name: 'X-Ok', value: 'a' }, { name: 'm', value: '<sip:evil@192.0.2.1>' }] }), { name: 'SipError', code: 'SIP_HEADER' });
    assert.throws(() => new Inviter(ua, { ...options, headers: [{ name: 'X-Bell', value: 'ring\u0007' }] }), /control character \(U\+0007 at 4\)/);
  });
});

describe('content types from clients and hooks (isMediaType)', () => {
  it('accepts media types with parameters, quoted or not, with SP or HTAB around ";"', () => {
    for (const t of ['text/plain', 'text/plain; charset=utf-8', 'application/json;a="x y"', 'text/plain\t;\tq="a\tb"']) assert.equal(isMediaType(t), true, t);
  });

  it('refuses control characters anywhere, quoted values and the space around ";" included', () => {
    for (const t of ['text/plain;a="\u000b"', 'text/plain;a="x\r\nContact: y"', 'text/plain\r\n;a=b', 'text/plain\u000b;a=b', 'text/plain;a="\u0007"']) {
      assert.equal(isMediaType(t), false, JSON.stringify(t));
    }
  });
});
