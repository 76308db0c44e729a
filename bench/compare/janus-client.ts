/**
 * A browser of Janus's SIP plugin for the comparison kit, in Node: one WebSocket per session (the `janus-protocol`
 * subprotocol, as janus.js opens it), `create` → `attach` janus.plugin.sip → `register`, and calls whose media is a
 * browser peer (bench/media-peers.ts WebRtcPeer: werift's or libdatachannel's, the same one that plays callhook's
 * browsers). The offer goes out
 * without candidates followed by an end-of-candidates trickle, as callhook's SDK sends its SDP: Janus finds the
 * browser through its ICE checks (peer-reflexive), as callhook does.
 */
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import type { WebRtcPeer } from '../media-peers.ts';
import { parseSdp } from '../../src/media/sdp/parse.ts';
import { epochMs } from './load.ts';

/** janus.js sends a keepalive every 25 s; the kit's Janus ends a session after 60 s without one. */
const KEEPALIVE_MS = 25_000;
const REPLY_TIMEOUT_MS = 30_000;

interface JanusMessage {
  janus: string;
  transaction?: string;
  session_id?: number;
  sender?: number;
  data?: { id: number };
  error?: { code: number; reason: string };
  plugindata?: { plugin: string; data: { sip?: string; result?: { event: string; code?: number; reason?: string }; error?: string; error_code?: number } };
  jsep?: { type: string; sdp: string };
}

/** A plugin event, with when it arrived (ms since the epoch). */
type SipEvent = { event: string; code?: number; reason?: string; jsep?: { type: string; sdp: string }; at: number };

/** An answered call: the payload type Janus's answer settled on, and when the offer left and `accepted` came. */
export interface JanusAnswer {
  payloadType: number;
  sent: number;
  acceptedAt: number;
}

export class JanusSipSession {
  private readonly replies = new Map<string, (m: JanusMessage) => void>();
  private readonly events: SipEvent[] = [];
  private waiters: Array<() => void> = [];
  private readonly keepalive: NodeJS.Timeout;

  private constructor(
    private readonly ws: WebSocket,
    private readonly sessionId: number,
    private readonly handleId: number,
  ) {
    this.keepalive = setInterval(() => this.send({ janus: 'keepalive', session_id: sessionId }), KEEPALIVE_MS);
  }

  /** A Janus session with the SIP plugin attached, over its own WebSocket. */
  static async open(url: string): Promise<JanusSipSession> {
    const ws = new WebSocket(url, 'janus-protocol');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const pending = new Map<string, (m: JanusMessage) => void>();
    let session: JanusSipSession | undefined;
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as JanusMessage;
      if (session) return session.receive(m);
      if (m.transaction !== undefined) pending.get(m.transaction)?.(m);
    });
    const request = (body: Record<string, unknown>) =>
      new Promise<JanusMessage>((resolve, reject) => {
        const transaction = randomUUID();
        pending.set(transaction, (m) => (m.janus === 'success' ? resolve(m) : reject(new Error(`Janus ${String(body['janus'])}: ${m.error?.reason ?? m.janus}`))));
        ws.send(JSON.stringify({ ...body, transaction }));
      });
    const created = await request({ janus: 'create' });
    const sessionId = created.data!.id;
    const attached = await request({ janus: 'attach', session_id: sessionId, plugin: 'janus.plugin.sip' });
    session = new JanusSipSession(ws, sessionId, attached.data!.id);
    return session;
  }

  /** REGISTER through `proxy` with digest; resolves on `registered`, throws with the plugin's reason otherwise. */
  async register(user: { username: string; password: string }, domain: string, proxy: string): Promise<void> {
    this.message({ request: 'register', username: `sip:${user.username}@${domain}`, secret: user.password, proxy: `sip:${proxy}` });
    const e = await this.nextEvent((x) => x.event === 'registered' || x.event === 'registration_failed' || x.event === 'error');
    if (e.event !== 'registered') throw new Error(`Janus registration of ${user.username}: ${e.event} ${e.code ?? ''} ${e.reason ?? ''}`);
  }

  /** An identity without REGISTER (the plugin's `guest` type), to call a SIP peer directly. */
  async guest(username: string, domain: string): Promise<void> {
    this.message({ request: 'register', type: 'guest', username: `sip:${username}@${domain}` });
    const e = await this.nextEvent((x) => x.event === 'registered' || x.event === 'error');
    if (e.event !== 'registered') throw new Error(`Janus guest ${username}: ${e.reason ?? e.event}`);
  }

  /** Calls `uri` with a fresh offer of `peer`; resolves once answered (`accepted` with Janus's answer applied). */
  async call(uri: string, peer: WebRtcPeer): Promise<JanusAnswer> {
    const offer = await peer.createOffer();
    this.message({ request: 'call', uri }, { type: 'offer', sdp: offer });
    const sent = epochMs();
    this.send({ janus: 'trickle', session_id: this.sessionId, handle_id: this.handleId, candidate: { completed: true } });
    const e = await this.nextEvent((x) => x.event === 'accepted' || x.event === 'hangup' || x.event === 'error');
    if (e.event !== 'accepted' || e.jsep === undefined) throw new Error(`Janus call to ${uri}: ${e.event} ${e.code ?? ''} ${e.reason ?? ''}`);
    await peer.setAnswer(e.jsep.sdp);
    const audio = parseSdp(e.jsep.sdp).media.find((m) => m.type === 'audio' && m.port !== 0);
    return { payloadType: Number(audio?.formats[0]), sent, acceptedAt: e.at };
  }

  /** Sends `hangup` and waits for the plugin's `hangup` event. */
  async hangup(): Promise<void> {
    this.message({ request: 'hangup' });
    await this.nextEvent((x) => x.event === 'hangup');
  }

  /** Destroys the session (Janus then unregisters and frees the handle) and closes the WebSocket. */
  async close(): Promise<void> {
    clearInterval(this.keepalive);
    if (this.ws.readyState === WebSocket.OPEN) {
      this.send({ janus: 'destroy', session_id: this.sessionId });
      const closed = new Promise((r) => this.ws.once('close', r));
      this.ws.close();
      await closed;
    }
  }

  private message(body: Record<string, unknown>, jsep?: { type: string; sdp: string }): void {
    this.send({ janus: 'message', session_id: this.sessionId, handle_id: this.handleId, body, ...(jsep && { jsep }) });
  }

  /** Every Janus API request carries a transaction, keepalives and trickles too (else error 456). */
  private send(m: Record<string, unknown>): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ transaction: randomUUID(), ...m }));
  }

  private receive(m: JanusMessage): void {
    if (m.janus !== 'event' || m.plugindata === undefined) return;
    const d = m.plugindata.data;
    const at = epochMs();
    const e: SipEvent = d.result ? { ...d.result, ...(m.jsep && { jsep: m.jsep }), at } : { event: 'error', code: d.error_code, reason: d.error, at };
    this.events.push(e);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Takes the first event (in order of arrival) that `match` accepts, dropping the ones before it. */
  private async nextEvent(match: (e: SipEvent) => boolean): Promise<SipEvent> {
    const deadline = performance.now() + REPLY_TIMEOUT_MS;
    for (;;) {
      const i = this.events.findIndex(match);
      if (i >= 0) return this.events.splice(0, i + 1)[i]!;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`Janus: no matching event within ${REPLY_TIMEOUT_MS} ms (seen: ${this.events.map((x) => x.event).join(', ') || 'none'})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
