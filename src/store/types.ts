/**
 * What the store holds (apps, the hook log, the event outbox; docs/admin.md) and the repositories through which the rest of callhook
 * reaches it. Callers depend on these interfaces only; `openStore()` (./sqlite-store.ts) is the SQLite
 * implementation, `openPostgresStore()` (./postgres-store.ts) the PostgreSQL one, injected by whoever starts the
 * server or the test. Reads of apps are synchronous (apps are served from memory); every other read, and every
 * write of apps, returns a promise (docs/architecture.md "One store interface, two engines").
 *
 * The records and the storage interfaces of hooks (apps, restClientConfig, hook log, outbox, wills) are the hook
 * engine's (../hooks/model.ts, ../hooks/storage.ts): the store implements them, so it depends on the engine and
 * never the other way. They are re-exported here because the store's own interfaces speak in them and its users
 * (the admin API, tests) reach them through the store. This file adds what only the admin API needs: editing apps.
 *
 * Times are milliseconds since the Unix epoch (UTC) everywhere in the store.
 * Expected failures are thrown as `StoreError` (./errors.ts) with a `code` the admin API maps to 4xx statuses.
 */
import type { App, NewApp, SignatureMode } from '../hooks/model.ts';
import type { AppLookup, HookStore, SessionWill } from '../hooks/storage.ts';

export type { App, MethodConfig, NewApp, RestClientConfig, RestOnError, RestPolicy, SignatureMode } from '../hooks/model.ts';
export {
  HOOK_LOG_CAPACITY,
  type EventOutbox,
  type HookLog,
  type HookLogEntry,
  type HookLogQuery,
  type NewOutboxEvent,
  type OutboxEvent,
  type OutboxListQuery,
  type OutboxReplayQuery,
  type OutboxState,
  type SessionWill,
  type SessionWills,
  type StoreWrite,
} from '../hooks/storage.ts';

// ---------------------------------------------------------------------------------------------------------------
// Apps

/** Input of `AppRepository.update`: the fields to change; `null` clears an optional credential. */
export interface AppPatch {
  appKey?: string;
  url?: string;
  restUsername?: string | null;
  restPassword?: string | null;
  restSecret?: string | null;
  signature?: SignatureMode;
  /** Replaces the whole default config. */
  restClientConfig?: unknown;
  /** null: back to the configuration's. */
  codecPolicy?: string | null;
}

export interface AppRepository extends AppLookup {
  list(): App[];
  getByName(name: string): App | undefined;
  /** Rejects with StoreError INVALID_APP (a field is bad; the message names it) or APP_EXISTS (name or key taken). */
  add(app: NewApp): Promise<App>;
  /** Rejects with APP_NOT_FOUND, INVALID_APP or APP_EXISTS (new key taken). */
  update(name: string, patch: AppPatch): Promise<App>;
  /** Rejects with APP_NOT_FOUND. */
  remove(name: string): Promise<void>;
  /** Enables one method, or every method with '*'. Rejects with APP_NOT_FOUND or UNKNOWN_METHOD. */
  enableMethod(appKey: string, method: string): Promise<App>;
  /** Disables one method, or every method with '*'. Rejects with APP_NOT_FOUND or UNKNOWN_METHOD. */
  disableMethod(appKey: string, method: string): Promise<App>;
}

// ---------------------------------------------------------------------------------------------------------------
// Call detail records (docs/admin.md "Call detail records")

/** Who ended a call: the browser's client, the SIP far end, or callhook itself (a failure, a timeout, a stop). */
export type HangupSide = 'client' | 'remote' | 'callhook';

/** A decision hook asked about the call and what came of it (`off`: the app does not call that method). */
export interface CallHookOutcome {
  method: string;
  outcome: 'ok' | 'off' | 'failed' | 'refused';
  /** Why it failed, for `failed` and `refused`. */
  info?: string;
}

/** What is known of a call when it starts. */
export interface NewCallRecord {
  callId: string;
  sessionId: string;
  appKey: string;
  direction: 'incoming' | 'outgoing';
  caller: string;
  callee: string;
  startedAt: number;
}

/** What is known of a call when it ends. */
export interface CallRecordEnd {
  caller: string;
  callee: string;
  /** The SIP Call-ID of the call's INVITE, when one was sent or received. */
  sipCallId: string | null;
  endedAt: number;
  /** FINISH, BUSY or FAILED (the call's final CallStatusEvent). */
  status: string;
  info: string | null;
  sipStatus: number | null;
  hangupSide: HangupSide;
  /** PCMU or PCMA, once negotiated. */
  codec: string | null;
  packetsToSip: number | null;
  packetsToBrowser: number | null;
  /** Packets not passed on (hold, a payload type the other side lacks, audio during an injected digit). */
  droppedToSip: number | null;
  droppedToBrowser: number | null;
  /** RTP packets from the SIP side lost on the way (sequence gaps, RFC 3550 A.3). */
  lostFromSip: number | null;
  /** RTP packets from the browser lost on the way (sequence gaps on the WebRTC leg, RFC 3550 A.3). */
  lostFromBrowser: number | null;
  /** The recording's file in the recordings folder (`<callId>.wav`, percent-encoded), for a recorded call. */
  recording: string | null;
  hooks: CallHookOutcome[];
}

