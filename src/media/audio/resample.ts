/**
 * Sample-rate conversion of a whole sound to G.711's 8000 Hz, with libsamplerate (Erik de Castro Lopo's band-limited
 * sinc converter, compiled to WebAssembly by @alexanderolsen/libsamplerate-js). A sound is converted once, when it
 * is loaded, never per packet, so the medium-quality sinc converter costs nothing that matters. The package is
 * loaded at the first sound that needs converting: its WebAssembly module takes about 17 MiB of RSS, a fifth of an
 * idle server's (issue 18), for a feature most servers never use. It is CommonJS: `require` gives its exports the
 * same way under Node and tsx, where a dynamic `import()` does not.
 */
import { createRequire } from 'node:module';

type LibSampleRate = typeof import('@alexanderolsen/libsamplerate-js');

/** G.711's only clock rate (RFC 3551 §4.5.14). */
export const G711_RATE = 8000;

/** 16-bit samples at `rate` as 16-bit samples at 8000 Hz (the same samples when `rate` is 8000). */
export async function resampleTo8k(samples: Int16Array, rate: number): Promise<Int16Array> {
  if (rate === G711_RATE) return samples;
  const { create, ConverterType } = createRequire(import.meta.url)('@alexanderolsen/libsamplerate-js') as LibSampleRate;
  const converter = await create(1, rate, G711_RATE, {
    converterType: ConverterType.SRC_SINC_MEDIUM_QUALITY,
  });
  try {
    const input = Float32Array.from(samples, (s) => s / 32768);
    const output = converter.simple(input);
    return Int16Array.from(output, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32768))));
  } finally {
    converter.destroy();
  }
}
