/**
 * Settings that are accepted must do something: SIP over TLS and codecs other than G.711, G.722 and telephone-event are
 * refused by name, with a message saying they are not supported yet (docs/configuration.md).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

/** The message loadConfig throws for these settings (no file, no environment). */
function refusal(overrides: Record<string, unknown>): string {
  try {
    loadConfig({ env: {}, cwd: '/nonexistent', overrides });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message;
  }
  throw new Error(`${JSON.stringify(overrides)} was accepted`);
}

describe('settings that would do nothing are refused', () => {
  it('the codecs default is what calls use: pcmu,pcma,g722,telephone-event', () => {
    assert.equal(loadConfig({ env: {}, cwd: '/nonexistent' }).codecs, 'pcmu,pcma,g722,telephone-event');
    assert.equal(loadConfig({ env: {}, cwd: '/nonexistent', overrides: { codecs: 'pcma,pcmu' } }).codecs, 'pcma,pcmu');
  });

  it('sipTransport tls: not supported yet', () => {
    assert.match(refusal({ sipTransport: 'tls' }), /^ {2}sipTransport \(got "tls"\): SIP over TLS is not supported yet: use udp or tcp$/m);
  });

  it('sipTlsPort: not supported yet', () => {
    assert.match(refusal({ sipTlsPort: 5061 }), /^ {2}sipTlsPort \(got 5061\): SIP over TLS is not supported yet: leave sipTlsPort out$/m);
  });

  it('opus (or any codec but G.711, G.722 and telephone-event): not supported yet, naming it', () => {
    assert.match(refusal({ codecs: 'opus,pcmu,pcma,telephone-event' }), /^ {2}codecs \(got "opus,pcmu,pcma,telephone-event"\): opus not supported yet: calls relay G\.711 and G\.722 without transcoding, so the codecs are pcmu, pcma, g722 and telephone-event$/m);
    assert.match(refusal({ codecs: 'g729,opus,pcmu' }), /codecs \(got "g729,opus,pcmu"\): g729, opus not supported yet/);
  });

  it('g722 alone is a codec list calls can use', () => {
    assert.equal(loadConfig({ env: {}, cwd: '/nonexistent', overrides: { codecs: 'g722,telephone-event' } }).codecs, 'g722,telephone-event');
  });

  it('a list without an audio codec: every call would fail, so it is refused', () => {
    assert.match(refusal({ codecs: 'telephone-event' }), /codecs \(got "telephone-event"\): needs pcmu, pcma or g722: calls relay audio in one of them$/m);
  });
});