/** A call's record: what CallRecordEnd says is null while the call is live (and in the fields never known). */
export type CallDetailRecord = NewCallRecord & { [K in keyof Omit<CallRecordEnd, 'caller' | 'callee' | 'hooks'>]: CallRecordEnd[K] | null } & {
  id: number;
  answeredAt: number | null;
  /** From answer to end in ms (0 for a call never answered); null while the call is live. */
  durationMs: number | null;
  hooks: CallHookOutcome[];
};

export interface CallRecordQuery {
  /** Only calls started at or after this time (ms since epoch). */
  since?: number;
  appKey?: string;
  /** Newest first; default 100, at most CDR_QUERY_MAX. */
  limit?: number;
}

export const CDR_QUERY_MAX = 10_000;

/** Retention: records older than maxAgeMs, and beyond the newest maxCount, are deleted as new calls end. */
export interface CallRecordRetention {
  maxAgeMs: number;
  maxCount: number;
}

/**
 * Called by the gateway as the call goes, so synchronous: SQLite writes at once; PostgreSQL answers from the
 * records it holds open in memory and writes behind (its group commit), ids taken from a block reserved ahead.
 */
export interface CallDetailRecords {
  /** The call has started: its open record. Returns the record's id. */
  open(record: NewCallRecord): number;
  answered(id: number, at: number): void;
  /** The call has ended: closes its record and returns it (undefined when it was closed already); applies retention now and then. */
  close(id: number, end: CallRecordEnd): CallDetailRecord | undefined;
  /** Closes every record still open (what a crash left) as FINISH with `info`; returns them, closed. */
  closeOpen(info: string, at: number): CallDetailRecord[];
  /** Newest first. */
  query(q?: CallRecordQuery): Promise<CallDetailRecord[]>;
}

// ---------------------------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------------------------
// Nodes sharing one store (PostgreSQL; docs/scaling.md)

/** What a survivor took over from a lost node. */
export interface LostNode {
  node: string;
  /** Its pending and dead events, now this node's to deliver. */
  events: number;
  /** Its wills, removed from the store: the survivor emits them (with info `Node lost`). */
  wills: SessionWill[];
  /** Its open call records, now closed as FINISH with the given info, by callhook. */
  callRecords: CallDetailRecord[];
}

export interface NodeRegistry {
  /**
   * This node is alive at `now`, its admin API at `adminUrl` (where other nodes forward a terminate). Resolves false when the registry had no row for it: its first beat, or a survivor
   * took it over (it was silent for a lease while running: its rows are no longer its own).
   */
  heartbeat(now: number, adminUrl?: string): Promise<boolean>;
  /**
   * Takes over one node whose last heartbeat is older than `now - leaseMs`, if any: in one transaction, claimed
   * (FOR UPDATE SKIP LOCKED: one survivor per lost node), its events moved to this node, its open call records
   * closed with `info`, its wills removed and returned, its directory rows and registration removed.
   */
  takeOver(leaseMs: number, info: string, now: number): Promise<LostNode | undefined>;
}

/** A live session or call in the directory, and the node that holds it. */
export interface LiveItem {
  kind: LiveItemKind;
  id: string;
  node: string;
  /** The holding node's view of it: the admin API's SessionInfo or CallInfo. */
  info: Record<string, unknown>;
}

export type LiveItemKind = 'session' | 'call';

/**
 * The cluster's live sessions and calls, each with the node that holds it (PostgreSQL; docs/scaling.md). Each node
 * publishes its own rows; a survivor removes a lost node's rows when it takes it over.
 */
export interface LiveDirectory {
  /** Upserts this node's items in `put` and deletes its items in `gone`, in one transaction. */
  publish(put: readonly LiveItem[], gone: ReadonlyArray<Pick<LiveItem, 'kind' | 'id'>>): Promise<void>;
  /** Deletes every row of this node (at start: what a crash left; at a clean stop). */
  clear(): Promise<void>;
  /** Every node's items of a kind. */
  list(kind: LiveItemKind): Promise<LiveItem[]>;
  /** The node holding an item, and where its admin API answers (undefined when it did not say). */
  owner(kind: LiveItemKind, id: string): Promise<{ node: string; adminUrl: string | undefined } | undefined>;
}

/** The hook engine's storage, plus editing apps (admin API), the file and closing it. */
export interface Store extends HookStore {
  readonly apps: AppRepository;
  readonly callRecords: CallDetailRecords;
  /** Present when nodes share the store (PostgreSQL). */
  readonly nodes?: NodeRegistry;
  /** Present when nodes share the store (PostgreSQL). */
  readonly directory?: LiveDirectory;
  /** Where the data is: the SQLite database file, or the PostgreSQL URL without its password. */
  readonly path: string;
  /** Commits what is queued and closes the connections. */
  close(): Promise<void>;
}
