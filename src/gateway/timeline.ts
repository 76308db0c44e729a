/**
 * The per-session timeline (docs/console.md "Timeline"): what a packet capture of one session would show, kept by
 * the one layer that sees all four lanes of it — the browser's frames (client API ⇄ gateway), the REST hooks
 * (hook engine attempts), SIP (every message of the session's Call-IDs) and media (ICE/DTLS states, media start
 * and stop). Each step has its time; a failed step says why in the words the logs use.
 *
 * Cheap enough to stay on: a step is a small object pushed onto its session's list; SIP text is kept as received
 * (or sent) and redacted only when someone looks. Bounded: at most `maxSteps` per session (the
 * oldest go first and are counted), every live session, and the `keepEnded` sessions that ended last. Small per
 * live session, which may live for days: the texts of a session's steps (SIP messages, hook bodies) share a budget
 * of `maxBytes`, the oldest let go first (their step stays, marked), and a registration's routine refreshes fold
 * into one round with a count (./timeline-refresh.ts), so a healthy registered session does not grow.
 */
import type { HookAttempt } from '../hooks/types.ts';
import { getCallId, getCSeq } from '../sip/message/headers.ts';
import type { SipMessage } from '../sip/message/message.ts';
import { formatUri } from '../sip/message/uri.ts';
import type { MessageObserver } from '../sip/transport/index.ts';
import type { Endpoint } from '../sip/transport/transport.ts';
import { CALL_STATUS_MESSAGE, type CallStatus } from '../client-protocol/vocabulary.ts';
import type { ClientEvent } from './types.ts';
import type { StepDirection, TimelineLane, TimelineStepView, TimelineSummary, TimelineView } from './timeline-views.ts';
import { RefreshRounds } from './timeline-refresh.ts';
import { sipMessageRaw } from './views.ts';
import { ownCopy } from '../own-string.ts';

/** What a step is made of, as its recorder hands it over: the timeline adds its sequence number and, unless given, its time. */
export interface StepFields extends Omit<TimelineStepView, 'seq' | 'time' | 'gapMs' | 'raw' | 'repeats'> {
  /** ms since the epoch */
  t?: number;
  /** The message or body, shown on demand: the text received or sent (SIP), a body as the hook log keeps it. */
  raw?: string;
}

const LANES: readonly TimelineLane[] = ['browser', 'hooks', 'sip', 'media'];
const DIRECTIONS: readonly StepDirection[] = ['in', 'out', 'local'];
/** Step.bits: the lane's index in bits 0–1, the direction's in bits 2–3, then these flags. */
const FAILED = 1 << 4;
const RAW_DROPPED = 1 << 5;

/**
 * A step as recorded: its time as a number, its message kept as it came until someone looks. A class rather than
 * an object literal so that every step shares one hidden class: the spread literal gave each step of a live
 * session a V8 map and descriptor array of its own (about 300 bytes a step, seen in a heap snapshot of the server).
 * Its lane, direction and two flags share one small integer: a field costs 8 bytes in every step, and a registered
 * session keeps some 13 steps for as long as it lives.
 */
export class Step {
  readonly seq: number;
  /** ms since the epoch */
  readonly t: number;
  readonly label: string;
  readonly detail: string | undefined;
  readonly callId: string | undefined;
  readonly peer: string | undefined;
  /**
   * SIP: the text received or sent. Hooks: the request body (direction `out`) or the answer's (`in`), as
   * the hook log keeps it (redacted and bounded by the engine, ../hooks/hook-log-body.ts). Undefined once dropped.
   */
  raw: string | undefined;
  /** A folded refresh round: how many like it this one stands for, and the time of the first (ms). */
  repeats: { count: number; since: number } | undefined = undefined;
  private bits: number;

  constructor(seq: number, t: number, f: StepFields) {
    this.seq = seq;
    this.t = t;
    this.label = f.label;
    this.detail = f.detail;
    this.callId = f.callId;
    this.peer = f.peer;
    this.raw = f.raw;
    this.bits = LANES.indexOf(f.lane) | (DIRECTIONS.indexOf(f.direction) << 2) | (f.failed ? FAILED : 0);
  }

