/**
 * What a hook's answer means (docs/hooks.md "The response"): `200` with a JSON object is accepted; anything else — another
 * status, a network error, a timeout, a body that is not a JSON object or nests deeper than DEFAULT_MAX_JSON_DEPTH
 * (32 levels, ../json/limited-parse.ts) — is an interaction error. For an interaction error, `info` is what the
 * client is shown:
 *   the `reason` when the body is exactly `{"status": <code>, "reason": "<text>"}` (as WCS does: any extra
 *   or missing field falls back), else the HTTP reason phrase, else the error text.
 * `error` is the fuller text for the hook log and the server log.
 */
import { STATUS_CODES } from 'node:http';
import type { HookHttpResult } from './http.ts';
import type { JsonObject } from './types.ts';
import { JsonDepthError, parseJsonLimited } from '../json/limited-parse.ts';

export type Interaction = InteractionOk | InteractionError;

export interface InteractionOk {
  ok: true;
  status: 200;
  json: JsonObject;
}

export interface InteractionError {
  ok: false;
  info: string;
  error: string;
  httpStatus?: number;
  /** The request was never sent (refused, reset before any response): it may be sent again. */
  unsent: boolean;
  /** Classification for metrics; `aborted`: cut short because callhook is stopping (not the backend's doing). */
  outcome: 'http_error' | 'network_error' | 'timeout' | 'bad_response' | 'aborted';
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string; tooDeep: boolean } {
  try {
    // A backend answering with thousands of nested levels (possible within the 1 MiB read limit) would make every
    // later walk of those fields (JSON.stringify into the outbox, the logger) overflow the stack.
    return { ok: true, value: parseJsonLimited(text) };
  } catch (e) {
    return { ok: false, message: (e as Error).message, tooDeep: e instanceof JsonDepthError };
  }
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The WCS custom-reason body: exactly the two keys, a numeric status and a string reason. */
function customReason(bodyText: string): string | undefined {
  const parsed = parseJson(bodyText);
  if (!parsed.ok || !isObject(parsed.value)) return undefined;
  const v = parsed.value;
  const keys = Object.keys(v);
  if (keys.length !== 2 || typeof v['status'] !== 'number' || typeof v['reason'] !== 'string') return undefined;
  return v['reason'];
}

function excerpt(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine;
}

function badResponse(problem: string): InteractionError {
  return { ok: false, info: problem, error: problem, httpStatus: 200, unsent: false, outcome: 'bad_response' };
}

export function interpret(result: HookHttpResult): Interaction {
  if (result.kind === 'error') {
    return {
      ok: false,
      info: result.error,
      error: result.error,
      unsent: result.unsent,
      outcome: result.code === 'TIMEOUT' ? 'timeout' : result.code === 'ABORTED' ? 'aborted' : 'network_error',
    };
  }
  const { status } = result;
  if (status === 200) {
    if (result.bodyText.trim() === '') return badResponse('REST response is empty; expected a JSON object');
    const parsed = parseJson(result.bodyText);
    if (!parsed.ok && parsed.tooDeep) return badResponse(`REST response is refused: ${parsed.message}`);
    if (!parsed.ok) return badResponse(`REST response is not JSON (${parsed.message}): ${JSON.stringify(excerpt(result.bodyText))}`);
    if (!isObject(parsed.value)) return badResponse('REST response is JSON but not an object');
    return { ok: true, status: 200, json: parsed.value };
  }
  const phrase = result.statusText !== '' ? result.statusText : (STATUS_CODES[status] ?? `HTTP ${status}`);
  const reason = customReason(result.bodyText);
  let error = `HTTP ${status} ${phrase}`;
  if (status >= 300 && status < 400) {
    const location = result.headers['location'];
    error += location === undefined ? ': redirect not followed' : `: redirect to ${location} not followed (hooks never follow redirects)`;
  }
  if (reason !== undefined) error += `: ${reason}`;
  return { ok: false, info: reason ?? phrase, error, httpStatus: status, unsent: false, outcome: 'http_error' };
}
