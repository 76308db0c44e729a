/**
 * What the admin API serves as live state (`GET /api/sessions`, `GET /api/calls`, metrics) before a gateway is
 * attached; the views themselves are the gateway's (../gateway/info.ts).
 */
import type { SessionsProvider } from '../gateway/info.ts';

/** Used until a gateway is attached: no connections, no calls. */
export const NO_SESSIONS: SessionsProvider = {
  sessions: () => [],
  calls: () => [],
};