  get lane(): TimelineLane {
    return LANES[this.bits & 3]!;
  }

  get direction(): StepDirection {
    return DIRECTIONS[(this.bits >> 2) & 3]!;
  }

  get failed(): boolean {
    return (this.bits & FAILED) !== 0;
  }

  /** The raw text was let go to keep the session within `maxBytes`. */
  get rawDropped(): boolean {
    return (this.bits & RAW_DROPPED) !== 0;
  }

  dropRaw(): void {
    this.raw = undefined;
    this.bits |= RAW_DROPPED;
  }
}

export interface TimelineSettings {
  /** Ended sessions kept (config `timelineKeepEnded`); 0 turns the recorder off. */
  keepEnded: number;
  /** Steps kept per session (config `timelineMaxSteps`). */
  maxSteps: number;
  /** Bytes of raw text (SIP messages, hook bodies) kept per session (config `timelineMaxBytes`). */
  maxBytes: number;
  now?: () => number;
}

/** A new step of a session, for live watchers (the admin API's Server-Sent Events). */
export type StepListener = (sessionId: string, step: TimelineStepView) => void;

/** Distinct labels, details and peers shared by the steps that show them; past this many they start afresh. */
const MAX_SHARED_TEXTS = 4096;
/** Unattributed SIP messages kept for a moment: an incoming INVITE passes the tap before its call exists. */
const PENDING_SIP = 32;
/** Failed SIP responses: any final one from 300 on, except the digest challenges a client answers by itself. */
const CHALLENGES = new Set([401, 407]);

export class SessionTimeline {
  readonly steps: Step[] = [];
  dropped = 0;
  /** The raw texts' bytes the steps hold, within settings.maxBytes. */
  rawBytes = 0;
  endedAt: number | null = null;
  sipLogin: string | undefined;
  /**
   * The registration's refresh rounds (trackSip with `refreshes`); a session has one registration, whose Call-ID
   * the rounds hold.
   */
  private refreshes: RefreshRounds | undefined;
  /** The other Call-IDs tracked (calls'), made at the first: a registered session without calls needs none. */
  private calls: Set<string> | undefined;

  constructor(
    private readonly recorder: TimelineRecorder,
    readonly sessionId: string,
    readonly appKey: string,
    readonly startedAt: number,
  ) {}

  /** A frame from the browser (`connection`, `call`, `hangup`, …). */
  fromClient(message: string, callId?: string): void {
    this.add({ lane: 'browser', direction: 'in', label: message, failed: false, ...(callId !== undefined && { callId }) });
  }

  /** An event to the browser, named as its frame on the wire. */
  toClient(event: ClientEvent): void {
    const { label, detail, failed, callId } = describeClientEvent(event);
    this.add({ lane: 'browser', direction: 'out', label, failed, ...(detail !== undefined && { detail }), ...(callId !== undefined && { callId }) });
  }

  /** An ICE/DTLS state of a call's browser leg, media start or stop. */
  media(callId: string, label: string, detail?: string, failed = false): void {
    this.add({ lane: 'media', direction: 'local', label, failed, callId, ...(detail !== undefined && { detail }) });
  }

  /**
   * SIP messages with this Call-ID belong to the session from now on (and the last few seen already). `refreshes`:
   * it is the registration's, whose routine refreshes fold into one round.
   */
  trackSip(callId: string, refreshes = false): void {
    if (refreshes) this.refreshes = new RefreshRounds(callId);
    else (this.calls ??= new Set()).add(callId);
    this.recorder.adopt(callId, this);
  }

  /** Every Call-ID whose SIP messages belong to the session. */
  callIds(): string[] {
    return [...(this.refreshes === undefined ? [] : [this.refreshes.callId]), ...(this.calls ?? [])];
  }

  add(step: StepFields): Step {
    const shared = this.recorder.shared;
    const full = new Step(this.recorder.nextSeq(), step.t ?? this.recorder.now(), {
      ...step,
      label: shared(step.label),
      ...(step.detail !== undefined && { detail: shared(step.detail) }),
      ...(step.peer !== undefined && { peer: shared(step.peer) }),
    });
    if (this.steps.length >= this.recorder.settings.maxSteps) {
      this.rawBytes -= rawSize(this.steps.shift()!.raw);
      this.dropped++;
    }
    this.steps.push(full);
    if (full.raw !== undefined) {
      this.rawBytes += rawSize(full.raw);
      this.keepWithinBudget();
    }
    this.recorder.published(this, full);
    return full;
  }

