/** ./src/client-api/forwarded.ts: which address of X-Forwarded-For is the client's. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forwardedClient, trustedProxySet } from '../../src/client-api/forwarded.ts';

describe('forwardedClient', () => {
  const trusted = trustedProxySet('10.0.0.1, 10.0.0.2,::1');

  it('believes the header only from a trusted proxy', () => {
    assert.equal(forwardedClient('10.0.0.1', '203.0.113.7', trusted), '203.0.113.7');
    assert.equal(forwardedClient('::ffff:10.0.0.1', '203.0.113.7', trusted), '203.0.113.7', 'an IPv4-mapped peer');
    assert.equal(forwardedClient('::1', '2001:db8::5', trusted), '2001:db8::5');
    assert.equal(forwardedClient('192.0.2.1', '203.0.113.7', trusted), undefined);
    assert.equal(forwardedClient('10.0.0.1', undefined, trusted), undefined);
    assert.equal(forwardedClient('10.0.0.1', '203.0.113.7', trustedProxySet('')), undefined, 'none trusted by default');
  });

  it('takes the nearest hop that is not a trusted proxy, across repeated headers', () => {
    assert.equal(forwardedClient('10.0.0.1', '198.51.100.1, 203.0.113.7, 10.0.0.2', trusted), '203.0.113.7');
    assert.equal(forwardedClient('10.0.0.1', ['198.51.100.1', '203.0.113.7'], trusted), '203.0.113.7');
  });

  it('stops at what is not an address, and when every hop is a proxy', () => {
    assert.equal(forwardedClient('10.0.0.1', '203.0.113.7, unknown', trusted), undefined);
    assert.equal(forwardedClient('10.0.0.1', '', trusted), undefined);
    assert.equal(forwardedClient('10.0.0.1', '10.0.0.2', trusted), undefined);
  });
});
