"use strict";
var Callhook = (() => {
  var __defProp = Object.defineProperty;
  var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
  var __getOwnPropNames = Object.getOwnPropertyNames;
  var __hasOwnProp = Object.prototype.hasOwnProperty;
  var __export = (target, all) => {
    for (var name in all)
      __defProp(target, name, { get: all[name], enumerable: true });
  };
  var __copyProps = (to, from, except, desc) => {
    if (from && typeof from === "object" || typeof from === "function") {
      for (let key of __getOwnPropNames(from))
        if (!__hasOwnProp.call(to, key) && key !== except)
          __defProp(to, key, { get: () => from[key], enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable });
    }
    return to;
  };
  var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);

  // sdk/src/index.ts
  var index_exports = {};
  __export(index_exports, {
    CALL_STATUSES: () => CALL_STATUSES,
    Call: () => Call,
    CallhookError: () => CallhookError,
    DEFAULT_APP_KEY: () => DEFAULT_APP_KEY,
    Emitter: () => Emitter,
    FINAL_CALL_STATUSES: () => FINAL_CALL_STATUSES,
    SDK_VERSION: () => SDK_VERSION,
    Session: () => Session,
    connect: () => connect,
    isFinalCallStatus: () => isFinalCallStatus
  });

  // sdk/src/errors.ts
  var CallhookError = class extends Error {
    constructor(code, info, details = {}) {
      super(info, details.cause === void 0 ? void 0 : { cause: details.cause });
      this.code = code;
      this.info = info;
      this.details = details;
    }
    code;
    info;
    details;
    name = "CallhookError";
    /** The `apiMethod` of the server's `fail` frame, when the error came from one. */
    get apiMethod() {
      return this.details.apiMethod;
    }
    /** The SIP status code, when the failure came from a SIP response. */
    get sipStatus() {
      return this.details.sipStatus;
    }
  };

  // sdk/src/connect-options.ts
  var DEFAULT_CONNECT_TIMEOUT_MS = 2e4;
  var DEFAULT_RECONNECT_DELAY_MS = 1e3;
  var DEFAULT_RECONNECT_MAX_DELAY_MS = 3e4;
  function checkOptions(options) {
    const bad = (what) => {
      throw new CallhookError("INVALID_ARGUMENT", `connect: ${what}`);
    };
    if (typeof options !== "object" || options === null) bad("options must be an object");
    if (typeof options.url !== "string" || !/^wss?:\/\//i.test(options.url)) {
      bad(`url must be a ws:// or wss:// URL, got ${JSON.stringify(options.url)}`);
    }
    const positive = (value) => typeof value === "number" && Number.isFinite(value) && value > 0;
    if (options.timeoutMs !== void 0 && !positive(options.timeoutMs)) bad("timeoutMs must be a positive number");
    const r = options.reconnect;
    if (r !== void 0) {
      if (!Number.isInteger(r.attempts) || r.attempts < 1) bad("reconnect.attempts must be an integer of at least 1");
      if (r.delayMs !== void 0 && !positive(r.delayMs)) bad("reconnect.delayMs must be a positive number");
      if (r.maxDelayMs !== void 0 && !positive(r.maxDelayMs)) bad("reconnect.maxDelayMs must be a positive number");
    }
    const WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (WebSocket === void 0) bad("there is no global WebSocket here: pass options.WebSocket (in Node, the ws package)");
    return WebSocket;
  }

  // src/client-protocol/vocabulary.ts
  function encodeFrame(message, data = []) {
    return JSON.stringify({ message, data });
  }
  var CALL_MESSAGES = ["call", "answer", "hangup", "hold", "unhold", "sendDtmf", "transfer"];
  var CALL_STATUSES = [
    "PENDING",
    "TRYING",
    "RING",
    "RING_MEDIA",
    "SESSION_PROGRESS",
    "ESTABLISHED",
    "HOLD",
    "BUSY",
    "FINISH",
    "FAILED"
  ];
  var FINAL_CALL_STATUSES = ["FINISH", "BUSY", "FAILED"];
  function isFinalCallStatus(status) {
    return FINAL_CALL_STATUSES.includes(status);
  }
  var DTMF_TYPES = ["RFC2833", "INFO", "INFO_RELAY"];

  // sdk/src/protocol.ts
  function decodeFrame(text) {
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      return void 0;
    }
    if (typeof parsed !== "object" || parsed === null) return void 0;
    const { message, data } = parsed;
    if (typeof message !== "string") return void 0;
    return { message, data: Array.isArray(data) ? data : [] };
  }
  function asObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : {};
  }
  function asFailure(value) {
    const o = asObject(value);
    const failure = {
      ...o,
      status: "FAILED",
      apiMethod: typeof o["apiMethod"] === "string" ? o["apiMethod"] : "unknown",
      info: typeof o["info"] === "string" ? o["info"] : "the server reported a failure without a reason"
    };
    if (typeof o["callId"] !== "string") delete failure.callId;
    if (typeof o["id"] !== "string") delete failure.id;
    return failure;
  }
  function asCall(value) {
    const o = asObject(value);
    if (typeof o["callId"] !== "string" || !CALL_STATUSES.includes(o["status"])) return void 0;
    return o;
  }
  function isCallMessage(apiMethod) {
    return CALL_MESSAGES.includes(apiMethod);
  }

  // sdk/src/channel.ts
  var OPEN = 1;
  var CLOSED = 3;
  var CLOSE_WAIT_MS = 3e3;
  var Channel = class _Channel {
    constructor(ws) {
      this.ws = ws;
      this.#closed = new Promise((resolve) => {
        ws.addEventListener("close", (event) => {
          const { code, reason } = event;
          resolve();
          this.#handlers?.closed(code, reason);
        });
      });
      ws.addEventListener("message", (event) => this.#receive(event.data));
    }
    ws;
    #closed;
    #handlers;
    /**
     * Opens a WebSocket to `url`; resolves once it is open. Frames and the close are delivered to `handlers` from
     * then on, so nothing that arrives right after `open` is lost.
     */
    static open(url, WebSocket, handlers) {
      return new Promise((resolve, reject) => {
        let ws;
        try {
          ws = new WebSocket(url);
        } catch (err) {
          reject(new CallhookError("CONNECTION_FAILED", `cannot open a WebSocket to ${url}: ${describe(err)}`, { cause: err }));
          return;
        }
        const channel = new _Channel(ws);
        let settled = false;
        ws.addEventListener("open", () => {
          settled = true;
          channel.#handlers = handlers;
          resolve(channel);
        });
        ws.addEventListener("error", () => void 0);
        ws.addEventListener("close", (event) => {
          if (settled) return;
          settled = true;
          const { code, reason } = event;
          const why = reason === "" ? `close code ${code}` : `close code ${code}: ${reason}`;
          reject(new CallhookError("CONNECTION_FAILED", `cannot connect to ${url} (${why})`));
        });
      });
    }
    get isOpen() {
      return this.ws.readyState === OPEN;
    }
    /**
     * Sends `{"message": message, "data": [arg]}`, as SDK 2.0 does: one argument, `[null]` when there is none.
     * False when the socket is no longer open.
     */
    send(message, arg) {
      if (!this.isOpen) return false;
      this.ws.send(encodeFrame(message, [arg ?? null]));
      return true;
    }
    /** Closes the socket (1000 by default) and waits, for at most 3 s, until it is closed. */
    async close(code = 1e3, reason = "") {
      if (this.ws.readyState !== CLOSED) this.ws.close(code, reason);
      let timer;
      await Promise.race([this.#closed, new Promise((resolve) => timer = setTimeout(resolve, CLOSE_WAIT_MS))]);
      clearTimeout(timer);
    }
    #receive(data) {
      if (this.#handlers === void 0) return;
      if (typeof data !== "string") {
        this.#handlers.badFrame("a binary frame (the protocol has only JSON text frames)");
        return;
      }
      const frame = decodeFrame(data);
      if (frame === void 0) {
        this.#handlers.badFrame(`a frame that is not {"message", "data"} JSON: ${data.slice(0, 120)}`);
        return;
      }
      if (frame.message === "ping") {
        this.send("pong");
        return;
      }
      this.#handlers.frame(frame);
    }
  };
  function describe(err) {
    if (err instanceof Error) return err.name === "Error" ? err.message : `${err.name}: ${err.message}`;
    return String(err);
  }

  // sdk/src/connection-attempt.ts
  var ConnectionAttempt = class {
    /** Resolves when the server accepted; rejects with a CallhookError saying why not. */
    done;
    #settle = () => void 0;
    constructor(o) {
      this.done = new Promise((resolve, reject) => {
        let channel;
        let handlers;
        let settled = false;
        this.#settle = (error) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (error === void 0) {
            resolve();
            return;
          }
          if (channel !== void 0) void channel.close();
          reject(error);
        };
        const timer = setTimeout(
          () => this.#settle(new CallhookError("TIMEOUT", `the server did not accept the connection within ${o.timeoutMs} ms`)),
          o.timeoutMs
        );
        Channel.open(o.url, o.WebSocket, {
          frame: (frame) => {
            if (handlers !== void 0) {
              handlers.frame(frame);
            } else if (frame.message === "getUserData" && !settled && channel !== void 0) {
              this.#settle();
              handlers = o.accepted(channel, { ...asObject(frame.data[0]) });
            } else if (frame.message === "fail") {
              const failure = asFailure(frame.data[0]);
              if (failure.apiMethod === "ConnectionStatusEvent") {
                this.#settle(new CallhookError("CONNECT_REFUSED", failure.info, { apiMethod: failure.apiMethod }));
              }
            }
          },
          badFrame: (description) => o.badFrame(description),
          closed: (code, reason) => {
            if (handlers !== void 0) {
              handlers.closed(code, reason);
              return;
            }
            this.#settle(new CallhookError("CONNECTION_FAILED", `the server closed the connection before accepting it (${closeText(code, reason)})`));
          }
        }).then(
          (opened) => {
            channel = opened;
            if (settled) {
              void opened.close();
              return;
            }
            opened.send("connection", o.fields);
          },
          (error) => this.#settle(error)
        );
      });
    }
    /** Gives up (disconnect() while connecting): the attempt fails with DISCONNECTED. Nothing once it has settled. */
    abort() {
      this.#settle(new CallhookError("DISCONNECTED", "disconnected by the client while connecting"));
    }
  };
  function closeText(code, reason) {
    return reason === "" ? `WebSocket close code ${code}` : `WebSocket close code ${code}: ${reason}`;
  }

  // sdk/src/version.ts
  var SDK_VERSION = "0.1.0";

  // sdk/src/connection-fields.ts
  var DEFAULT_APP_KEY = "defaultApp";
  var SIP_FIELDS = [
    ["login", "sipLogin"],
    ["authName", "sipAuthenticationName"],
    ["password", "sipPassword"],
    ["domain", "sipDomain"],
    ["outboundProxy", "sipOutboundProxy"],
    ["port", "sipPort"],
    ["register", "sipRegisterRequired"],
    ["visibleName", "sipVisibleName"],
    ["transport", "sipTransport"]
  ];
  function connectionFields(input, userAgent) {
    const fields = {
      appKey: input.appKey ?? DEFAULT_APP_KEY,
      mediaProviders: ["WebRTC"],
      clientVersion: `callhook-sdk ${SDK_VERSION}`
    };
    if (userAgent !== void 0) fields["clientBrowserVersion"] = userAgent;
    for (const [option, field] of SIP_FIELDS) {
      const value = input.sip?.[option];
      if (value !== void 0) fields[field] = value;
    }
    if (input.custom !== void 0) fields["custom"] = input.custom;
    return fields;
  }

  // sdk/src/emitter.ts
  var Emitter = class {
    #listeners = /* @__PURE__ */ new Map();
    /** Adds a listener; returns a function that removes it again. */
    on(event, listener) {
      let set = this.#listeners.get(event);
      if (set === void 0) {
        set = /* @__PURE__ */ new Set();
        this.#listeners.set(event, set);
      }
      set.add(listener);
      return () => this.off(event, listener);
    }
    /** Adds a listener that is removed after its first call. */
    once(event, listener) {
      const off = this.on(event, (payload) => {
        off();
        listener(payload);
      });
      return off;
    }
    off(event, listener) {
      this.#listeners.get(event)?.delete(listener);
    }
    /**
     * Calls every listener of `event` in the order they were added. A listener that throws does not stop the others
     * nor the SDK's own handling of the frame that caused the event: its error is rethrown on a fresh task, where it
     * shows up as an uncaught error (the browser console, Node's `uncaughtException`) instead of vanishing.
     */
    emit(event, payload) {
      const set = this.#listeners.get(event);
      if (set === void 0) return;
      for (const listener of [...set]) {
        try {
          listener(payload);
        } catch (err) {
          setTimeout(() => {
            throw err;
          }, 0);
        }
      }
    }
  };

  // sdk/src/ids.ts
  function newId() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = b[6] & 15 | 64;
    b[8] = b[8] & 63 | 128;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // sdk/src/messages.ts
  var DEFAULT_MESSAGE_TIMEOUT_MS = 6e4;
  function messageStatusEvent(m) {
    const event = { id: m.id, status: m.status, message: m };
    if (m.info !== void 0) event.info = m.info;
    if (m.sipStatus !== void 0) event.sipStatus = m.sipStatus;
    return event;
  }
  var SentMessages = class {
    #pending = /* @__PURE__ */ new Map();
    /**
     * Checks the options, then sends through the channel `open()` returns (it throws NOT_CONNECTED when there is
     * none); the promise settles at the final status. Every refusal is a rejection, never a throw.
     */
    send(options, open) {
      return new Promise((resolve, reject) => {
        const bad = (what) => reject(new CallhookError("INVALID_ARGUMENT", `sendMessage: ${what}`));
        if (typeof options?.to !== "string" || options.to.trim() === "") return bad("to must be a non-empty string");
        if (typeof options.body !== "string") return bad("body must be a string");
        if (options.contentType !== void 0 && (typeof options.contentType !== "string" || options.contentType === "")) {
          return bad("contentType must be a media type such as text/plain");
        }
        const id = options.id ?? newId();
        if (typeof id !== "string" || id === "") return bad("id must be a non-empty string");
        if (this.#pending.has(id)) return bad(`a message with id ${JSON.stringify(id)} is still waiting for its status`);
        const channel = open();
        const timeoutMs = options.timeoutMs ?? DEFAULT_MESSAGE_TIMEOUT_MS;
        const timer = setTimeout(() => {
          this.#pending.delete(id);
          reject(new CallhookError("TIMEOUT", `sendMessage: no final status for message ${id} within ${timeoutMs} ms`));
        }, timeoutMs);
        this.#pending.set(id, { resolve, reject, timer });
        const frame = { id, to: options.to, body: options.body };
        if (options.contentType !== void 0) frame["contentType"] = options.contentType;
        channel.send("sendMessage", frame);
      });
    }
    /** Whether a message with this id waits for its final status. */
    awaits(id) {
      return this.#pending.has(id);
    }
    /** A status report: ACCEPTED resolves the message's promise, FAILED rejects it with MESSAGE_FAILED. */
    settle(m) {
      const pending = this.#pending.get(m.id);
      if (pending === void 0 || m.status !== "ACCEPTED" && m.status !== "FAILED") return;
      this.#pending.delete(m.id);
      clearTimeout(pending.timer);
      if (m.status === "ACCEPTED") {
        const result = { id: m.id, status: "ACCEPTED", message: m };
        if (m.info !== void 0) result.info = m.info;
        if (m.sipStatus !== void 0) result.sipStatus = m.sipStatus;
        pending.resolve(result);
      } else {
        const details = { apiMethod: "MessageStatusEvent" };
        if (m.sipStatus !== void 0) details.sipStatus = m.sipStatus;
        pending.reject(new CallhookError("MESSAGE_FAILED", m.info ?? "the message failed", details));
      }
    }
    /** The connection is gone (`info` says how): every message still waiting rejects with DISCONNECTED. */
    abandon(info) {
      for (const [id, pending] of [...this.#pending]) {
        clearTimeout(pending.timer);
        this.#pending.delete(id);
        pending.reject(new CallhookError("DISCONNECTED", `sendMessage: ${info} before message ${id} had a final status`));
      }
    }
  };

  // sdk/src/media.ts
  var MediaLeg = class _MediaLeg {
    constructor(pc, localStream, ownsStream, request, warn) {
      this.pc = pc;
      this.localStream = localStream;
      this.ownsStream = ownsStream;
      this.request = request;
      this.warn = warn;
      pc.addEventListener("track", (event) => this.#play(event));
    }
    pc;
    localStream;
    ownsStream;
    request;
    warn;
    #remoteStream;
    #element;
    #createdElement = false;
    #closed = false;
    /** Gets the local stream and builds the peer connection with its tracks; throws CallhookError MEDIA_FAILED. */
    static async open(options, request, warn) {
      const PeerConnection = options.RTCPeerConnection ?? globalThis.RTCPeerConnection;
      if (PeerConnection === void 0) {
        throw new CallhookError("MEDIA_FAILED", "WebRTC is not available here (no RTCPeerConnection)");
      }
      let stream = request.localStream;
      const ownsStream = stream === void 0;
      if (stream === void 0) {
        const getUserMedia = options.getUserMedia ?? defaultGetUserMedia();
        if (getUserMedia === void 0) {
          throw new CallhookError(
            "MEDIA_FAILED",
            "no microphone access here: navigator.mediaDevices is missing (the page must be served over https or from localhost)"
          );
        }
        try {
          stream = await getUserMedia({ audio: request.audio ?? true, video: request.video ?? false });
        } catch (err) {
          throw new CallhookError("MEDIA_FAILED", `getUserMedia failed: ${describe(err)}`, { cause: err });
        }
      }
      let pc;
      try {
        pc = new PeerConnection({ iceServers: options.iceServers ?? [] });
        for (const track of stream.getTracks()) pc.addTrack(track, stream);
        if (stream.getAudioTracks().length === 0) pc.addTransceiver("audio", { direction: "recvonly" });
      } catch (err) {
        if (ownsStream) for (const t of stream.getTracks()) t.stop();
        throw new CallhookError("MEDIA_FAILED", `cannot create the RTCPeerConnection: ${describe(err)}`, { cause: err });
      }
      return new _MediaLeg(pc, stream, ownsStream, request, warn);
    }
    get hasAudio() {
      return this.localStream.getAudioTracks().length > 0;
    }
    get hasVideo() {
      return this.localStream.getVideoTracks().length > 0;
    }
    get remoteStream() {
      return this.#remoteStream;
    }
    /** Outgoing call: our offer, at once (no wait for ICE gathering). */
    async createOffer() {
      await this.pc.setLocalDescription(await this.pc.createOffer());
      return this.#localSdp();
    }
    /** Outgoing call: callhook's answer (`setRemoteSDP`). */
    async acceptAnswer(sdp) {
      await this.pc.setRemoteDescription({ type: "answer", sdp });
    }
    /** Incoming call: callhook's offer in, our answer out at once (no wait for ICE gathering). */
    async answerOffer(sdp) {
      await this.pc.setRemoteDescription({ type: "offer", sdp });
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      return this.#localSdp();
    }
    /** Mutes or unmutes what we send (the tracks keep running, so unmuting is instant). */
    setAudioEnabled(enabled) {
      for (const t of this.localStream.getAudioTracks()) t.enabled = enabled;
    }
    /** Closes the peer connection, stops the tracks the SDK opened, and detaches (or removes) the element. */
    close() {
      if (this.#closed) return;
      this.#closed = true;
      this.pc.close();
      if (this.ownsStream) for (const t of this.localStream.getTracks()) t.stop();
      if (this.#element !== void 0) {
        this.#element.srcObject = null;
        if (this.#createdElement) this.#element.remove();
      }
    }
    #localSdp() {
      const sdp = this.pc.localDescription?.sdp;
      if (sdp === void 0) throw new CallhookError("MEDIA_FAILED", "the RTCPeerConnection has no local description");
      return sdp;
    }
    #play(event) {
      const stream = event.streams[0] ?? this.#remoteStream ?? new MediaStream();
      if (!stream.getTracks().includes(event.track)) stream.addTrack(event.track);
      this.#remoteStream = stream;
      const element = this.#element ?? this.#attachElement();
      if (element === void 0 || element.srcObject === stream) return;
      element.srcObject = stream;
      element.play().catch((err) => {
        if (!this.#closed) this.warn(`the browser did not start playing the far end: ${describe(err)}`);
      });
    }
    #attachElement() {
      if (this.request.remoteAudio !== void 0) {
        this.#element = this.request.remoteAudio;
      } else if (typeof document !== "undefined") {
        const audio = document.createElement("audio");
        audio.autoplay = true;
        audio.hidden = true;
        document.body.append(audio);
        this.#element = audio;
        this.#createdElement = true;
      }
      return this.#element;
    }
  };
  function defaultGetUserMedia() {
    const devices = typeof navigator === "undefined" ? void 0 : navigator.mediaDevices;
    return devices?.getUserMedia === void 0 ? void 0 : (c) => devices.getUserMedia(c);
  }

  // sdk/src/call.ts
  var DTMF = /^[0-9*#A-D]+$/;
  var HANGUP_CONFIRM_MS = 5e3;
  var STATUS_DETAIL = ["info", "sipStatus", "sipMessageRaw"];
  var Call = class extends Emitter {
    /** @internal Calls are made by `session.call()` and arrive with the session's `incomingCall` event. */
    constructor(host, data, offer) {
      super();
      this.host = host;
      this.#data = data;
      this.#status = data.status;
      this.#offer = offer;
    }
    host;
    #status;
    #data;
    #media;
    /** Incoming: the server's offer (setRemoteSDP before notifyIncomingCall), until answered. */
    #offer;
    /** Outgoing: `call` sent; incoming: `answer` sent. */
    #placed = false;
    #answering = false;
    /** Outgoing: `call` sent and not one server frame about it since (see Session's routing of `fail`). */
    #awaitingReply = false;
    #hungUp = false;
    #hangupTimer;
    #muted = false;
    /** The callId: made by the SDK for outgoing calls, by the server for incoming ones. */
    get id() {
      return this.#data.callId;
    }
    get incoming() {
      return this.#data.incoming === true;
    }
    get status() {
      return this.#status;
    }
    /** Why the status is what it is (from the last status change). */
    get info() {
      return this.#data.info;
    }
    get sipStatus() {
      return this.#data.sipStatus;
    }
    get caller() {
      return this.#data.caller;
    }
    get callee() {
      return this.#data.callee;
    }
    /** The display name of the far end, when the server knows it (incoming calls). */
    get visibleName() {
      return this.#data.visibleName;
    }
    /** The server's call object as last received. */
    get data() {
      return this.#data;
    }
    get ended() {
      return isFinalCallStatus(this.#status);
    }
    get peerConnection() {
      return this.#media?.pc;
    }
    get localStream() {
      return this.#media?.localStream;
    }
    get remoteStream() {
      return this.#media?.remoteStream;
    }
    get muted() {
      return this.#muted;
    }
    /** Stops sending microphone audio (the far end hears silence); the SIP call is unchanged. */
    mute() {
      this.#muted = true;
      this.#media?.setAudioEnabled(false);
    }
    unmute() {
      this.#muted = false;
      this.#media?.setAudioEnabled(true);
    }
    /**
     * Ends the call: cancels an outgoing call, declines an incoming one that was not answered, or hangs up. The
     * microphone is released at once; the status becomes final when the server confirms (`finish`). Does nothing
     * on a call that has ended.
     */
    hangup() {
      if (this.ended || this.#hungUp) return;
      this.#hungUp = true;
      if (!this.incoming && !this.#placed) {
        this._end("FINISH", "Hung up before the call was placed");
        return;
      }
      this.#media?.close();
      if (!this.host.send("hangup", { callId: this.id })) {
        this._end("FINISH", "Hung up (the session is closed)");
        return;
      }
      this.#hangupTimer = setTimeout(() => this._end("FINISH", "Hung up (the server did not confirm)"), HANGUP_CONFIRM_MS);
    }
    /** Puts the far end on hold (SIP re-INVITE with a=sendonly); the status becomes HOLD. */
    hold() {
      this.#sendInCall("hold", {});
    }
    /** Resumes a held call; the status becomes ESTABLISHED. */
    unhold() {
      this.#sendInCall("unhold", {});
    }
    /** Sends DTMF digits (`0-9`, `*`, `#`, `A-D`), as RFC 4733 events by default or as SIP INFO. */
    sendDtmf(digits, type = "RFC2833") {
      if (typeof digits !== "string" || !DTMF.test(digits)) {
        throw new CallhookError("INVALID_ARGUMENT", `sendDtmf: digits must be 0-9, *, #, A-D, got ${JSON.stringify(digits)}`);
      }
      if (!DTMF_TYPES.includes(type)) {
        throw new CallhookError("INVALID_ARGUMENT", `sendDtmf: type must be one of ${DTMF_TYPES.join(", ")}, got ${JSON.stringify(type)}`);
      }
      this.#sendInCall("sendDtmf", { dtmf: digits, type });
    }
    /** Blind transfer (SIP REFER) of the far end to `target`; progress arrives as `transfer` events. */
    transfer(target) {
      if (typeof target !== "string" || target.trim() === "") {
        throw new CallhookError("INVALID_ARGUMENT", "transfer: target must be a non-empty string");
      }
      this.#sendInCall("transfer", { target });
    }
    /** The peer connection's statistics (RTCPeerConnection.getStats). */
    getStats() {
      if (this.#media === void 0) {
        return Promise.reject(new CallhookError("INVALID_STATE", `call ${this.id} has no media (yet)`));
      }
      return this.#media.pc.getStats();
    }
    #sendInCall(message, fields) {
      if (this.ended) throw new CallhookError("INVALID_STATE", `${message}: the call has ended (${this.#status})`);
      if (!this.#placed) throw new CallhookError("INVALID_STATE", `${message}: the call is not connected yet (${this.#status})`);
      if (!this.host.send(message, { callId: this.id, ...fields })) {
        throw new CallhookError("NOT_CONNECTED", `${message}: the session is not connected`);
      }
    }
    // ------------------------------------------------------------------------------------------------ session side
    /** @internal Outgoing: media, offer, then the `call` frame. Failures end the call with the reason. */
    async _place(options, caller) {
      try {
        const media = await MediaLeg.open(this.host.media, options, (info) => this.#warn("call", info));
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
        const frame = {
          callId: this.id,
          incoming: false,
          status: "PENDING",
          mediaProvider: "WebRTC",
          callee: options.callee,
          hasAudio: media.hasAudio,
          hasVideo: media.hasVideo,
          sdp
        };
        if (caller !== void 0) frame["caller"] = caller;
        if (options.visibleName !== void 0) frame["visibleName"] = options.visibleName;
        if (options.custom !== void 0) frame["custom"] = options.custom;
        if (options.inviteParameters !== void 0) frame["inviteParameters"] = options.inviteParameters;
        this.#data = { ...this.#data, hasAudio: media.hasAudio, hasVideo: media.hasVideo };
        if (!this.host.send("call", frame)) {
          this._end("FAILED", "the session closed before the call was placed");
          return;
        }
        this.#placed = true;
        this.#awaitingReply = true;
      } catch (err) {
        this._end("FAILED", err instanceof CallhookError ? err.info : describe(err));
      }
    }
    /** @internal Incoming: media, the server's offer, then our answer in the `answer` frame. */
    async _answer(options) {
      if (!this.incoming) throw new CallhookError("INVALID_STATE", "answer: this is an outgoing call");
      if (this.ended) throw new CallhookError("INVALID_STATE", `answer: the call has ended (${this.#status})`);
      if (this.#answering || this.#placed || this.#hungUp) throw new CallhookError("INVALID_STATE", "answer: the call is already answered or hung up");
      const offer = this.#offer;
      if (offer === void 0) throw new CallhookError("INVALID_STATE", "answer: the server has sent no SDP offer for this call");
      this.#answering = true;
      try {
        const media = await MediaLeg.open(this.host.media, options, (info) => this.#warn("answer", info));
        if (this.ended || this.#hungUp) {
          media.close();
          throw new CallhookError("INVALID_STATE", `answer: the call ended while the microphone was opened (${this.#status})`);
        }
        this.#media = media;
        if (this.#muted) media.setAudioEnabled(false);
        const sdp = await media.answerOffer(offer);
        if (this.ended || this.#hungUp) throw new CallhookError("INVALID_STATE", `answer: the call ended while answering (${this.#status})`);
        const sent = this.host.send("answer", {
          callId: this.id,
          incoming: true,
          status: this.#status,
          mediaProvider: "WebRTC",
          caller: this.#data.caller,
          callee: this.#data.callee,
          hasAudio: media.hasAudio,
          hasVideo: media.hasVideo,
          sdp
        });
        if (!sent) throw new CallhookError("NOT_CONNECTED", "answer: the session is not connected");
        this.#placed = true;
        this.#offer = void 0;
      } catch (err) {
        const error = err instanceof CallhookError ? err : new CallhookError("MEDIA_FAILED", `answer failed: ${describe(err)}`, { cause: err });
        if (!this.ended && !this.#hungUp) {
          this.host.send("hangup", { callId: this.id });
          this._end("FAILED", error.info);
        }
        throw error;
      } finally {
        this.#answering = false;
      }
    }
    /** @internal `setRemoteSDP` for this call. */
    _remoteSdp(sdp) {
      this.#awaitingReply = false;
      if (this.incoming) {
        if (this.#placed || this.#answering) {
          this.#warn("setRemoteSDP", "a second SDP offer for an answered call was ignored");
        } else {
          this.#offer = sdp;
        }
        return;
      }
      const media = this.#media;
      if (media === void 0 || media.pc.signalingState !== "have-local-offer") {
        this.#warn("setRemoteSDP", "an SDP answer the call was not waiting for was ignored");
        return;
      }
      media.acceptAnswer(sdp).catch((err) => {
        if (this.ended) return;
        this.host.send("hangup", { callId: this.id });
        this._end("FAILED", `the server's SDP answer was not accepted: ${describe(err)}`);
      });
    }
    /** @internal A status frame for this call. */
    _serverStatus(call) {
      if (this.ended) return;
      this.#awaitingReply = false;
      const data = { ...this.#data, ...call };
      for (const field of STATUS_DETAIL) if (call[field] === void 0) delete data[field];
      this.#data = data;
      this.#setStatus(call.status);
    }
    /** @internal `notifyTransferEvent` for this call. */
    _transfer(event) {
      this.emit("transfer", { status: event.status, ...event.info !== void 0 && { info: event.info } });
    }
    /**
     * @internal A `fail` about this call. A refused `call` message means the server never took the call, so no
     * status will follow: it ends here, FAILED with the server's reason. Any other `fail` leaves the status to the
     * server's status frames (a refused hook that stops the call is followed by `finish` FAILED with the same
     * reason; a refused hold, DTMF or transfer changes nothing) and is reported as a warning.
     */
    _fail(failure) {
      if (this.ended) return;
      this.#awaitingReply = false;
      if (failure.apiMethod === "call") {
        this._end("FAILED", failure.info, failure.sipMessageRaw);
      } else {
        this.#warn(failure.apiMethod, failure.info);
      }
    }
    /** @internal Outgoing, `call` sent, nothing heard about it yet. */
    get _awaitingReply() {
      return this.#awaitingReply;
    }
    /** @internal Ends the call on this side (no frame is sent) with `status` and `info`. */
    _end(status, info, sipMessageRaw) {
      if (this.ended) return;
      const data = { ...this.#data, status, info };
      delete data.sipStatus;
      delete data.sipMessageRaw;
      if (sipMessageRaw !== void 0) data.sipMessageRaw = sipMessageRaw;
      this.#data = data;
      this.#setStatus(status);
    }
    #setStatus(status) {
      this.#status = status;
      if (isFinalCallStatus(status)) {
        clearTimeout(this.#hangupTimer);
        this.#media?.close();
        this.host.ended(this);
      }
      const d = this.#data;
      this.emit("status", {
        status,
        ...d.info !== void 0 && { info: d.info },
        ...d.sipStatus !== void 0 && { sipStatus: d.sipStatus },
        ...d.sipMessageRaw !== void 0 && { sipMessageRaw: d.sipMessageRaw },
        call: d
      });
    }
    #warn(apiMethod, info) {
      this.emit("warning", { apiMethod, info, callId: this.id });
    }
  };

  // sdk/src/session-calls.ts
  var MAX_PENDING_OFFERS = 16;
  var SessionCalls = class {
    constructor(host) {
      this.host = host;
      this.#callHost = {
        media: host.media,
        send: (message, arg) => host.send(message, arg),
        ended: (call) => {
          if (this.#calls.get(call.id) === call) this.#calls.delete(call.id);
        }
      };
    }
    host;
    #calls = /* @__PURE__ */ new Map();
    #offers = /* @__PURE__ */ new Map();
    #callHost;
    /** The calls that have not ended. */
    get all() {
      return [...this.#calls.values()];
    }
    /** Whether `call` is a live call of this session. */
    holds(call) {
      return this.#calls.get(call?.id) === call;
    }
    /** An outgoing call: made here, placed in the background (microphone, offer, `call`). */
    place(options, caller) {
      const data = { callId: newId(), status: "PENDING", incoming: false, callee: options.callee };
      if (caller !== void 0) data.caller = caller;
      const call = new Call(this.#callHost, data);
      this.#calls.set(call.id, call);
      void call._place(options, caller);
      return call;
    }
    /** `notifyTryingResponse`, `ring`, `talk`, `hold`, `finish`: the status in the call object is the truth. */
    status(data) {
      const call = asCall(data);
      if (call !== void 0) this.#calls.get(call.callId)?._serverStatus(call);
    }
    /** `setRemoteSDP`: the answer of an outgoing call, or the offer of an incoming one (before it is announced). */
    remoteSdp(callId, sdp) {
      if (typeof callId !== "string" || typeof sdp !== "string") return;
      const call = this.#calls.get(callId);
      if (call !== void 0) {
        call._remoteSdp(sdp);
        return;
      }
      this.#offers.delete(callId);
      this.#offers.set(callId, sdp);
      for (const oldest of this.#offers.keys()) {
        if (this.#offers.size <= MAX_PENDING_OFFERS) break;
        this.#offers.delete(oldest);
      }
    }
    /** `notifyIncomingCall`, with the offer that came before it. */
    incoming(value) {
      const data = asCall(value);
      if (data === void 0) return;
      if (this.#calls.has(data.callId)) {
        this.host.warn("notifyIncomingCall", `a second notifyIncomingCall for call ${data.callId} was ignored`);
        return;
      }
      const offer = this.#offers.get(data.callId);
      this.#offers.delete(data.callId);
      const call = new Call(this.#callHost, { ...data, incoming: true }, offer);
      this.#calls.set(call.id, call);
      this.host.incoming(call);
    }
    /** `notifyTransferEvent` `[{callId, status, info}]`. */
    transfer(value) {
      const o = asObject(value);
      const status = o["status"];
      if (typeof o["callId"] !== "string" || typeof status !== "string") return;
      const event = { status };
      if (typeof o["info"] === "string") event.info = o["info"];
      this.#calls.get(o["callId"])?._transfer(event);
    }
    /**
     * A `fail` about a call, by its `callId`; a refused `call` without one (a frame the server could not read) goes
     * to the oldest call still waiting for its first answer, since the server answers frames in order. False when
     * the failure is about no call of this session.
     */
    failure(failure) {
      const { apiMethod } = failure;
      const call = failure.callId !== void 0 ? this.#calls.get(failure.callId) : apiMethod === "call" ? [...this.#calls.values()].find((c) => c._awaitingReply) : void 0;
      if (call === void 0 || !(isCallMessage(apiMethod) || apiMethod === "CallStatusEvent" || apiMethod === "TransferStatusEvent")) {
        return false;
      }
      call._fail(failure);
      return true;
    }
    /** The connection is gone: every call ends here with `status` and `info`, and pending offers are dropped. */
    endAll(status, info) {
      for (const call of [...this.#calls.values()]) call._end(status, info);
      this.#calls.clear();
      this.#offers.clear();
    }
  };

  // sdk/src/session-status.ts
  var CONNECTION_TRANSITIONS = {
    // The server accepted (getUserData); a reconnect attempt failed or disconnect() stopped it; the server refused it.
    PENDING: ["ESTABLISHED", "DISCONNECTED", "FAILED"],
    // The socket closed or disconnect(); the server refused the connection after all (fail ConnectionStatusEvent).
    ESTABLISHED: ["DISCONNECTED", "FAILED"],
    // A reconnect attempt begins; the attempts ran out; disconnect() during the wait between attempts ends the wait.
    DISCONNECTED: ["PENDING", "FAILED", "DISCONNECTED"],
    // disconnect() before the server closed the socket of its refusal.
    FAILED: ["DISCONNECTED"]
  };
  var REGISTRATION_TRANSITIONS = {
    // The first outcome: `registered`, or `fail` RegistrationStatusEvent.
    UNREGISTERED: ["REGISTERED", "FAILED"],
    // A refresh failed; the connection is gone.
    REGISTERED: ["FAILED", "UNREGISTERED"],
    // A retry succeeded; the connection is gone.
    FAILED: ["REGISTERED", "UNREGISTERED"]
  };

  // sdk/src/status-machine.ts
  var StatusMachine = class {
    constructor(name, initial, transitions) {
      this.name = name;
      this.transitions = transitions;
      this.#current = initial;
    }
    name;
    transitions;
    #current;
    get current() {
      return this.#current;
    }
    /** Whether the table allows `next` from the current status. */
    allows(next) {
      return this.transitions[this.#current].includes(next);
    }
    /** Moves to `next`; throws when the table does not allow it from the current status. */
    transition(next) {
      if (!this.allows(next)) throw new Error(`${this.name} status ${this.#current} \u2192 ${next} is not allowed`);
      this.#current = next;
    }
  };

  // sdk/src/session.ts
  var CLOSE_POLICY = 1008;
  function connect(options) {
    return Session._connect(options);
  }
  var Session = class _Session extends Emitter {
    #options;
    #WebSocket;
    #calls;
    #channel;
    #status = new StatusMachine("connection", "PENDING", CONNECTION_TRANSITIONS);
    #registration = new StatusMachine("registration", "UNREGISTERED", REGISTRATION_TRANSITIONS);
    #userData;
    #messages = new SentMessages();
    #closedByClient = false;
    /** Stops a connection attempt or the wait before one (disconnect() during reconnecting). */
    #abortAttempt;
    constructor(options, WebSocket) {
      super();
      this.#options = options;
      this.#WebSocket = WebSocket;
      this.#calls = new SessionCalls({
        media: options.media ?? {},
        send: (message, arg) => this.#channel?.send(message, arg) ?? false,
        warn: (apiMethod, info) => this.#warn(apiMethod, info),
        incoming: (call) => this.emit("incomingCall", call)
      });
    }
    /** @internal Use `connect()`. */
    static async _connect(options) {
      const WebSocket = checkOptions(options);
      const session = new _Session(options, WebSocket);
      await session.#establish(false);
      return session;
    }
    get url() {
      return this.#options.url;
    }
    get status() {
      return this.#status.current;
    }
    get registration() {
      return this.#registration.current;
    }
    /** The server's `getUserData` of the current connection. */
    get userData() {
      return this.#userData;
    }
    /** The id the backend sees in every hook of this connection. */
    get sessionId() {
      return this.#userData?.sessionId;
    }
    /** The calls that have not ended. */
    get calls() {
      return this.#calls.all;
    }
    /**
     * Places a call. Returns at once; the microphone, the offer and the `call` frame follow, and the call's `status`
     * events tell the rest (a failure ends it with FAILED and the reason in `info`).
     */
    call(options) {
      if (typeof options?.callee !== "string" || options.callee.trim() === "") {
        throw new CallhookError("INVALID_ARGUMENT", "call: callee must be a non-empty string");
      }
      this.#established("call");
      return this.#calls.place(options, this.#userData?.sipLogin);
    }
    /**
     * Answers an incoming call: opens the microphone, answers the server's offer, sends `answer`. Resolves when
     * the answer is sent (the status then becomes ESTABLISHED); rejects, and ends the call, when that fails.
     */
    answer(call, options = {}) {
      if (!this.#calls.holds(call)) {
        return Promise.reject(new CallhookError("INVALID_ARGUMENT", "answer: not a live call of this session"));
      }
      return call._answer(options);
    }
    /**
     * Sends a SIP MESSAGE. Resolves when the far end accepted it (ACCEPTED); rejects with CallhookError
     * MESSAGE_FAILED, whose `info` is the server's reason (`SIP 404 Not Found`, a backend's refusal), when it failed.
     */
    sendMessage(options) {
      return this.#messages.send(options, () => this.#established("sendMessage"));
    }
    /**
     * Closes the connection: the server ends every call, unregisters and tells the backend. Calls end here with
     * FINISH, messages still waiting reject with DISCONNECTED. Stops reconnecting. Safe to call twice.
     */
    async disconnect() {
      if (this.#closedByClient) return;
      this.#closedByClient = true;
      const reconnecting = this.#abortAttempt !== void 0;
      this.#abortAttempt?.();
      const channel = this.#channel;
      this.#channel = void 0;
      const info = "Disconnected by the client";
      this.#teardown("FINISH", info);
      if (channel === void 0 && !reconnecting) return;
      await channel?.close(1e3);
      this.#status.transition("DISCONNECTED");
      this.emit("disconnected", { code: 1e3, info, byClient: true, willReconnect: false });
    }
    // ------------------------------------------------------------------------------------------------- connecting
    /** One attempt to connect (./connection-attempt.ts); resolves once the connection is ESTABLISHED. */
    async #establish(reconnected) {
      const userAgent = typeof navigator === "undefined" ? void 0 : navigator.userAgent;
      const attempt = new ConnectionAttempt({
        url: this.#options.url,
        WebSocket: this.#WebSocket,
        fields: connectionFields(this.#options, userAgent),
        timeoutMs: this.#options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        badFrame: (description) => this.#warn("unknown", `the server sent ${description}`),
        accepted: (channel, userData) => {
          this.#channel = channel;
          this.#status.transition("ESTABLISHED");
          this.#userData = userData;
          this.emit("established", { userData, reconnected });
          return {
            frame: (frame) => {
              if (this.#channel === channel) this.#frame(frame);
            },
            closed: (code, reason) => {
              if (this.#channel === channel) this.#lost(code, reason);
            }
          };
        }
      });
      this.#abortAttempt = () => attempt.abort();
      try {
        await attempt.done;
      } finally {
        this.#abortAttempt = void 0;
      }
    }
    /** The established channel closed without `disconnect()`. */
    #lost(code, reason) {
      this.#channel = void 0;
      const info = `Connection lost (${closeText(code, reason)})`;
      this.#teardown("FAILED", info);
      if (this.#status.current === "FAILED") return;
      const policy = this.#options.reconnect;
      const willReconnect = policy !== void 0 && code !== CLOSE_POLICY;
      this.#status.transition("DISCONNECTED");
      this.emit("disconnected", { code, info, byClient: false, willReconnect });
      if (policy !== void 0 && willReconnect) void this.#reconnect(policy, info);
    }
    async #reconnect(policy, lastInfo) {
      let delay = policy.delayMs ?? DEFAULT_RECONNECT_DELAY_MS;
      let info = lastInfo;
      for (let attempt = 1; attempt <= policy.attempts; attempt++) {
        await this.#wait(delay);
        if (this.#closedByClient) return;
        this.#status.transition("PENDING");
        try {
          await this.#establish(true);
          return;
        } catch (err) {
          if (this.#closedByClient) return;
          const error = err;
          if (error.code === "CONNECT_REFUSED") {
            this.#fail(error.info);
            return;
          }
          this.#status.transition("DISCONNECTED");
          info = error.info;
        }
        delay = Math.min(delay * 2, policy.maxDelayMs ?? DEFAULT_RECONNECT_MAX_DELAY_MS);
      }
      this.#fail(`${info} (gave up after ${policy.attempts} reconnect attempts)`);
    }
    #wait(ms) {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#abortAttempt = void 0;
          resolve();
        };
        const timer = setTimeout(done, ms);
        this.#abortAttempt = done;
      });
    }
    #fail(info) {
      this.#status.transition("FAILED");
      this.emit("failed", { info });
    }
    /** Ends the calls, the waiting messages and the registration of a connection that is gone. */
    #teardown(callStatus, info) {
      this.#calls.endAll(callStatus, info);
      this.#messages.abandon(info);
      if (this.#registration.current !== "UNREGISTERED") this.#registration.transition("UNREGISTERED");
    }
    /** The channel of the established connection; NOT_CONNECTED naming `what` when there is none. */
    #established(what) {
      if (this.#status.current !== "ESTABLISHED" || this.#channel === void 0) {
        throw new CallhookError("NOT_CONNECTED", `${what}: the session is ${this.#status.current}`);
      }
      return this.#channel;
    }
    // ----------------------------------------------------------------------------------------------- server frames
    #frame(frame) {
      const first = frame.data[0];
      switch (frame.message) {
        case "registered": {
          const event = registrationEvent("REGISTERED", asObject(first), "registered");
          if (this.#reported(this.#registration, "REGISTERED", "registered", event.info)) this.emit("registered", event);
          return;
        }
        case "fail":
          this.#routeFailure(asFailure(first));
          return;
        case "notifyMessage":
          this.#notifyMessage(asObject(first), asObject(frame.data[1]));
          return;
        case "setRemoteSDP":
          this.#calls.remoteSdp(frame.data[0], frame.data[1]);
          return;
        case "notifyTryingResponse":
        case "ring":
        case "talk":
        case "hold":
        case "finish":
          this.#calls.status(first);
          return;
        case "notifyIncomingCall":
          this.#calls.incoming(first);
          return;
        case "notifyTransferEvent":
          this.#calls.transfer(first);
          return;
        default:
          return;
      }
    }
    /**
     * A `fail`, to whatever it concerns: the connection, the registration, a message by `id`, a call (./session-calls.ts).
     * Anything else is a session warning.
     */
    #routeFailure(failure) {
      const { apiMethod, info } = failure;
      if (apiMethod === "ConnectionStatusEvent") {
        if (this.#reported(this.#status, "FAILED", apiMethod, info)) this.emit("failed", { info });
        return;
      }
      if (apiMethod === "RegistrationStatusEvent") {
        if (this.#reported(this.#registration, "FAILED", apiMethod, info)) this.emit("registrationFailed", registrationEvent("FAILED", failure, info));
        return;
      }
      if (failure.id !== void 0 && this.#messages.awaits(failure.id)) {
        const message = { id: failure.id, status: "FAILED", info };
        this.emit("messageStatus", messageStatusEvent(message));
        this.#messages.settle(message);
        return;
      }
      if (this.#calls.failure(failure)) return;
      const warning = { apiMethod, info };
      if (failure.callId !== void 0) warning.callId = failure.callId;
      if (failure.id !== void 0) warning.id = failure.id;
      this.emit("warning", warning);
    }
    #notifyMessage(message, notificationResult) {
      if (typeof message["id"] !== "string" || typeof message["status"] !== "string") return;
      const m = message;
      if (m.status === "RECEIVED") {
        this.emit("message", m);
        this.#channel?.send("notificationResult", { ...notificationResult, status: "OK" });
        return;
      }
      this.emit("messageStatus", messageStatusEvent(m));
      this.#messages.settle(m);
    }
    /**
     * Applies a status the server reported, if its table allows that from here; else the report is a warning and
     * changes nothing (the server reports each change once, so a repeated report is news of nothing).
     */
    #reported(status, next, apiMethod, info) {
      if (!status.allows(next)) {
        this.#warn(apiMethod, `${info} (reported while the ${status.name} is ${status.current}: ignored)`);
        return false;
      }
      status.transition(next);
      return true;
    }
    #warn(apiMethod, info) {
      this.emit("warning", { apiMethod, info });
    }
  };
  function registrationEvent(status, o, fallbackInfo) {
    const event = { status, info: typeof o["info"] === "string" ? o["info"] : fallbackInfo };
    if (typeof o["sipMessageRaw"] === "string") event.sipMessageRaw = o["sipMessageRaw"];
    return event;
  }
  return __toCommonJS(index_exports);
})();
