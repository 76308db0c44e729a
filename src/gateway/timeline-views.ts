/**
 * The per-session timeline as the admin API serves it (`GET /api/timelines/{sessionId}`) and the console draws it.
 * Plain data and no imports, so the console (console/src/) shares these types with the server.
 */
/** The ladder's lanes, left to right after callhook itself: browser ⇄ callhook ⇄ web server ⇄ SIP peer. */
export type TimelineLane = 'browser' | 'hooks' | 'sip' | 'media';
/** `in`: towards callhook; `out`: from callhook; `local`: a change inside callhook (a media state). */
export type StepDirection = 'in' | 'out' | 'local';

export interface TimelineStepView {
  seq: number;
  /** ISO 8601 with milliseconds. */
  time: string;
  /** Since the previous step shown, ms (0 for the first). */
  gapMs: number;
  lane: TimelineLane;
  direction: StepDirection;
  /** The method or status: `connect`, `REGISTER`, `401 Unauthorized`, `ICE/DTLS connected`, … */
  label: string;
  detail?: string;
  failed: boolean;
  callId?: string;
  peer?: string;
  /** SIP: the message as text, credentials redacted. Hooks: the JSON bodies, the SIP password removed. */
  raw?: string;
  /** The raw text was let go to keep the session within `timelineMaxBytes` (older texts go first). */
  rawDropped?: boolean;
  /**
   * On the first step of a registration refresh round: the round stands for `count` alike ones in a row (the
   * earlier ones folded into it), the first at `since`.
   */
  repeats?: { count: number; since: string };
}

export interface TimelineSummary {
  sessionId: string;
  appKey: string;
  sipLogin?: string;
  startedAt: string;
  /** null while the session lives. */
  endedAt: string | null;
  steps: number;
  failedSteps: number;
}

export interface TimelineView extends TimelineSummary {
  /** Older steps let go to keep within the per-session bound. */
  droppedSteps: number;
  steps: number;
  timeline: TimelineStepView[];
}

