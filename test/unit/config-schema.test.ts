/**
 * Settings that are accepted must do something: codecs other than G.711, G.722 and telephone-event are refused by
 * name (docs/configuration.md); a certificate without its key is
 * refused.
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

  it('sipTransport tls is accepted; sipTlsPort defaults to 5061 (RFC 3263)', () => {
    const config = loadConfig({ env: {}, cwd: '/nonexistent', overrides: { sipTransport: 'tls' } });
    assert.equal(config.sipTransport, 'tls');
    assert.equal(config.sipTlsPort, 5061);
  });

  it('sipTlsCert without sipTlsKey (and the reverse): refused, naming the missing one', () => {
    assert.match(refusal({ sipTlsCert: '/x/cert.pem' }), /^ {2}sipTlsKey \(got undefined\): sipTlsCert and sipTlsKey go together$/m);
    assert.match(refusal({ sipTlsKey: '/x/key.pem' }), /^ {2}sipTlsCert \(got undefined\): sipTlsCert and sipTlsKey go together$/m);
  });

  it('opus (or any codec but G.711, G.722 and telephone-event): refused, naming it', () => {
    assert.match(refusal({ codecs: 'opus,pcmu,pcma,telephone-event' }), /^ {2}codecs \(got "opus,pcmu,pcma,telephone-event"\): opus not a SIP-side codec callhook has: the codecs are pcmu, pcma, g722 and telephone-event \(Opus is the browser side's, see codecPolicy\)$/m);
    assert.match(refusal({ codecs: 'g729,opus,pcmu' }), /codecs \(got "g729,opus,pcmu"\): g729, opus not a SIP-side codec/);
  });

  it('g722 alone is a codec list calls can use', () => {
    assert.equal(loadConfig({ env: {}, cwd: '/nonexistent', overrides: { codecs: 'g722,telephone-event' } }).codecs, 'g722,telephone-event');
  });

  it('webrtcPort (one UDP port for all browsers) with the werift engine, which has no ICE UDP mux: refused', () => {
    assert.match(refusal({ webrtcPort: 35000, webrtcEngine: 'werift' }), /^ {2}webrtcPort \(got 35000\): needs webrtcEngine "libdatachannel" \(werift and native have no ICE UDP mux\)$/m);
    assert.equal(loadConfig({ env: {}, cwd: '/nonexistent', overrides: { webrtcPort: 35000, webrtcEngine: 'libdatachannel' } }).webrtcPort, 35000);
  });

  it('a list without an audio codec: every call would fail, so it is refused', () => {
    assert.match(refusal({ codecs: 'telephone-event' }), /codecs \(got "telephone-event"\): needs pcmu, pcma or g722: calls relay audio in one of them$/m);
  });
});
