/**
 * One call, outgoing or incoming (docs/client-protocol.md: messages `call`, `answer`, `hangup`, `hold`, `unhold`,
 * `sendDtmf`, `transfer`; frames `setRemoteSDP`, `notifyTryingResponse`, `ring`, `talk`, `hold`, `finish`,
 * `notifyTransferEvent`).
 *
 * The status is the server's: every status frame carries the call object, whose `status` is the truth (the frame
 * name only routes it). Only three things end a call on this side without the server: a hangup before the `call`
 * frame went out, a local media failure, and the session's socket closing.
 *
 * Outgoing:  PENDING (media, offer) ─call→ [setRemoteSDP: the answer] TRYING → RING… → ESTABLISHED ⇄ HOLD → FINISH
 * Incoming:  [setRemoteSDP: the offer] notifyIncomingCall (PENDING/RING) ─answer→ ESTABLISHED … → FINISH
 * Any status may be followed by FAILED or BUSY; FINISH, BUSY and FAILED are final.
 */
import { describe } from './channel.ts';
import { Emitter } from './emitter.ts';
import { CallhookError } from './errors.ts';
import { MediaLeg, type MediaOptions, type MediaRequest } from './media.ts';
import {
  DTMF_TYPES,
  isFinalCallStatus,
  type CallMessage,
  type CallStatus,
  type ClientMessageName,
  type DtmfType,
  type JsonValue,
  type ServerCall,
  type ServerFailure,
  type TransferStatus,
} from './protocol.ts';

export interface CallOptions extends MediaRequest {
  /** A number, a user name (`sip:<callee>@<sipDomain>`), or a full `sip:`/`sips:`/`tel:` URI. */
  callee: string;
  /** Display name for the From of the INVITE. */
  visibleName?: string;
  /** Passed to the `call` hook as is. */
  custom?: JsonValue;
  /** Extra parameters for the INVITE, passed to the `call` hook (WCS `inviteParameters`). */
  inviteParameters?: Record<string, string>;
}

export type AnswerOptions = MediaRequest;

/** A call's status changed. `info` says why, in the server's words (`SIP 486 Busy Here`, a backend's reason). */
export interface CallStatusEvent {
  status: CallStatus;
  info?: string;
  sipStatus?: number;
  sipMessageRaw?: string;
  /** The server's call object as last received (built locally for changes the server did not report). */
  call: ServerCall;
}

/** Progress of a transfer this call asked for (notifyTransferEvent). */
export interface TransferEvent {
  status: TransferStatus;
  info?: string;
}

/** The server refused something without ending the object it concerns (a hold, a DTMF, an unknown message). */
export interface Warning {
  apiMethod: string;
  info: string;
  callId?: string;
  id?: string;
}

export interface CallEvents {
  status: CallStatusEvent;
  transfer: TransferEvent;
  warning: Warning;
}

/** What a call needs from its session. */
export interface CallHost {
  readonly media: MediaOptions;
  /** Sends a frame; false when the session's socket is not open. */
  send(message: ClientMessageName, arg: object): boolean;
  /** The call has reached a final status. */
  ended(call: Call): void;
}

