/**
 * callhook's own media transport (native/media-transport.c, built by `npm ci` with node-gyp): UDP sockets on Node's
 * event loop read several datagrams per wake-up and sent without Node's per-datagram work. A browser leg's socket
 * (`open`) does DTLS-SRTP over the OpenSSL inside Node and SRTP in C, handing up STUN for the ICE-lite agent (./ice/)
 * and RTP decrypted (./native-engine.ts); the RTP leg's (`openUdp`) is a plain socket (./rtp-leg.ts).
 */
import { createRequire } from 'node:module';
import { MediaError } from './errors.ts';

/** An open transport; only the module's functions use it. */
export type TransportHandle = { readonly __brand: 'MediaTransport' };
/** A DTLS context: one certificate and key, shared by the legs that use it. */
export type DtlsContext = { readonly __brand: 'DtlsContext' };

export const TRANSPORT_CONNECTED = 1;
export const TRANSPORT_FAILED = 2;

/**
 * A received datagram: bytes `offset` to `offset + length` of `chunk`, a receive buffer the datagrams that follow
 * share (the addon allocates one per few hundred packets, not one per packet). A chunk is never written twice, so a
 * view of it stays valid; but a view kept for long keeps the whole 64 KiB chunk alive: what is kept is copied.
 */
export type Received<Rest extends unknown[] = []> = (chunk: Buffer, offset: number, length: number, ...rest: Rest) => void;

export interface NativeMedia {
  /** Binds `address`:`port` (0: any); throws an Error whose `code` is the errno name (EADDRINUSE, EACCES). */
  open(
    address: string,
    port: number,
    onStun: Received<[address: string, port: number]>,
    onRtp: Received,
    onEvent: (kind: number, detail: string) => void,
  ): TransportHandle;
  /**
   * A plain UDP socket: every datagram goes up with its source, except while the socket is connected (`connect`),
   * when only that peer is heard and the source is left out. Throws as `open`.
   */
  openUdp(address: string, port: number, onDatagram: Received<[address?: string, port?: number]>): TransportHandle;
  /** Hears only `address`:`port` from now on, and `send` goes there (connect(2)); throws an errno-coded Error. */
  connect(t: TransportHandle, address: string, port: number): void;
  /** Hears any source again. */
  disconnect(t: TransportHandle): void;
  /** Sends on a connected socket; the errno name when the send failed (ECONNREFUSED: the peer's port is closed). */
  send(t: TransportHandle, datagram: Buffer): string | undefined;
  localPort(t: TransportHandle): number;
  sendTo(t: TransportHandle, datagram: Buffer, address: string, port: number): void;
  /** Where DTLS and SRTP go: the pair ICE selected. */
  setRemote(t: TransportHandle, address: string, port: number): void;
  context(certificatePem: string, keyPem: string): DtlsContext;
  /** Starts DTLS in the role a=setup gave us; `fingerprint` is the SHA-256 the browser's SDP names (32 bytes). */
  startDtls(t: TransportHandle, context: DtlsContext, isServer: boolean, fingerprint: Buffer): void;
  /** Protects and sends one RTP packet; false until DTLS-SRTP is up. */
  sendRtp(t: TransportHandle, packet: Buffer): boolean;
  /** Datagrams dropped: failed authentication, replays, or of no protocol the port carries. */
  dropped(t: TransportHandle): number;
  /** Closes the socket (after DTLS close_notify, when up); `done` once its port is free. Safe to call twice. */
  close(t: TransportHandle, done: () => void): void;
}

/** Closes `t`; resolves once its port is free (libuv closes handles in a later turn of the loop). */
export function closeTransport(media: NativeMedia, t: TransportHandle): Promise<void> {
  return new Promise((resolve) => media.close(t, resolve));
}

const ADDON = new URL('../../build/Release/callhook_media.node', import.meta.url);
let loaded: NativeMedia | undefined;

/** The addon, loaded once; MediaError MEDIA_ENGINE_UNAVAILABLE saying how to build it when it is not there. */
export function nativeMedia(): NativeMedia {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)(ADDON.pathname) as NativeMedia;
  } catch (err) {
    throw new MediaError(
      'MEDIA_ENGINE_UNAVAILABLE',
      `the native media transport is not built (${err instanceof Error ? err.message : String(err)}): run \`npm run install\` ` +
        'in callhook\'s folder (node-gyp: python3, make and a C compiler)',
      { cause: err },
    );
  }
  return loaded;
}
