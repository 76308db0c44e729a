/**
 * A JSON object as callhook passes it around: a hook body, a backend's answer, a client frame's data. Values stay
 * `unknown` until whoever reads a field checks it. A base type, so the client API and the hook engine share it
 * without depending on each other.
 */
export type JsonObject = Record<string, unknown>;
