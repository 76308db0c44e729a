/**
 * Transcoded calls under load (issue 15): bench/media-relay.ts with every call transcoded — a werift peer per call
 * playing an Opus browser (20 ms Opus frames), the relay decoding them to PCMU for a UDP peer that echoes like
 * `sipp -rtp_echo`, and encoding the echo back to Opus. Steps of concurrent calls until the relay process passes
 * 80 % of one core or loses packets; compare its CPU per call with the passthrough run of bench/media-relay.ts.
 *
 *   node --import tsx bench/transcode.ts [maxCalls=400] [windowSeconds=10]
 */
process.env['MEDIA_BENCH_CODEC'] = 'opus';
await import('./media-relay.ts');