  /** @internal The recorder's SIP tap: `final` marks the answer that ends a REGISTER round. */
  addSip(callId: string, step: StepFields, final: boolean): void {
    const full = this.add(step);
    if (this.refreshes?.callId !== callId) return;
    const folded = this.refreshes.step(full, final);
    if (folded.length > 0) this.remove(folded);
  }

  /** The oldest texts go first; their steps stay, marked, so the ladder keeps its shape. */
  private keepWithinBudget(): void {
    for (let i = 0; this.rawBytes > this.recorder.settings.maxBytes && i < this.steps.length; i++) {
      const s = this.steps[i]!;
      if (s.raw === undefined) continue;
      this.rawBytes -= rawSize(s.raw);
      s.dropRaw();
    }
  }

  private remove(gone: Step[]): void {
    const set = new Set(gone);
    let kept = 0;
    for (const s of this.steps) {
      if (set.has(s)) this.rawBytes -= rawSize(s.raw);
      else this.steps[kept++] = s;
    }
    this.steps.length = kept;
  }
}

/** A text's size as the budget counts it: its UTF-16 units (one byte each for ASCII). */
function rawSize(raw: Step['raw']): number {
  return raw === undefined ? 0 : raw.length;
}

const NO_STEP = new Step(0, 0, { lane: 'browser', direction: 'local', label: '', failed: false });

/** What the gateway hands sessions when the recorder is off: records nothing. */
class NoTimeline extends SessionTimeline {
  override add(): Step {
    return NO_STEP;
  }
  override trackSip(): void {}
}

export class TimelineRecorder {
  private readonly live = new Map<string, SessionTimeline>();
  /** Ended sessions, oldest first, at most keepEnded. */
  private readonly ended = new Map<string, SessionTimeline>();
  private readonly bySipCallId = new Map<string, SessionTimeline>();
  private readonly pendingSip: { callId: string; step: StepFields; final: boolean }[] = [];
  private readonly listeners = new Set<StepListener>();
  private seq = 0;
  /** See `shared`. */
  private readonly texts = new Map<string, string>();
  readonly now: () => number;

  constructor(readonly settings: TimelineSettings) {
    this.now = settings.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.settings.keepEnded > 0;
  }

  /** The timeline of a session that is starting (its `connection` arrived). */
  open(sessionId: string, appKey: string): SessionTimeline {
    if (!this.enabled) return new NoTimeline(this, sessionId, appKey, 0);
    const t = new SessionTimeline(this, sessionId, appKey, this.now());
    this.live.set(sessionId, t);
    this.ended.delete(sessionId);
    return t;
  }

  /** The session is over: its timeline joins the recently ended ones; its Call-IDs are let go. */
  close(timeline: SessionTimeline): void {
    if (this.live.get(timeline.sessionId) !== timeline) return;
    this.live.delete(timeline.sessionId);
    timeline.endedAt = this.now();
    for (const id of timeline.callIds()) if (this.bySipCallId.get(id) === timeline) this.bySipCallId.delete(id);
    this.ended.set(timeline.sessionId, timeline);
    for (const key of this.ended.keys()) {
      if (this.ended.size <= this.settings.keepEnded) break;
      this.ended.delete(key);
    }
  }

  /** The SIP tap (TransportLayer.observe). */
  readonly sipObserver: MessageObserver = (direction, message, remote, raw) => {
    if (this.live.size === 0) return;
    let callId: string;
    try {
      callId = getCallId(message);
    } catch {
      return; // the transaction layer drops it too
    }
    const step = sipStep(direction, message, remote, raw, this.now());
    const final = message.kind === 'response' && message.status >= 200 && !CHALLENGES.has(message.status);
    const owner = this.bySipCallId.get(callId);
    if (owner !== undefined) return owner.addSip(callId, step, final);
    this.pendingSip.push({ callId, step, final });
    if (this.pendingSip.length > PENDING_SIP) this.pendingSip.shift();
  };

