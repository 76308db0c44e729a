/**
 * What the benches' browser peers send as Opus: a second of a 1 kHz tone in 20 ms packets, encoded as Chrome encodes
 * a microphone (its WebRTC audio_encoder_opus.cc: 48 kHz, voice, in-band FEC), so the relay decodes the kind of
 * packets a browser sends; @discordjs/opus's own defaults (music, a higher bitrate) give packets that cost the
 * decoder more. Like Chrome, it honours the `maxplaybackrate` of our SDP (RFC 7587 §6.1): at most 8000 gives
 * narrowband at 12 kbit/s, at most 16000 wideband at 20 kbit/s, else fullband at 32 kbit/s.
 */
import { createRequire } from 'node:module';

/** libopus CTLs (opus_defines.h). */
const OPUS_SET_BITRATE = 4002;
const OPUS_SET_MAX_BANDWIDTH = 4004;
const OPUS_SET_INBAND_FEC = 4012;
const OPUS_SET_SIGNAL = 4024;
const OPUS_SIGNAL_VOICE = 3001;
const OPUS_BANDWIDTH_NARROWBAND = 1101;
const OPUS_BANDWIDTH_WIDEBAND = 1103;
const OPUS_BANDWIDTH_FULLBAND = 1105;

/** The `maxplaybackrate` of an SDP's Opus fmtp; 48000 (no limit) when it has none. */
export function maxPlaybackRate(sdp: string): number {
  const pt = /a=rtpmap:(\d+) opus\//i.exec(sdp)?.[1];
  const fmtp = pt === undefined ? undefined : new RegExp(`a=fmtp:${pt} (.*)`).exec(sdp)?.[1];
  return Number(/maxplaybackrate=(\d+)/.exec(fmtp ?? '')?.[1] ?? 48000);
}

export function opusTone(playbackRate = 48000): Buffer[] {
  const { OpusEncoder } = createRequire(import.meta.url)('@discordjs/opus') as typeof import('@discordjs/opus');
  const encoder = new OpusEncoder(48000, 1);
  const [bandwidth, bitrate] = playbackRate <= 8000 ? [OPUS_BANDWIDTH_NARROWBAND, 12_000]
    : playbackRate <= 16000 ? [OPUS_BANDWIDTH_WIDEBAND, 20_000] : [OPUS_BANDWIDTH_FULLBAND, 32_000];
  encoder.applyEncoderCTL(OPUS_SET_BITRATE, bitrate);
  encoder.applyEncoderCTL(OPUS_SET_MAX_BANDWIDTH, bandwidth);
  encoder.applyEncoderCTL(OPUS_SET_SIGNAL, OPUS_SIGNAL_VOICE);
  encoder.applyEncoderCTL(OPUS_SET_INBAND_FEC, 1);
  return Array.from({ length: 50 }, (_, f) => {
    const pcm = Buffer.alloc(960 * 2);
    for (let i = 0; i < 960; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 1000 * (f * 960 + i)) / 48000)), i * 2);
    return encoder.encode(pcm);
  });
}
