/**
 * libopus's decoder with its full `opus_decode` (RFC 6716 §4), including `decode_fec`: the lost frame rebuilt from
 * the next packet's in-band FEC (LBRR) data. No maintained Node binding of libopus passes decode_fec through (each
 * calls opus_decode with 0; docs/architecture.md "Transcoding" lists them), but @evan/opus ships libopus 1.3.1
 * compiled to WebAssembly with libopus's C API exported as is. Its JavaScript wrapper again hard-codes decode_fec 0,
 * so this module instantiates the package's WebAssembly module itself and calls the exported C functions.
 *
 * One module instance serves every call (this process is single-threaded): its heap holds each call's decoder state
 * and one packet and one PCM buffer that each call uses in turn. What a decoder returns is a view of that PCM buffer,
 * not a copy (a transcoded call decodes 50 frames a second and encodes each at once): it holds until the next
 * decoding by any decoder. A decoder's state is freed when its owner is collected.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { MediaError } from '../errors.ts';

/** The libopus functions the WebAssembly module exports (opus.h), and its allocator. */
interface LibopusExports {
  memory: WebAssembly.Memory;
  malloc(bytes: number): number;
  free(pointer: number): void;
  opus_decoder_get_size(channels: number): number;
  opus_decoder_init(decoder: number, rate: number, channels: number): number;
  opus_decode(decoder: number, data: number, length: number, pcm: number, frameSize: number, decodeFec: number): number;
  opus_strerror(code: number): number;
}

/** The largest Opus packet (RFC 6716 §3.2.1: 1275 bytes a frame, up to 3 frames of a 60 ms packet, and headers). */
const MAX_PACKET_BYTES = 4000;
/** 120 ms at 48 kHz: the longest Opus packet's samples (RFC 6716 §3.2.1). */
const MAX_FRAME_SAMPLES = 5760;

interface Libopus {
  exports: LibopusExports;
  /** The shared packet buffer and PCM buffer, in the module's heap. */
  packet: number;
  pcm: number;
  /** Views of the heap and of the PCM buffer, taken again when the heap grows (a new ArrayBuffer). */
  views: { heap: ArrayBuffer; bytes: Uint8Array; pcm: Int16Array };
  freeing: FinalizationRegistry<number>;
}

let libopus: Libopus | undefined;

function load(): Libopus {
  if (libopus) return libopus;
  try {
    const require = createRequire(import.meta.url);
    // The same choice as the package's own loader: its SIMD build where this engine validates SIMD code.
    const file = WebAssembly.validate(SIMD_PROBE) ? '@evan/opus/wasm/simd.wasm' : '@evan/opus/wasm/opus.wasm';
    const module = new WebAssembly.Module(readFileSync(require.resolve(file)));
    // The module was built against WASI and Emscripten; it calls none of these while decoding.
    const ignore = (): number => 0;
    const instance = new WebAssembly.Instance(module, {
      wasi_snapshot_preview1: { fd_seek: ignore, fd_write: ignore, fd_close: ignore, proc_exit: ignore },
      env: { emscripten_notify_memory_growth: ignore },
    });
    const exports = instance.exports as unknown as LibopusExports;
    const pcm = exports.malloc(MAX_FRAME_SAMPLES * 2);
    libopus = {
      exports, packet: exports.malloc(MAX_PACKET_BYTES), pcm, views: viewsOf(exports.memory.buffer, pcm),
      freeing: new FinalizationRegistry((state) => exports.free(state)),
    };
  } catch (err) {
    throw new MediaError('MEDIA_CODEC_UNAVAILABLE', `the Opus decoder (@evan/opus's libopus in WebAssembly) could not be loaded: ${(err as Error).message}`);
  }
  return libopus;
}

function viewsOf(heap: ArrayBuffer, pcm: number): Libopus['views'] {
  return { heap, bytes: new Uint8Array(heap), pcm: new Int16Array(heap, pcm, MAX_FRAME_SAMPLES) };
}

/** The smallest module with a SIMD instruction (v128.const …; drop): valid only where the engine has SIMD. */
const SIMD_PROBE = Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11);

/** One mono libopus decoder at `rate`. */
export class LibopusDecoder {
  private readonly lib = load();
  private readonly state: number;

  constructor(rate: number) {
    const { exports, freeing } = this.lib;
    this.state = exports.malloc(exports.opus_decoder_get_size(1));
    const code = exports.opus_decoder_init(this.state, rate, 1);
    if (code !== 0) {
      exports.free(this.state);
      throw new MediaError('MEDIA_CODEC_UNAVAILABLE', `libopus could not create a decoder at ${rate} Hz: ${this.error(code)}`);
    }
    freeing.register(this, this.state);
  }

  /**
   * A packet's PCM (its own duration), valid until the next decoding (see above). Throws MediaError MEDIA_CODEC_DATA
   * for a packet libopus cannot read.
   */
  decode(packet: Uint8Array): Int16Array {
    return this.run(packet, MAX_FRAME_SAMPLES, 0);
  }

  /**
   * `samples` of the frame before `next`, rebuilt from `next`'s in-band FEC data (RFC 7587 §3.3; opus_decode with
   * decode_fec 1). A packet without FEC data yields libopus's concealment instead. The decoder then expects `next`
   * itself, decoded normally.
   */
  recover(next: Uint8Array, samples: number): Int16Array {
    return this.run(next, samples, 1);
  }

  /** `samples` of packet-loss concealment (opus_decode with no data). */
  conceal(samples: number): Int16Array {
    return this.run(undefined, samples, 0);
  }

  private run(packet: Uint8Array | undefined, frameSize: number, decodeFec: 0 | 1): Int16Array {
    const lib = this.lib;
    const { exports } = lib;
    if (packet && packet.length > MAX_PACKET_BYTES) throw new MediaError('MEDIA_CODEC_DATA', `an Opus packet of ${packet.length} bytes is longer than any valid one`);
    // The heap grows (a new ArrayBuffer) when a decoder is made: the views follow it.
    if (lib.views.heap !== exports.memory.buffer) lib.views = viewsOf(exports.memory.buffer, lib.pcm);
    if (packet) lib.views.bytes.set(packet, lib.packet);
    const samples = exports.opus_decode(this.state, packet ? lib.packet : 0, packet?.length ?? 0, lib.pcm, frameSize, decodeFec);
    if (samples < 0) throw new MediaError('MEDIA_CODEC_DATA', `an Opus packet could not be decoded: ${this.error(samples)}`);
    return lib.views.pcm.subarray(0, samples);
  }

  private error(code: number): string {
    const { exports } = this.lib;
    const bytes = new Uint8Array(exports.memory.buffer, exports.opus_strerror(code));
    const end = bytes.indexOf(0);
    return Buffer.from(bytes.subarray(0, end < 0 ? 64 : end)).toString('latin1');
  }
}
