/**
 * A browser in Node for the call tests: the raw WebSocket client of ./ws-client.ts speaking the WCS protocol (the
 * frames of SDK 2.0, byte for byte in shape), with a werift peer connection behind each call (bench/media-peers.ts
 * BrowserPeer: Chrome's audio offer, no ICE candidates, as the SDK sends it), or for an outgoing call any other
 * WebRtcPeer given to `call` (the comparison kit's libdatachannel browser). It makes and answers calls, sends
 * 20 ms G.711 packets and counts what comes back, and records every call frame in order so a test can assert the
 * exact status sequence on the wire.
 *
 *   const client = await WebRtcClient.connect(wsUrl, {sipLogin, …})
 *   const call = await client.call('bob')              `call` with a fresh offer; setRemoteSDP is applied as it comes
 *   await call.waitStatus('ESTABLISHED')
 *   await call.exchangeAudio(100, 90)                   sends 100 packets, waits until 90 came back (an echo)
 *   const incoming = await client.nextIncoming()       after setRemoteSDP + notifyIncomingCall; `answer()` it
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrowserPeer, type WebRtcPeer } from '../../bench/media-peers.ts';
import { parseSdp } from '../../src/media/sdp/parse.ts';
import { eventually } from './eventually.ts';
import { TestClient, type Frame } from './ws-client.ts';

/** Server messages about a call: the call's id is data[0] (setRemoteSDP) or data[0].callId (the rest). */
const CALL_MESSAGES = new Set(['setRemoteSDP', 'notifyTryingResponse', 'ring', 'talk', 'hold', 'finish', 'notifyIncomingCall', 'notifyTransferEvent', 'fail']);
const STATUS_MESSAGES = new Set(['notifyTryingResponse', 'ring', 'talk', 'hold', 'finish']);
const FINAL = new Set(['FINISH', 'BUSY', 'FAILED']);
/** A G.711 packet: 20 ms at 8000 Hz. */
const FRAME_BYTES = 160;
const FRAME_MS = 20;

function callIdOf(f: Frame): string | undefined {
  if (f.message === 'setRemoteSDP') return typeof f.data[0] === 'string' ? f.data[0] : undefined;
  const first = f.data[0] as Record<string, unknown> | undefined;
  return typeof first?.['callId'] === 'string' ? first['callId'] : undefined;
}

export class WebRtcClient {
  private readonly calls = new Map<string, ClientCall<WebRtcPeer>>();
  /** Incoming calls announced and not yet taken by nextIncoming(). */
  private readonly incoming: ClientCall[] = [];
  /** setRemoteSDP for a callId not known yet: the offer of an incoming call. */
  private readonly offers = new Map<string, string>();

  private constructor(
    readonly ws: TestClient,
    /** The connection's data from getUserData. */
    readonly userData: Record<string, unknown>,
    /** The address its calls' ICE uses (default loopback). */
    private readonly iceAddress?: string,
  ) {
    ws.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const parsed = JSON.parse(data.toString()) as { message: string; data: unknown[] };
      if (!CALL_MESSAGES.has(parsed.message)) return;
      this.dispatch({ message: parsed.message, data: parsed.data, raw: data.toString() });
    });
  }

  /**
   * Opens a WebSocket, sends `connection` with `fields`, waits for getUserData — and `registered` when
   * `sipRegisterRequired` is true. `localAddress`: the client's own address (e.g. 127.0.0.2, a second client IP);
   * `iceAddress`: the address its calls' ICE uses (default loopback).
   */
  static async connect(wsUrl: string, fields: Record<string, unknown>, options: { localAddress?: string; iceAddress?: string } = {}): Promise<WebRtcClient> {
    const ws = await TestClient.open(wsUrl, options.localAddress !== undefined ? { localAddress: options.localAddress } : {});
    ws.send('connection', { appKey: 'defaultApp', mediaProviders: ['WebRTC'], clientVersion: '2.0', ...fields });
    const userData = await ws.expect('getUserData', 10_000);
    if (fields['sipRegisterRequired'] === true) {
      const registered = await ws.expect('registered', 10_000);
      if (registered['status'] !== 'REGISTERED') throw new Error(`not registered: ${JSON.stringify(registered)}`);
    }
    return new WebRtcClient(ws, userData, options.iceAddress);
  }

  get sessionId(): string {
    return String(this.userData['sessionId']);
  }

  /**
   * An outgoing call: a fresh offer in `call` (plus `extra` fields), as SDK 2.0's `call.call()` sends it; by a werift
   * peer unless given `peer`.
   */
  async call(callee: string | undefined, extra?: Record<string, unknown>): Promise<ClientCall>;
  async call<P extends WebRtcPeer>(callee: string | undefined, extra: Record<string, unknown>, peer: P): Promise<ClientCall<P>>;
  async call(callee: string | undefined, extra: Record<string, unknown> = {}, peer: WebRtcPeer = this.newPeer()): Promise<ClientCall<WebRtcPeer>> {
    const callId = randomUUID();
    const call = new ClientCall(this, callId, peer, false);
    this.calls.set(callId, call);
    const sdp = await peer.createOffer();
    this.ws.send('call', {
      callId, incoming: false, hasVideo: false, hasAudio: true, status: 'PENDING', mediaProvider: 'WebRTC', sdp,
      caller: this.userData['sipLogin'], ...(callee !== undefined && { callee }), visibleName: this.userData['sipLogin'], ...extra,
    });
    return call;
  }

  /** The next incoming call (notifyIncomingCall), waiting up to `timeoutMs`. */
  nextIncoming(timeoutMs = 10_000): Promise<ClientCall> {
    return eventually(() => this.incoming.shift(), timeoutMs, 'notifyIncomingCall');
  }

  send(message: string, data: Record<string, unknown>): void {
    this.ws.send(message, data);
  }

  private newPeer(): BrowserPeer {
    return new BrowserPeer(this.iceAddress !== undefined ? { address: this.iceAddress } : {});
  }

  /** Closes every call's peer connection and the WebSocket. */
  async close(): Promise<void> {
    for (const c of this.calls.values()) await c.peer.close();
    await this.ws.close();
  }

  private dispatch(f: Frame): void {
    const callId = callIdOf(f);
    if (callId === undefined) return;
    const known = this.calls.get(callId);
    if (known) return known.receive(f);
    if (f.message === 'setRemoteSDP') {
      this.offers.set(callId, String(f.data[1]));
    } else if (f.message === 'notifyIncomingCall') {
      const call = new ClientCall(this, callId, this.newPeer(), true, this.offers.get(callId));
      this.offers.delete(callId);
      this.calls.set(callId, call);
      call.receive(f);
      this.incoming.push(call);
    }
  }
}

