/**
 * How a session's sip* fields become a SIP account (docs/client-protocol.md "SIP settings of a session"), how a message `to` is
 * resolved, and the sessionId / nodeId formats of docs/hooks.md.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/gateway/errors.ts';
import { displayAddress, newNodeId, sessionIdOf } from '../../src/gateway/ids.ts';
import { accountOf, escapeUser, readSipSettings, resolveTarget } from '../../src/gateway/sip-settings.ts';
import { formatUri } from '../../src/sip/message/uri.ts';

function error(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GatewayError, String(e));
    return `${e.code}: ${e.message}`;
  }
  throw new Error('no error');
}

describe('readSipSettings', () => {
  it('reads what SDK 2.0 sends: port as a string, blanks as not given', () => {
    const s = readSipSettings({
      sipLogin: 'alice', sipAuthenticationName: '', sipPassword: 'pw', sipDomain: 'example.com', sipOutboundProxy: '',
      sipPort: '5070', sipRegisterRequired: true,
    }, 'udp');
    assert.deepEqual(s, { registerRequired: true, transport: 'UDP', srtp: 'off', login: 'alice', password: 'pw', domain: 'example.com', port: 5070 });
  });

  it('takes a backend\'s numbers and "true", and the transport per connection', () => {
    const s = readSipSettings({ sipLogin: 1000, sipPort: 5060, sipRegisterRequired: 'true', sipTransport: 'TCP' }, 'udp');
    assert.deepEqual(s, { registerRequired: true, transport: 'TCP', srtp: 'off', login: '1000', port: 5060 });
    assert.equal(readSipSettings({}, 'tcp').transport, 'TCP');
    assert.equal(readSipSettings({}, 'udp').registerRequired, false, 'absent means no REGISTER');
  });

  it('takes sipSrtp per connection, else the configured default; refuses another value by name', () => {
    assert.equal(readSipSettings({ sipSrtp: 'required' }, 'udp', 'optional').srtp, 'required');
    assert.equal(readSipSettings({ sipSrtp: '' }, 'udp', 'optional').srtp, 'optional');
    assert.equal(readSipSettings({}, 'udp').srtp, 'off');
    assert.equal(error(() => readSipSettings({ sipSrtp: 'yes' }, 'udp')), 'INVALID_SIP_SETTINGS: sipSrtp must be off, optional or required, got "yes"');
  });

  it('names the bad field', () => {
    assert.equal(error(() => readSipSettings({ sipPort: '0' }, 'udp')), 'INVALID_SIP_SETTINGS: sipPort must be a port number from 1 to 65535, got "0"');
    assert.equal(error(() => readSipSettings({ sipPort: 5060.5 }, 'udp')), 'INVALID_SIP_SETTINGS: sipPort must be a port number from 1 to 65535, got 5060.5');
    assert.equal(error(() => readSipSettings({ sipLogin: { a: 1 } }, 'udp')), 'INVALID_SIP_SETTINGS: sipLogin must be a string, got {"a":1}');
    assert.equal(error(() => readSipSettings({ sipVisibleName: 'a\r\nVia: x' }, 'udp')), 'INVALID_SIP_SETTINGS: sipVisibleName must not contain control characters');
    assert.equal(error(() => readSipSettings({ sipRegisterRequired: 1 }, 'udp')), 'INVALID_SIP_SETTINGS: sipRegisterRequired must be true or false, got 1');
    assert.equal(error(() => readSipSettings({ sipTransport: 'ws' }, 'udp')), 'INVALID_SIP_SETTINGS: sipTransport must be udp, tcp or tls, got "ws"');
    assert.equal(readSipSettings({ sipTransport: 'TLS' }, 'udp').transport, 'TLS');
  });
});

describe('accountOf', () => {
  it('AOR sip:<login>@<domain>; digest user sipAuthenticationName, else the login; next hop the outbound proxy', () => {
    const a = accountOf(readSipSettings({
      sipLogin: 'john doe', sipAuthenticationName: 'jd', sipPassword: 'pw', sipVisibleName: 'John', sipDomain: 'example.com',
      sipOutboundProxy: 'proxy.example.com:5080', sipTransport: 'tcp',
    }, 'udp'));
    assert.equal(formatUri(a.aor), 'sip:john%20doe@example.com');
    assert.equal(a.displayName, 'John');
    assert.deepEqual(a.credentials, { username: 'jd', password: 'pw' });
    assert.deepEqual(a.nextHop, { host: 'proxy.example.com', port: 5080, transport: 'TCP' });
  });

  it('without a proxy the domain is the next hop; sipPort wins; no password, no credentials', () => {
    const a = accountOf(readSipSettings({ sipLogin: 'bob', sipDomain: '10.0.0.1', sipPort: 5062 }, 'udp'));
    assert.deepEqual(a.nextHop, { host: '10.0.0.1', port: 5062, transport: 'UDP' });
    assert.equal(a.credentials, undefined);
    const b = accountOf(readSipSettings({ sipLogin: 'bob', sipDomain: 'example.com' }, 'udp'));
    assert.deepEqual(b.nextHop, { host: 'example.com', transport: 'UDP' }, 'no port: RFC 3263 lookups decide');
  });

  it('an IP-literal domain without a proxy takes sipPort into the AOR (the REGISTER Request-URI); a host name or a proxy does not', () => {
    const aor = (fields: Record<string, string | number>) => formatUri(accountOf(readSipSettings({ sipLogin: 'bob', ...fields }, 'udp')).aor);
    assert.equal(aor({ sipDomain: '127.0.0.1', sipPort: 5070 }), 'sip:bob@127.0.0.1:5070');
    assert.equal(aor({ sipDomain: '[::1]', sipPort: '5070' }), 'sip:bob@[::1]:5070');
    assert.equal(aor({ sipDomain: '127.0.0.1:5080', sipPort: 5070 }), 'sip:bob@127.0.0.1:5080', 'a port written in the domain stays');
    assert.equal(aor({ sipDomain: '127.0.0.1', sipOutboundProxy: '10.0.0.2', sipPort: 5070 }), 'sip:bob@127.0.0.1', 'the port is the proxy\'s');
    assert.equal(aor({ sipDomain: 'pbx.example.com', sipPort: 5070 }), 'sip:bob@pbx.example.com', 'a domain name stays bare');
    assert.equal(aor({ sipDomain: '127.0.0.1' }), 'sip:bob@127.0.0.1');
  });

  it('needs a login and a domain that is a host', () => {
    assert.equal(error(() => accountOf(readSipSettings({}, 'udp'))), 'NO_SIP_IDENTITY: no SIP identity: sipLogin and sipDomain are not set');
    assert.equal(error(() => accountOf(readSipSettings({ sipLogin: 'a' }, 'udp'))), 'NO_SIP_IDENTITY: no SIP identity: sipDomain is not set');
    assert.match(error(() => accountOf(readSipSettings({ sipLogin: 'a', sipDomain: 'exa mple.com' }, 'udp'))), /^INVALID_SIP_SETTINGS: sipDomain "exa mple\.com" is not a host name or address/);
    assert.match(error(() => accountOf(readSipSettings({ sipLogin: 'a', sipDomain: 'b@c' }, 'udp'))), /^INVALID_SIP_SETTINGS: sipDomain "b@c" is not a host name or address/);
  });
});

describe('resolveTarget', () => {
  const domain = accountOf(readSipSettings({ sipLogin: 'me', sipDomain: 'example.com' }, 'udp')).aor;
  it('keeps full URIs, prefixes user@host, puts a bare user into the session\'s domain', () => {
    assert.equal(formatUri(resolveTarget('sips:bob@other.org', domain)), 'sips:bob@other.org');
    assert.equal(formatUri(resolveTarget('tel:+15551234', domain)), 'tel:+15551234');
    assert.equal(formatUri(resolveTarget('bob@other.org', domain)), 'sip:bob@other.org');
    assert.equal(formatUri(resolveTarget(' 1000 ', domain)), 'sip:1000@example.com');
    assert.equal(formatUri(resolveTarget('Mr Smith', domain)), 'sip:Mr%20Smith@example.com');
  });
  it('refuses what is not a SIP address', () => {
    assert.match(error(() => resolveTarget('sip:', domain)), /^INVALID_TARGET: to "sip:" is not a SIP address/);
    assert.match(error(() => resolveTarget('a@b c', domain)), /^INVALID_TARGET: to "a@b c" is not a SIP address/);
  });
});

describe('escapeUser', () => {
  it('escapes what RFC 3261 user does not allow, UTF-8 per byte', () => {
    assert.equal(escapeUser("alice.o'hara+1;x=y?"), "alice.o'hara+1;x=y?");
    assert.equal(escapeUser('a b@c%d'), 'a%20b%40c%25d');
    assert.equal(escapeUser('jürgen'), 'j%C3%BCrgen');
  });
});

describe('ids', () => {
  it('sessionId is /<client ip>:<port>/<server ip>:<port>, IPv4-mapped shown as IPv4, IPv6 bracketed', () => {
    assert.equal(sessionIdOf({ remoteAddress: '::ffff:192.168.1.38', remotePort: 64604, localAddress: '::ffff:192.168.1.59', localPort: 8443 }), '/192.168.1.38:64604/192.168.1.59:8443');
    assert.equal(sessionIdOf({ remoteAddress: '::1', remotePort: 1, localAddress: '2001:db8::2', localPort: 8080 }), '/[::1]:1/[2001:db8::2]:8080');
    assert.equal(displayAddress('10.0.0.1'), '10.0.0.1');
  });
  it('nodeId is <32 letters and digits>@<server ip>, different per server', () => {
    const a = newNodeId('192.168.1.59');
    assert.match(a, /^[A-Za-z0-9]{32}@192\.168\.1\.59$/);
    assert.notEqual(a, newNodeId('192.168.1.59'));
  });
});
