/**
 * The live state the admin API serves (`GET /api/sessions`, `GET /api/calls`): the gateway's views
 * (../gateway/info.ts), re-exported for the admin's routes and CLI, and what they read before a gateway is attached.
 */
import type { SessionsProvider } from '../gateway/info.ts';

export type { CallInfo, SessionInfo, SessionsProvider } from '../gateway/info.ts';

/** Used until a gateway is attached: no connections, no calls. */
export const NO_SESSIONS: SessionsProvider = {
  sessions: () => [],
  calls: () => [],
};