/** A call and the browser behind it: a werift BrowserPeer unless the call was placed with another WebRtcPeer. */
export class ClientCall<P extends WebRtcPeer = BrowserPeer> {
  /** Every frame about this call, in order. */
  readonly frames: Frame[] = [];
  /** callhook's SDP: the answer (outgoing) or the offer (incoming). */
  remoteSdp: string | undefined;
  /** Incoming: the offer was there when notifyIncomingCall arrived (docs/client-protocol.md ordering). */
  readonly offerBeforeNotify: boolean;
  /** Why callhook's answer could not be applied (the peer connection was closed first), if it could not. */
  applyError: unknown;
  private sequence = 0;
  private applying: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: WebRtcClient,
    readonly callId: string,
    readonly peer: P,
    readonly incoming: boolean,
    offer?: string,
  ) {
    this.remoteSdp = offer;
    this.offerBeforeNotify = offer !== undefined;
  }

  /** The status of every status frame so far, in order (e.g. TRYING, RING, ESTABLISHED, FINISH). */
  statuses(): string[] {
    return this.frames.filter((f) => STATUS_MESSAGES.has(f.message)).map((f) => String((f.data[0] as Record<string, unknown>)['status']));
  }

  /** The statuses so far, a final one with its info (`FAILED (Failed by session creation: …)`): for a timeout's message. */
  private soFar(): string {
    const seen = this.frames.filter((f) => STATUS_MESSAGES.has(f.message)).map((f) => {
      const call = f.data[0] as Record<string, unknown>;
      return FINAL.has(String(call['status'])) ? `${String(call['status'])} (${String(call['info'])})` : String(call['status']);
    });
    return seen.join(', ') || 'none';
  }

  /** `message:STATUS` of each status frame, to check the routing too (`ring:RING_MEDIA`, `finish:BUSY`). */
  wire(): string[] {
    return this.frames.filter((f) => STATUS_MESSAGES.has(f.message)).map((f) => `${f.message}:${String((f.data[0] as Record<string, unknown>)['status'])}`);
  }

  /** The call object of the first status frame with `status`. */
  waitStatus(status: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return eventually(() => {
      const f = this.frames.find((x) => STATUS_MESSAGES.has(x.message) && (x.data[0] as Record<string, unknown>)['status'] === status);
      return f?.data[0] as Record<string, unknown> | undefined;
    }, timeoutMs, () => `status ${status} of call ${this.callId} (so far: ${this.soFar()})`);
  }

  /** The final status frame (FINISH, BUSY or FAILED). */
  waitEnd(timeoutMs = 10_000): Promise<Record<string, unknown>> {
    return eventually(() => {
      const f = this.frames.find((x) => x.message === 'finish' && FINAL.has(String((x.data[0] as Record<string, unknown>)['status'])));
      return f?.data[0] as Record<string, unknown> | undefined;
    }, timeoutMs, () => `the end of call ${this.callId} (so far: ${this.soFar()})`);
  }

  /** The data[0] of the first frame named `message` about this call. */
  waitFrame(message: string, timeoutMs = 10_000, predicate: (d: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    return eventually(() => {
      const f = this.frames.find((x) => x.message === message && predicate(x.data[0] as Record<string, unknown>));
      return f?.data[0] as Record<string, unknown> | undefined;
    }, timeoutMs, `${message} for call ${this.callId}`);
  }

  /** Incoming: answers callhook's offer and sends `answer` (SDK 2.0's call.answer()); incoming calls have a werift peer. */
  async answer(this: ClientCall, extra: Record<string, unknown> = {}): Promise<void> {
    if (this.remoteSdp === undefined) throw new Error('No remote sdp available');
    const sdp = await this.peer.answer(this.remoteSdp);
    this.client.send('answer', { callId: this.callId, incoming: true, hasVideo: true, hasAudio: true, status: 'PENDING', mediaProvider: 'WebRTC', sdp, ...extra });
  }

  /** Resolves when DTLS is up with callhook's WebRTC leg. */
  connected(timeoutMs = 10_000): Promise<void> {
    return this.peer.connected(timeoutMs);
  }

  /** The G.711 payload type callhook's SDP settled on (the first format of its audio stream). */
  get audioPayloadType(): number {
    const sdp = this.remoteSdp;
    if (sdp === undefined) throw new Error('no SDP from callhook yet');
    const audio = parseSdp(sdp).media.find((m) => m.type === 'audio' && m.port !== 0);
    return Number(audio?.formats[0]);
  }

  /** Audio packets received so far (callhook's G.711 payload type). */
  receivedAudio(): number {
    const pt = this.audioPayloadType;
    return this.peer.received.filter((r) => r.packet.payloadType === pt).length;
  }

  /** Packets of `payloadType` received so far. */
  received(payloadType: number): number {
    return this.peer.received.filter((r) => r.packet.payloadType === payloadType).length;
  }

  /**
   * Sends `count` G.711 packets, one every 20 ms; resolves with the first one's sequence number. Each payload is
   * its sequence number's low byte, repeated, so that an echo can be told apart (echoesOf).
   */
  async sendAudio(count: number): Promise<number> {
    const pt = this.audioPayloadType;
    const first = this.sequence;
    const start = performance.now();
    for (let i = 0; i < count; i++) {
      const seq = this.sequence++;
      this.peer.send(pt, seq & 0xffff, (seq * FRAME_BYTES) >>> 0, Buffer.alloc(FRAME_BYTES, seq & 0xff), seq === 0);
      const wait = start + (i + 1) * FRAME_MS - performance.now();
      if (wait > 0) await sleep(wait);
    }
    return first;
  }

  /** Leaves `count` sequence numbers out, as packets lost on the way would: the next packet sent comes after the gap. */
  skipSequenceNumbers(count: number): void {
    this.sequence += count;
  }

  /**
   * Sends `count` packets to an echoing peer (sipp -rtp_echo) and waits until `expected` of them came back;
   * resolves with how many did. Throws, naming the count, when fewer come back within `timeoutMs` of the last send.
   */
  async exchangeAudio(count: number, expected: number, timeoutMs = 5000): Promise<number> {
    const first = await this.sendAudio(count);
    const echoed = () => this.echoesOf(first, count);
    await eventually(() => echoed() >= expected, timeoutMs, () => `${expected} of ${count} packets to come back (${echoed()} did)`);
    return echoed();
  }

  /** Audio packets received that carry the payload of one sent as sequence number `first` … `first + count - 1`. */
  echoesOf(first: number, count: number): number {
    const pt = this.audioPayloadType;
    const marks = new Set(Array.from({ length: count }, (_, i) => (first + i) & 0xff));
    // Every byte is the mark: other audio (a sound callhook plays) may start with a mark by chance.
    return this.peer.received.filter((r) => r.packet.payloadType === pt && r.payload.length === FRAME_BYTES && marks.has(r.payload[0]!)
      && r.payload.every((b) => b === r.payload[0])).length;
  }

  hangup(): void {
    this.client.send('hangup', { callId: this.callId });
  }

  hold(): void {
    this.client.send('hold', { callId: this.callId });
  }

  unhold(): void {
    this.client.send('unhold', { callId: this.callId });
  }

  sendDtmf(dtmf: string, type: 'RFC2833' | 'INFO' | 'INFO_RELAY' = 'RFC2833'): void {
    this.client.send('sendDtmf', { callId: this.callId, type, dtmf });
  }

  transfer(target: string): void {
    this.client.send('transfer', { callId: this.callId, target });
  }

  /** @internal A frame about this call, from WebRtcClient. */
  receive(f: Frame): void {
    this.frames.push(f);
    if (f.message === 'setRemoteSDP' && !this.incoming) {
      // SDK 2.0 applies the server's SDP as the answer to its own offer.
      const sdp = String(f.data[1]);
      this.remoteSdp = sdp;
      // A browser that is gone (its peer connection closed) just drops it, as a closed tab would.
      this.applying = this.applying.then(() => this.peer.setAnswer(sdp)).catch((err: unknown) => {
        this.applyError = err;
      });
    }
  }
}
