/**
 * The comparison kit's one way to place a call, for both servers alike: a session of its own over the server's
 * WebSocket, a browser on the browsers' end of the veth pair (bench/compare/namespace.ts), to sip:bob at
 * sipp's `-rtp_echo` UAS, as caller<index> (the From user sipp's trace shows, so bench/compare/setup.ts can match the
 * INVITE to the call). It needs only the server's WebSocket URL, so the load-client processes of the setup
 * measurement (bench/compare/setup-client.ts) place calls exactly as the kit's own process does.
 *
 * The browser is one of two (`CallTarget.browser`), the same for both servers: werift's (bench/media-peers.ts
 * BrowserPeer: ICE, DTLS and SRTP in JavaScript, 13–18 ms of CPU per call set up) or libdatachannel's
 * (bench/datachannel-browser.ts: the same offer, those in C++), so that the load client can cost less than the server.
 *
 * Each call keeps when its steps happened, in ms since the epoch with sub-millisecond precision (the same clock as
 * sipp's trace): `call` sent, answered (callhook's ESTABLISHED; Janus's `accepted` event), and DTLS up.
 */
import { DataChannelBrowserPeer } from '../datachannel-browser.ts';
import { BrowserPeer, type WebRtcPeer } from '../media-peers.ts';
import { WebRtcClient } from '../../test/support/webrtc-client.ts';
import { JanusSipSession } from './janus-client.ts';
import { epochMs } from './load.ts';
import { BROWSER_ADDRESS } from './namespace.ts';

export type ServerName = 'janus' | 'callhook';

export const BROWSERS = ['werift', 'libdatachannel'] as const;
/** Which WebRTC stack plays the browsers. */
export type BrowserName = (typeof BROWSERS)[number];

/** The server a load client calls through. */
export interface CallTarget {
  server: ServerName;
  wsUrl: string;
  sippPort: number;
  browser: BrowserName;
}

/** When a call's steps happened, ms since the epoch. */
export interface CallTimes {
  /** Before its session's WebSocket opened. */
  started: number;
  /** The `call` (callhook) or `call` request with the offer (Janus) sent. */
  sent: number;
  /** ESTABLISHED (callhook) or `accepted` (Janus) received. */
  answered: number;
  /** The browser's DTLS connection to the server up. */
  connected: number;
}

/** A call answered by sipp's echo, with the browser's DTLS up. */
export interface EchoCall {
  peer: WebRtcPeer;
  /** The G.711 payload type the server's answer settled on. */
  payloadType: number;
  times: CallTimes;
  hangup(): Promise<void>;
}

const CALL_TIMEOUT_MS = 30_000;

/** A browser of kind `name` gathering on the browsers' address. */
export function newBrowser(name: BrowserName): WebRtcPeer {
  return name === 'libdatachannel' ? new DataChannelBrowserPeer({ address: BROWSER_ADDRESS }) : new BrowserPeer({ address: BROWSER_ADDRESS });
}

/** A getter of when `peer`'s connection came up (0 until then): the event's time, not when an await sees it. */
function connectedAt(peer: WebRtcPeer): () => number {
  let at = 0;
  peer.onConnected(() => {
    at = epochMs();
  });
  return () => at;
}

/** Call number `index`, from its own session, to sip:bob at sipp. */
export function placeCall(target: CallTarget, index: number): Promise<EchoCall> {
  return target.server === 'janus' ? janusCall(target, index) : callhookCall(target, index);
}

async function janusCall(target: CallTarget, index: number): Promise<EchoCall> {
  const started = epochMs();
  const s = await JanusSipSession.open(target.wsUrl);
  await s.guest(`caller${index}`, '127.0.0.1');
  const peer = newBrowser(target.browser);
  const connected = connectedAt(peer);
  const answer = await s.call(`sip:bob@127.0.0.1:${target.sippPort}`, peer);
  await peer.connected(CALL_TIMEOUT_MS);
  return {
    peer,
    payloadType: answer.payloadType,
    times: { started, sent: answer.sent, answered: answer.acceptedAt, connected: connected() },
    async hangup() {
      await s.hangup();
      await peer.close();
      await s.close();
    },
  };
}

async function callhookCall(target: CallTarget, index: number): Promise<EchoCall> {
  const started = epochMs();
  const c = await WebRtcClient.connect(target.wsUrl, { sipLogin: `caller${index}`, sipDomain: '127.0.0.1', sipPort: target.sippPort });
  // The frame's arrival, not when the client's polling (waitStatus) sees it.
  let answered = 0;
  c.ws.ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (answered === 0 && !isBinary && data.includes('"ESTABLISHED"')) answered = epochMs();
  });
  const peer = newBrowser(target.browser);
  const connected = connectedAt(peer);
  // `call` goes out as soon as the offer is made (WebRtcClient.call); the offer is the browser's work.
  const call = await c.call('bob', {}, peer);
  const sent = epochMs();
  await call.waitStatus('ESTABLISHED', CALL_TIMEOUT_MS);
  await call.connected(CALL_TIMEOUT_MS);
  return {
    peer,
    payloadType: call.audioPayloadType,
    times: { started, sent, answered, connected: connected() },
    async hangup() {
      call.hangup();
      await call.waitEnd(CALL_TIMEOUT_MS);
      await c.close();
    },
  };
}
