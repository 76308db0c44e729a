/** What `GET /api/overview` answers (./overview.ts). Plain data and no imports, so the console shares the type. */
export interface HookMethodCount {
  method: string;
  total: number;
  failed: number;
  /** The newest failure's words (the hook log's), when any failed. */
  lastError?: string;
}

export interface Overview {
  version: string;
  uptimeSec: number;
  ports: Record<string, number>;
  sessions: number;
  registrations: Record<string, number>;
  calls: Record<string, number>;
  hooks: { windowMinutes: number; methods: HookMethodCount[] };
  outbox: { pending: number; dead: number };
  mediaPorts: { range: string; used: number; free: number }[];
  /** How late the live-updates timer ran, ms (only in the stream). */
  eventLoopLagMs?: number;
  warnings: string[];
}
