/**
 * What the REST API (docs/rest-api.md; the admin server's `/rest-api/` routes) does with live calls and sessions:
 * start a call from the server, and end, find, and steer any call, browser or server started.
 *
 * A server-started call is a browser call without the browser: call/startup opens a session like a client's
 * `connection` (the connect hook, ConnectionStatusEvent, registration if asked), with a ServerCallPort in place of
 * the WebSocket, and places an ordinary outgoing call in it (the `call` hook, CallStatusEvent, CDR). Its media
 * endpoint is callhook itself (MediaSession.useLocalLeg). When the call ends, so does its session.
 */
import { randomUUID } from 'node:crypto';
import { randomHex } from '../random-hex.ts';
import type { CallInfo, SessionInfo } from './info.ts';
import { MediaError, loadSound, type Sound } from '../media/index.ts';
import type { Call } from './call.ts';
import { isFinal } from './call-status.ts';
import { GatewayError } from './errors.ts';
import type { Gateway } from './gateway.ts';
import type { Session } from './session.ts';
import type { CallAudio, CallStatus, ClientEvent, ClientPort, ConnectionRequest, DtmfType } from './types.ts';

/** call/startup, validated. */
export interface ServerCallRequest {
  /** The connection's fields as a client's `connection` has them: appKey and the sip* fields. */
  connection: ConnectionRequest;
  callee: string;
  /** Default: a random UUID. */
  callId?: string;
  inviteParameters?: Record<string, string>;
  /** A sound file to play on answer (a path callhook can read). */
  play?: string;
  loop?: boolean;
  record?: boolean;
  hangupAfterPlay?: boolean;
  maxDurationSec?: number;
}

/** What call/find matches: any given field must be equal. */
export interface CallFilter {
  callId?: string;
  callee?: string;
  sipLogin?: string;
}

/** A live call as call/find shows it: `/api/calls`' view with its session's SIP login. */
export type FoundCall = CallInfo & { sipLogin?: string };

/** The REST API's view of the gateway; the admin server depends on this interface only. */
export interface CallControl {
  /** Resolves once the INVITE went out. Rejects with GatewayError CALL_REFUSED (naming why) or BAD_SOUND. */
  startCall(request: ServerCallRequest, clientAddress: string): Promise<{ callId: string; sessionId: string }>;
  findCalls(filter: CallFilter): FoundCall[];
  sessions(): SessionInfo[];
  /** These throw GatewayError NOT_FOUND for a callId or sessionId that is not live, CALL_STATE for a state that does not allow the act. */
  terminateCall(callId: string): void;
  sendDtmf(callId: string, dtmf: string, type: DtmfType): void;
  hold(callId: string, on: boolean): void;
  transfer(callId: string, target: string): void;
  /** Also BAD_SOUND. Resolves once the sound has started. */
  injectSound(callId: string, file: string, loop: boolean): Promise<void>;
  /** Whether a sound was playing. */
  stopSound(callId: string): boolean;
  terminateSession(sessionId: string): void;
}

/** The `info` of a session the REST API ends with connection/terminate. */
const SESSION_TERMINATED_BY_API = 'Terminated by API';

/**
 * The client end of a server-started call's session. It keeps what a client would have been told — the first
 * refusal, the call's final status — and ends the session once the call has ended.
 */
class ServerCallPort implements ClientPort {
  session: Session | undefined;
  /** The first `fail` (a refused connect, call or hook) and the final status's info. */
  failure: string | undefined;
  final: { status: CallStatus; info: string } | undefined;
  readonly ended: Promise<void>;
  private endedNow!: () => void;

  constructor(private readonly gateway: Gateway) {
    this.ended = new Promise((resolve) => {
      this.endedNow = resolve;
    });
  }

  deliver(event: ClientEvent): boolean {
    if (event.type === 'failed') this.failure ??= event.failure.info;
    if (event.type === 'callStatus') {
      const status = event.call['status'] as CallStatus;
      if (isFinal(status)) {
        this.final = { status, info: String(event.call['info'] ?? status) };
        // The call reports its end from inside its own finish: the session follows once that is done.
        queueMicrotask(() => this.end(this.final!.info));
      }
    }
    return true;
  }

  end(info: string): void {
    this.failure ??= info;
    this.endedNow();
    if (this.session !== undefined) void this.gateway.detach(this.session, info, 'callhook');
  }
}

export class GatewayCallControl implements CallControl {
  constructor(private readonly gateway: Gateway) {}