  /** A hook attempt (HookEngineDeps.onAttempt): the request and its answer, two steps. */
  hookAttempt(a: HookAttempt): void {
    const timeline = this.live.get(a.sessionId);
    if (timeline === undefined) return;
    timeline.add({
      t: a.time, lane: 'hooks', direction: 'out', label: a.method, detail: `POST ${a.url}`, failed: false,
      ...(a.requestBody !== null && { raw: a.requestBody }),
    });
    // An app that echoes what it was sent (EchoApp does) answers the same text: keep it once.
    const responseBody = a.responseBody === a.requestBody ? a.requestBody : a.responseBody;
    const answer = a.status === null ? 'no answer' : String(a.status);
    timeline.add({
      t: a.time + a.latencyMs,
      lane: 'hooks',
      direction: 'in',
      label: answer,
      detail: `${a.method} in ${Math.round(a.latencyMs)} ms${a.error === null ? '' : `: ${a.error}`}`,
      failed: a.error !== null,
      ...(responseBody !== null && { raw: responseBody }),
    });
  }

  /** Watch every new step (live updates); returns the function that stops watching. */
  subscribe(listener: StepListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(): TimelineSummary[] {
    return [...this.live.values(), ...[...this.ended.values()].reverse()].map(summaryOf);
  }

  view(sessionId: string): TimelineView | undefined {
    const t = this.live.get(sessionId) ?? this.ended.get(sessionId);
    if (t === undefined) return undefined;
    const sorted = [...t.steps].sort((a, b) => a.t - b.t || a.seq - b.seq);
    let previous: number | undefined;
    const timeline = sorted.map((s) => {
      const v = stepView(s, previous);
      previous = s.t;
      return v;
    });
    return { ...summaryOf(t), droppedSteps: t.dropped, timeline };
  }

  /**
   * @internal SessionTimeline.add: one copy of a step's short text for all the steps that show it. Sessions repeat
   * them (`REGISTER sip:example.com (Expires 3600)`, the registrar's address, a hook's URL); each step building its
   * own cost some 100 bytes, and a label read from a SIP message (its reason phrase) kept the whole message's text.
   */
  readonly shared = (text: string): string => {
    const kept = this.texts.get(text);
    if (kept !== undefined) return kept;
    if (this.texts.size >= MAX_SHARED_TEXTS) this.texts.clear();
    const own = ownCopy(text);
    this.texts.set(own, own);
    return own;
  };

  /** @internal SessionTimeline's: a sequence number per step, unique across sessions. */
  nextSeq(): number {
    return ++this.seq;
  }

  /** @internal SessionTimeline.trackSip: the messages of `callId` seen before it was tracked. */
  adopt(callId: string, timeline: SessionTimeline): void {
    this.bySipCallId.set(callId, timeline);
    for (let i = 0; i < this.pendingSip.length; ) {
      const p = this.pendingSip[i]!;
      if (p.callId !== callId) {
        i++;
        continue;
      }
      this.pendingSip.splice(i, 1);
      timeline.addSip(callId, p.step, p.final);
    }
  }

  /** @internal SessionTimeline.add: tell the watchers. */
  published(timeline: SessionTimeline, step: Step): void {
    if (this.listeners.size === 0) return;
    const view = stepView(step, undefined);
    for (const l of this.listeners) l(timeline.sessionId, view);
  }
}

function summaryOf(t: SessionTimeline): TimelineSummary {
  return {
    sessionId: t.sessionId,
    appKey: t.appKey,
    ...(t.sipLogin !== undefined && { sipLogin: t.sipLogin }),
    startedAt: new Date(t.startedAt).toISOString(),
    endedAt: t.endedAt === null ? null : new Date(t.endedAt).toISOString(),
    steps: t.steps.length,
    failedSteps: t.steps.filter((s) => s.failed).length,
  };
}

function stepView(s: Step, previous: number | undefined): TimelineStepView {
  const v: TimelineStepView = {
    seq: s.seq,
    time: new Date(s.t).toISOString(),
    gapMs: previous === undefined ? 0 : Math.round(s.t - previous),
    lane: s.lane,
    direction: s.direction,
    label: s.label,
    failed: s.failed,
  };
  if (s.detail !== undefined) v.detail = s.detail;
  if (s.callId !== undefined) v.callId = s.callId;
  if (s.peer !== undefined) v.peer = s.peer;
  if (s.raw !== undefined) v.raw = rawText(s);
  if (s.rawDropped) v.rawDropped = true;
  if (s.repeats !== undefined) v.repeats = { count: s.repeats.count, since: new Date(s.repeats.since).toISOString() };
  return v;
}

function rawText(s: Step): string {
  const raw = s.raw!;
  if (s.lane !== 'hooks') return sipMessageRaw(raw);
  // A JSON body shown indented, under the name of its side; a body that is not JSON, or was cut, as its text.
  let body: unknown = raw;
  try {
    body = JSON.parse(raw) as unknown;
  } catch {
    // shown as its text
  }
  return JSON.stringify({ [s.direction === 'out' ? 'request' : 'response']: body }, null, 2);
}

function sipStep(direction: 'in' | 'out', message: SipMessage, remote: Endpoint, raw: Buffer, t: number): StepFields {
  const peer = remote.address.includes(':') ? `[${remote.address}]:${remote.port}` : `${remote.address}:${remote.port}`;
  // A message is kept as the text it is shown as (views.ts decodes it as UTF-8 too), not as its Buffer: a Buffer
  // costs its ArrayBuffer, backing store and malloc block beside the bytes (about 0.4 KiB a message; each
  // registered session keeps two, its 401 and 200).
  const text = raw.toString('utf8');
  if (message.kind === 'request') {
    // A REGISTER's Expires tells a refresh from the unregistration (Expires 0, RFC 3261 §10.2.2), which never folds.
    const expires = message.method === 'REGISTER' ? message.headers.get('Expires') : undefined;
    const detail = `${message.method} ${formatUri(message.uri)}${expires === undefined ? '' : ` (Expires ${expires})`}`;
    return { t, lane: 'sip', direction, label: message.method, detail, failed: false, peer, raw: text };
  }
  let method = '';
  try {
    method = ` (${getCSeq(message).method})`;
  } catch {
    // a response without a readable CSeq still shows its status
  }
  const failed = message.status >= 300 && !CHALLENGES.has(message.status);
  return { t, lane: 'sip', direction, label: `${message.status} ${message.reason}`, detail: `SIP ${message.status} ${message.reason}${method}`, failed, peer, raw: text };
}

/** A client event as its frame on the wire (docs/client-protocol.md) and what a reader needs of it. */
function describeClientEvent(event: ClientEvent): { label: string; detail?: string; failed: boolean; callId?: string } {
  switch (event.type) {
    case 'established':
      return { label: 'getUserData', detail: 'ConnectionStatusEvent ESTABLISHED', failed: false };
    case 'registered':
      return { label: 'registered', detail: String(event.event['info'] ?? ''), failed: false };
    case 'failed':
      return {
        label: 'fail',
        detail: `${event.failure.apiMethod}: ${event.failure.info}`,
        failed: true,
        ...(event.failure.callId !== undefined && { callId: event.failure.callId }),
      };
    case 'message':
      return { label: 'notifyMessage', detail: String(event.message['status'] ?? ''), failed: event.message['status'] === 'FAILED' };
    case 'remoteSdp':
      return { label: 'setRemoteSDP', callId: event.callId, failed: false };
    case 'callStatus': {
      const status = String(event.call['status']);
      const info = event.call['info'];
      return {
        label: CALL_STATUS_MESSAGE[status as CallStatus] ?? 'ring',
        detail: `${status}${typeof info === 'string' && info !== '' ? `: ${info}` : ''}`,
        failed: status === 'FAILED',
        callId: String(event.call['callId']),
      };
    }
    case 'incomingCall':
      return { label: 'notifyIncomingCall', callId: String(event.call['callId']), failed: false };
    case 'transfer':
      return { label: 'notifyTransferEvent', detail: String(event.event['status'] ?? ''), failed: event.event['status'] === 'FAILED' };
  }
}
