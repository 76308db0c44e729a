/**
 * The transport layer's Via rules as pure functions: RFC 3261 §18.2.1 (received), RFC 3581 §4 (rport), RFC 3261
 * §18.2.2 with RFC 3581 §4 (where a response goes), §8.1.1.7 (our Via).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatVia, parseVia } from '../../src/sip/message/headers.ts';
import { endpointKey, normalizeAddress } from '../../src/sip/transport/transport.ts';
import { defaultPort, requestVia, stampReceived, viaDestination } from '../../src/sip/transport/via.ts';

describe('normalizeAddress / endpointKey', () => {
  it('IPv4-mapped IPv6 (dual-stack sockets) reads as IPv4; IPv6 loses brackets and case', () => {
    assert.equal(normalizeAddress('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(normalizeAddress('[2001:DB8::1]'), '2001:db8::1');
    assert.equal(normalizeAddress('Host.Example.COM'), 'host.example.com');
    assert.equal(endpointKey({ address: '::FFFF:127.0.0.1', port: 5060 }), endpointKey({ address: '127.0.0.1', port: 5060 }));
    assert.notEqual(endpointKey({ address: '127.0.0.1', port: 5060 }), endpointKey({ address: '127.0.0.1', port: 5061 }));
  });
});

describe('requestVia (RFC 3261 §8.1.1.7, RFC 3581 §3)', () => {
  it('carries our sent-by, a z9hG4bK branch and an empty rport', () => {
    const via = requestVia('UDP', { address: '192.0.2.1', port: 5062 });
    assert.match(formatVia(via), /^SIP\/2\.0\/UDP 192\.0\.2\.1:5062;branch=z9hG4bK[\w-]+;rport$/);
    assert.notEqual(requestVia('UDP', { address: '192.0.2.1', port: 5062 }).params.get('branch'), via.params.get('branch'));
  });

  it('keeps a given branch and brackets IPv6 hosts', () => {
    const via = requestVia('TCP', { address: '2001:db8::1', port: 5060 }, 'z9hG4bKfixed');
    assert.equal(formatVia(via), 'SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKfixed;rport');
    assert.deepEqual(parseVia(formatVia(via)).host, '[2001:db8::1]');
  });

  it('over TLS adds alias (RFC 5923 §5), which TCP does not (its peers are not authenticated)', () => {
    assert.equal(formatVia(requestVia('TLS', { address: '192.0.2.1', port: 5061 }, 'z9hG4bKfixed')), 'SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bKfixed;rport;alias');
  });
});

describe('stampReceived (RFC 3261 §18.2.1, RFC 3581 §4)', () => {
  const source = { address: '198.51.100.9', port: 40000 };

  it('adds received when the sent-by host differs from the source', () => {
    const via = parseVia('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1');
    assert.equal(stampReceived(via, source), true);
    assert.equal(formatVia(via), 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=198.51.100.9');
  });

  it('fills an empty rport with the source port and adds received even when the host matches', () => {
    const via = parseVia('SIP/2.0/UDP 198.51.100.9:5060;rport;branch=z9hG4bK1');
    assert.equal(stampReceived(via, source), true);
    assert.equal(formatVia(via), 'SIP/2.0/UDP 198.51.100.9:5060;rport=40000;branch=z9hG4bK1;received=198.51.100.9');
  });

  it('changes nothing when the host matches and no rport was asked', () => {
    const via = parseVia('SIP/2.0/UDP 198.51.100.9:5060;branch=z9hG4bK1');
    assert.equal(stampReceived(via, source), false);
    assert.equal(via.params.has('received'), false);
  });

  it('compares a bracketed IPv6 sent-by with the bare source address; a hostname always differs', () => {
    const v6 = parseVia('SIP/2.0/UDP [2001:DB8::1]:5060;branch=z9hG4bK1');
    assert.equal(stampReceived(v6, { address: '2001:db8::1', port: 5060 }), false);
    const named = parseVia('SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK1');
    stampReceived(named, { address: '::ffff:192.0.2.4', port: 5060 });
    assert.equal(named.params.get('received'), '192.0.2.4');
  });
});

describe('viaDestination (RFC 3261 §18.2.2, RFC 3581 §4)', () => {
  it('maddr first, with the sent-by port', () => {
    const via = parseVia('SIP/2.0/UDP 10.0.0.1:5070;maddr=239.255.255.1;received=192.0.2.1;rport=4000;branch=z9hG4bK1');
    assert.deepEqual(viaDestination(via), { address: '239.255.255.1', port: 5070 });
  });

  it('received with rport: the source address and port, NAT or not', () => {
    const via = parseVia('SIP/2.0/UDP 10.0.0.1:5070;received=192.0.2.1;rport=4000;branch=z9hG4bK1');
    assert.deepEqual(viaDestination(via), { address: '192.0.2.1', port: 4000 });
    assert.deepEqual(viaDestination(via, false), { address: '192.0.2.1', port: 5070 }, 'reopening a closed connection uses the sent-by port');
  });

  it('received without rport: received with the sent-by port, or the default port (5060, 5061 for TLS)', () => {
    assert.deepEqual(viaDestination(parseVia('SIP/2.0/UDP 10.0.0.1:5070;received=192.0.2.1')), { address: '192.0.2.1', port: 5070 });
    assert.deepEqual(viaDestination(parseVia('SIP/2.0/UDP 10.0.0.1;received=192.0.2.1')), { address: '192.0.2.1', port: 5060 });
    assert.deepEqual(viaDestination(parseVia('SIP/2.0/TLS 10.0.0.1;received=192.0.2.1')), { address: '192.0.2.1', port: 5061 });
  });

  it('otherwise the sent-by itself; an empty rport is ignored', () => {
    assert.deepEqual(viaDestination(parseVia('SIP/2.0/UDP [::1]:5080;rport;branch=z9hG4bK1')), { address: '::1', port: 5080 });
  });

  it('default ports per RFC 3263 §4.2', () => {
    assert.equal(defaultPort('udp'), 5060);
    assert.equal(defaultPort('TCP'), 5060);
    assert.equal(defaultPort('TLS'), 5061);
    assert.equal(defaultPort('WSS'), 5061);
  });
});