  async startCall(request: ServerCallRequest, clientAddress: string): Promise<{ callId: string; sessionId: string }> {
    const audio: CallAudio = {};
    if (request.play !== undefined) audio.play = await sound(request.play);
    if (request.loop !== undefined) audio.loop = request.loop;
    if (request.record !== undefined) audio.record = request.record;
    if (request.hangupAfterPlay !== undefined) audio.hangupAfterPlay = request.hangupAfterPlay;
    if (request.maxDurationSec !== undefined) audio.maxDurationSec = request.maxDurationSec;
    const port = new ServerCallPort(this.gateway);
    // callhook's own sessionId form for a session without a socket (WCS names sessions by their socket ends).
    const sessionId = `/rest-api/${randomHex(8)}`;
    const endpoint = { remoteAddress: clientAddress, remotePort: 0, localAddress: '', localPort: 0 };
    const session = await this.gateway.connect(port, endpoint, request.connection, sessionId);
    if (session === undefined) throw new GatewayError('CALL_REFUSED', `connect: ${port.failure ?? 'refused'}`);
    port.session = session;
    const callId = request.callId ?? randomUUID();
    const call = session.calls.place({
      callId, callee: request.callee, audio, extra: {},
      ...(request.inviteParameters !== undefined && { inviteParameters: request.inviteParameters }),
    });
    if (call === undefined) {
      port.end(port.failure ?? 'call refused');
      throw new GatewayError('CALL_REFUSED', port.failure ?? 'call refused');
    }
    await Promise.race([call.inviting, port.ended]);
    if (call.isEnded) throw new GatewayError('CALL_REFUSED', `call ${callId}: ${port.final?.info ?? port.failure ?? 'ended'}`);
    return { callId, sessionId };
  }

  findCalls(filter: CallFilter): FoundCall[] {
    const logins = new Map(this.gateway.sessions().map((s) => [s.sessionId, s.sipLogin]));
    return this.gateway.calls()
      .map((c): FoundCall => {
        const sipLogin = logins.get(c.sessionId);
        return sipLogin === undefined ? c : { ...c, sipLogin };
      })
      .filter((c) => (filter.callId === undefined || c.callId === filter.callId)
        && (filter.callee === undefined || c.callee === filter.callee)
        && (filter.sipLogin === undefined || c.sipLogin === filter.sipLogin));
  }

  sessions(): SessionInfo[] {
    return this.gateway.sessions();
  }

  terminateCall(callId: string): void {
    const call = this.call(callId);
    // terminate() resolves once the media and SIP side are closed; it never rejects.
    void call.terminate();
  }

  sendDtmf(callId: string, dtmf: string, type: DtmfType): void {
    const call = this.established(callId);
    call.contain(() => call.sendDtmf({ callId, dtmf, type }));
  }

  hold(callId: string, on: boolean): void {
    const call = this.established(callId);
    call.contain(() => call.hold({ callId, extra: {} }, on));
  }

  transfer(callId: string, target: string): void {
    const call = this.established(callId);
    call.contain(() => call.transfer({ callId, target }));
  }

  async injectSound(callId: string, file: string, loop: boolean): Promise<void> {
    this.established(callId);
    const loaded = await sound(file);
    // Looked up again: the call may have ended while the file was read.
    const call = this.established(callId);
    const played = call.playSound(loaded, loop);
    call.contain(async () => {
      await played;
    });
  }

  stopSound(callId: string): boolean {
    return this.call(callId).stopSound();
  }

  terminateSession(sessionId: string): void {
    const session = this.gateway.session(sessionId);
    if (session === undefined) throw new GatewayError('NOT_FOUND', `no live session ${sessionId}`);
    session.end(SESSION_TERMINATED_BY_API);
  }

  private call(callId: string): Call {
    const call = this.gateway.call(callId);
    if (call === undefined || call.isEnded) throw new GatewayError('NOT_FOUND', `no live call ${callId}`);
    return call;
  }

  private established(callId: string): Call {
    const call = this.call(callId);
    if (call.phase !== 'established') throw new GatewayError('CALL_STATE', `call ${callId} is not ESTABLISHED (it is ${call.info().status})`);
    return call;
  }
}

/** A sound file, with the media library's reason as a gateway error. */
async function sound(path: string): Promise<Sound> {
  try {
    return await loadSound(path);
  } catch (e) {
    if (e instanceof MediaError) throw new GatewayError('BAD_SOUND', e.message);
    throw e;
  }
}