const DTMF = /^[0-9*#A-D]+$/;
/** After `hangup` the server confirms with `finish`; without it within this time the call ends here anyway. */
const HANGUP_CONFIRM_MS = 5_000;
/** The fields that explain one status; a status frame without them clears the previous status's. */
const STATUS_DETAIL = ['info', 'sipStatus', 'sipMessageRaw'] as const;

export class Call extends Emitter<CallEvents> {
  #status: CallStatus;
  #data: ServerCall;
  #media: MediaLeg | undefined;
  /** Incoming: the server's offer (setRemoteSDP before notifyIncomingCall), until answered. */
  #offer: string | undefined;
  /** Outgoing: `call` sent; incoming: `answer` sent. */
  #placed = false;
  #answering = false;
  /** Outgoing: `call` sent and not one server frame about it since (see Session's routing of `fail`). */
  #awaitingReply = false;
  #hungUp = false;
  #hangupTimer: ReturnType<typeof setTimeout> | undefined;
  #muted = false;

  /** @internal Calls are made by `session.call()` and arrive with the session's `incomingCall` event. */
  constructor(
    private readonly host: CallHost,
    data: ServerCall,
    offer?: string,
  ) {
    super();
    this.#data = data;
    this.#status = data.status;
    this.#offer = offer;
  }

  /** The callId: made by the SDK for outgoing calls, by the server for incoming ones. */
  get id(): string {
    return this.#data.callId;
  }

  get incoming(): boolean {
    return this.#data.incoming === true;
  }

  get status(): CallStatus {
    return this.#status;
  }

  /** Why the status is what it is (from the last status change). */
  get info(): string | undefined {
    return this.#data.info;
  }

  get sipStatus(): number | undefined {
    return this.#data.sipStatus;
  }

  get caller(): string | undefined {
    return this.#data.caller;
  }

  get callee(): string | undefined {
    return this.#data.callee;
  }

  /** The display name of the far end, when the server knows it (incoming calls). */
  get visibleName(): string | undefined {
    return this.#data.visibleName;
  }

  /** The server's call object as last received. */
  get data(): ServerCall {
    return this.#data;
  }

  get ended(): boolean {
    return isFinalCallStatus(this.#status);
  }

  get peerConnection(): RTCPeerConnection | undefined {
    return this.#media?.pc;
  }

  get localStream(): MediaStream | undefined {
    return this.#media?.localStream;
  }

  get remoteStream(): MediaStream | undefined {
    return this.#media?.remoteStream;
  }

  get muted(): boolean {
    return this.#muted;
  }

  /** Stops sending microphone audio (the far end hears silence); the SIP call is unchanged. */
  mute(): void {
    this.#muted = true;
    this.#media?.setAudioEnabled(false);
  }

  unmute(): void {
    this.#muted = false;
    this.#media?.setAudioEnabled(true);
  }

  /**
   * Ends the call: cancels an outgoing call, declines an incoming one that was not answered, or hangs up. The
   * microphone is released at once; the status becomes final when the server confirms (`finish`). Does nothing
   * on a call that has ended.
   */
  hangup(): void {
    if (this.ended || this.#hungUp) return;
    this.#hungUp = true;
    if (!this.incoming && !this.#placed) {
      // The `call` frame has not gone out: there is nothing on the server to end.
      this._end('FINISH', 'Hung up before the call was placed');
      return;
    }
    this.#media?.close();
    if (!this.host.send('hangup', { callId: this.id })) {
      this._end('FINISH', 'Hung up (the session is closed)');
      return;
    }
    this.#hangupTimer = setTimeout(() => this._end('FINISH', 'Hung up (the server did not confirm)'), HANGUP_CONFIRM_MS);
  }

  /** Puts the far end on hold (SIP re-INVITE with a=sendonly); the status becomes HOLD. */
  hold(): void {
    this.#sendInCall('hold', {});
  }

  /** Resumes a held call; the status becomes ESTABLISHED. */
  unhold(): void {
    this.#sendInCall('unhold', {});
  }

  /** Sends DTMF digits (`0-9`, `*`, `#`, `A-D`), as RFC 4733 events by default or as SIP INFO. */
  sendDtmf(digits: string, type: DtmfType = 'RFC2833'): void {
    if (typeof digits !== 'string' || !DTMF.test(digits)) {
      throw new CallhookError('INVALID_ARGUMENT', `sendDtmf: digits must be 0-9, *, #, A-D, got ${JSON.stringify(digits)}`);
    }
    if (!(DTMF_TYPES as readonly string[]).includes(type)) {
      throw new CallhookError('INVALID_ARGUMENT', `sendDtmf: type must be one of ${DTMF_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
    }
    this.#sendInCall('sendDtmf', { dtmf: digits, type });
  }

  /** Blind transfer (SIP REFER) of the far end to `target`; progress arrives as `transfer` events. */
  transfer(target: string): void {
    if (typeof target !== 'string' || target.trim() === '') {
      throw new CallhookError('INVALID_ARGUMENT', 'transfer: target must be a non-empty string');
    }
    this.#sendInCall('transfer', { target });
  }

  /** The peer connection's statistics (RTCPeerConnection.getStats). */
  getStats(): Promise<RTCStatsReport> {
    if (this.#media === undefined) {
      return Promise.reject(new CallhookError('INVALID_STATE', `call ${this.id} has no media (yet)`));
    }
    return this.#media.pc.getStats();
  }

  #sendInCall(message: CallMessage, fields: object): void {
    if (this.ended) throw new CallhookError('INVALID_STATE', `${message}: the call has ended (${this.#status})`);
    if (!this.#placed) throw new CallhookError('INVALID_STATE', `${message}: the call is not connected yet (${this.#status})`);
    if (!this.host.send(message, { callId: this.id, ...fields })) {
      throw new CallhookError('NOT_CONNECTED', `${message}: the session is not connected`);
    }
  }

  // ------------------------------------------------------------------------------------------------ session side

  /** @internal Outgoing: media, offer, then the `call` frame. Failures end the call with the reason. */
  async _place(options: CallOptions, caller: string | undefined): Promise<void> {
    try {
      const media = await MediaLeg.open(this.host.media, options, (info) => this.#warn('call', info));
      // Hung up, or the session closed, while the microphone was being opened: nothing to place.
      if (this.ended || this.#hungUp) {
        media.close();
        return;
      }
      this.#media = media;
      if (this.#muted) media.setAudioEnabled(false);
      const sdp = await media.createOffer();
      if (this.ended || this.#hungUp) {
        media.close();
        return;
      }
      const frame: Record<string, unknown> = {
        callId: this.id,
        incoming: false,
        status: 'PENDING',
        mediaProvider: 'WebRTC',
        callee: options.callee,
        hasAudio: media.hasAudio,
        hasVideo: media.hasVideo,
        sdp,
      };
      if (caller !== undefined) frame['caller'] = caller;
      if (options.visibleName !== undefined) frame['visibleName'] = options.visibleName;
      if (options.custom !== undefined) frame['custom'] = options.custom;
      if (options.inviteParameters !== undefined) frame['inviteParameters'] = options.inviteParameters;
      this.#data = { ...this.#data, hasAudio: media.hasAudio, hasVideo: media.hasVideo };
      if (!this.host.send('call', frame)) {
        this._end('FAILED', 'the session closed before the call was placed');
        return;
      }
      this.#placed = true;
      this.#awaitingReply = true;
    } catch (err) {
      this._end('FAILED', err instanceof CallhookError ? err.info : describe(err));
    }
  }

  /** @internal Incoming: media, the server's offer, then our answer in the `answer` frame. */
  async _answer(options: AnswerOptions): Promise<void> {
    if (!this.incoming) throw new CallhookError('INVALID_STATE', 'answer: this is an outgoing call');
    if (this.ended) throw new CallhookError('INVALID_STATE', `answer: the call has ended (${this.#status})`);
    if (this.#answering || this.#placed || this.#hungUp) throw new CallhookError('INVALID_STATE', 'answer: the call is already answered or hung up');
    const offer = this.#offer;
    if (offer === undefined) throw new CallhookError('INVALID_STATE', 'answer: the server has sent no SDP offer for this call');
    this.#answering = true;
    try {
      const media = await MediaLeg.open(this.host.media, options, (info) => this.#warn('answer', info));
      if (this.ended || this.#hungUp) {
        media.close();
        throw new CallhookError('INVALID_STATE', `answer: the call ended while the microphone was opened (${this.#status})`);
      }
      this.#media = media;
      if (this.#muted) media.setAudioEnabled(false);
      const sdp = await media.answerOffer(offer);
      if (this.ended || this.#hungUp) throw new CallhookError('INVALID_STATE', `answer: the call ended while answering (${this.#status})`);
      const sent = this.host.send('answer', {
        callId: this.id,
        incoming: true,
        status: this.#status,
        mediaProvider: 'WebRTC',
        caller: this.#data.caller,
        callee: this.#data.callee,
        hasAudio: media.hasAudio,
        hasVideo: media.hasVideo,
        sdp,
      });
      if (!sent) throw new CallhookError('NOT_CONNECTED', 'answer: the session is not connected');
      this.#placed = true;
      this.#offer = undefined;
    } catch (err) {
      const error = err instanceof CallhookError ? err : new CallhookError('MEDIA_FAILED', `answer failed: ${describe(err)}`, { cause: err });
      if (!this.ended && !this.#hungUp) {
        // The server still holds the incoming call: decline it rather than leave the caller ringing.
        this.host.send('hangup', { callId: this.id });
        this._end('FAILED', error.info);
      }
      throw error;
    } finally {
      this.#answering = false;
    }
  }

  /** @internal `setRemoteSDP` for this call. */
  _remoteSdp(sdp: string): void {
    this.#awaitingReply = false;
    if (this.incoming) {
      if (this.#placed || this.#answering) {
        this.#warn('setRemoteSDP', 'a second SDP offer for an answered call was ignored');
      } else {
        this.#offer = sdp;
      }
      return;
    }
    const media = this.#media;
    if (media === undefined || media.pc.signalingState !== 'have-local-offer') {
      this.#warn('setRemoteSDP', 'an SDP answer the call was not waiting for was ignored');
      return;
    }
    media.acceptAnswer(sdp).catch((err: unknown) => {
      if (this.ended) return;
      this.host.send('hangup', { callId: this.id });
      this._end('FAILED', `the server's SDP answer was not accepted: ${describe(err)}`);
    });
  }

  /** @internal A status frame for this call. */
  _serverStatus(call: ServerCall): void {
    if (this.ended) return;
    this.#awaitingReply = false;
    // info, sipStatus and sipMessageRaw explain one status: the new frame's replace the old ones.
    const data: ServerCall = { ...this.#data, ...call };
    for (const field of STATUS_DETAIL) if (call[field] === undefined) delete data[field];
    this.#data = data;
    this.#setStatus(call.status);
  }

  /** @internal `notifyTransferEvent` for this call. */
  _transfer(event: TransferEvent): void {
    this.emit('transfer', { status: event.status, ...(event.info !== undefined && { info: event.info }) });
  }

  /**
   * @internal A `fail` about this call. A refused `call` message means the server never took the call, so no
   * status will follow: it ends here, FAILED with the server's reason. Any other `fail` leaves the status to the
   * server's status frames (a refused hook that stops the call is followed by `finish` FAILED with the same
   * reason; a refused hold, DTMF or transfer changes nothing) and is reported as a warning.
   */
  _fail(failure: ServerFailure): void {
    if (this.ended) return;
    this.#awaitingReply = false;
    if (failure.apiMethod === 'call') {
      this._end('FAILED', failure.info, failure.sipMessageRaw);
    } else {
      this.#warn(failure.apiMethod, failure.info);
    }
  }

  /** @internal Outgoing, `call` sent, nothing heard about it yet. */
  get _awaitingReply(): boolean {
    return this.#awaitingReply;
  }

  /** @internal Ends the call on this side (no frame is sent) with `status` and `info`. */
  _end(status: 'FINISH' | 'FAILED', info: string, sipMessageRaw?: string): void {
    if (this.ended) return;
    const data: ServerCall = { ...this.#data, status, info };
    delete data.sipStatus;
    delete data.sipMessageRaw;
    if (sipMessageRaw !== undefined) data.sipMessageRaw = sipMessageRaw;
    this.#data = data;
    this.#setStatus(status);
  }

  #setStatus(status: CallStatus): void {
    this.#status = status;
    if (isFinalCallStatus(status)) {
      clearTimeout(this.#hangupTimer);
      this.#media?.close();
      this.host.ended(this);
    }
    const d = this.#data;
    this.emit('status', {
      status,
      ...(d.info !== undefined && { info: d.info }),
      ...(d.sipStatus !== undefined && { sipStatus: d.sipStatus }),
      ...(d.sipMessageRaw !== undefined && { sipMessageRaw: d.sipMessageRaw }),
      call: d,
    });
  }

  #warn(apiMethod: string, info: string): void {
    this.emit('warning', { apiMethod, info, callId: this.id });
  }
}
