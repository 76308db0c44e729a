/**
 * Real-world shaped SDPs for the media tests, written after what the peers send: Chrome's offer for a call with
 * audio and video (WCS SDK `createCall(...).call()`), a desk phone's offer, and the hold variants of RFC 3264 §8.4.
 * Lines end in CRLF as on the wire.
 */

const crlf = (lines: string[]): string => lines.join('\r\n') + '\r\n';

const CHROME_FINGERPRINT =
  'sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF';

/** Chrome's offer: Opus, RED, G.722, PCMU, PCMA, CN and telephone-event at 48000 and 8000 Hz; VP8 video. */
export const CHROME_OFFER = crlf([
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS 5b0b7c7e-stream',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1467250027 1 udp 2122260223 192.168.1.20 46243 typ host generation 0 network-id 1',
  'a=candidate:435653019 1 udp 1686052607 203.0.113.7 46243 typ srflx raddr 192.168.1.20 rport 46243 generation 0 network-id 1',
  'a=ice-ufrag:Xq4v',
  'a=ice-pwd:0hF5JqkqQyZ4xMcP3sJf0j6H',
  'a=ice-options:trickle',
  `a=fingerprint:${CHROME_FINGERPRINT}`,
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendrecv',
  'a=msid:5b0b7c7e-stream 8c1d2e3f-track',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:3735928559 cname:k2JH3f8sQ1Xy9a0b',
  'a=ssrc:3735928559 msid:5b0b7c7e-stream 8c1d2e3f-track',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=ice-ufrag:Xq4v',
  'a=ice-pwd:0hF5JqkqQyZ4xMcP3sJf0j6H',
  'a=ice-options:trickle',
  `a=fingerprint:${CHROME_FINGERPRINT}`,
  'a=setup:actpass',
  'a=mid:1',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
]);

/** A desk phone's offer: PCMA first, G.729 and G.722, telephone-event/8000 as 101, static types with rtpmap. */
export const PHONE_OFFER = crlf([
  'v=0',
  'o=- 20518 0 IN IP4 192.0.2.10',
  's=SDP data',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 11780 RTP/AVP 8 0 18 9 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:18 G729/8000',
  'a=fmtp:18 annexb=no',
  'a=rtpmap:9 G722/8000',
  'a=fmtp:101 0-15',
  'a=rtpmap:101 telephone-event/8000',
  'a=ptime:20',
  'a=sendrecv',
]);

/** The same phone in a re-INVITE with its own changes (session version 1). */
function phoneReOffer(direction: string, address = '192.0.2.10'): string {
  return crlf([
    'v=0',
    `o=- 20518 1 IN IP4 192.0.2.10`,
    's=SDP data',
    `c=IN IP4 ${address}`,
    't=0 0',
    'm=audio 11780 RTP/AVP 8 101',
    'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-15',
    `a=${direction}`,
  ]);
}

/** RFC 3264 §8.4 hold: the phone holds us (sendonly, music on hold may follow). */
export const PHONE_HOLD_SENDONLY = phoneReOffer('sendonly');
/** Hold when it was already receiving nothing. */
export const PHONE_HOLD_INACTIVE = phoneReOffer('inactive');
/** The RFC 2543 way: connection address 0.0.0.0 ("neither RTP nor RTCP should be sent"). */
export const PHONE_HOLD_ZERO_ADDRESS = phoneReOffer('sendrecv', '0.0.0.0');

/** An old gateway: static payload types without rtpmap lines, direction at session level. */
export const GATEWAY_OFFER = crlf([
  'v=0',
  'o=gw 1 1 IN IP4 198.51.100.5',
  's=-',
  'c=IN IP4 198.51.100.5',
  't=0 0',
  'a=sendonly',
  'm=audio 20000 RTP/AVP 0 8',
]);

/** Only codecs the relay cannot pass through. */
export const G729_ONLY_OFFER = crlf([
  'v=0',
  'o=- 7 7 IN IP4 192.0.2.20',
  's=-',
  'c=IN IP4 192.0.2.20',
  't=0 0',
  'm=audio 4000 RTP/AVP 18',
  'a=rtpmap:18 G729/8000',
]);
