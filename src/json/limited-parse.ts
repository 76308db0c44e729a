/**
 * JSON.parse with a nesting limit, for every JSON that crosses a port: client frames, hook backends' answers and the
 * admin API. V8 parses deep JSON without trouble, but everything that later walks the value recursively (zod,
 * JSON.stringify of an echo, pino) overflows the stack past some ten thousand levels, and a RangeError thrown there
 * can escape the handler. The depth is counted on the text before parsing: one linear pass, no recursion, so a
 * 100,000-level document costs a scan, not a crash.
 */
import { ExpectedError } from '../errors.ts';

/** Deep enough for every message of the protocols callhook speaks (the deepest real one nests about 6 levels). */
export const DEFAULT_MAX_JSON_DEPTH = 32;

export type JsonErrorCode =
  /** JSON nested deeper than the limit (`maxDepth`); refused before parsing. */
  'JSON_TOO_DEEP';

/** The JSON module's one error; `maxDepth` is the limit passed, which callers name in their own messages. */
export class JsonDepthError extends ExpectedError<JsonErrorCode> {
  constructor(readonly maxDepth: number) {
    super('JSON_TOO_DEEP', `JSON nested deeper than ${maxDepth} levels`);
  }
}

/** Whether more than `limit` brackets open in `text` (those inside strings counted too), by native searches. */
function openingsExceed(text: string, limit: number): boolean {
  let openings = 0;
  for (const bracket of ['{', '[']) {
    for (let i = text.indexOf(bracket); i !== -1; i = text.indexOf(bracket, i + 1)) {
      if (++openings > limit) return true;
    }
  }
  return false;
}

/** The deepest nesting of arrays and objects in `text`, stopping as soon as it passes `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  // Nesting deeper than `limit` needs more than `limit` openings. Most texts (every hook body, every client frame)
  // have a handful, which native searches count in a tenth of the time the scan below takes character by character.
  if (!openingsExceed(text, limit)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/**
 * Parses `text` as JSON. Throws `JsonDepthError` when it nests deeper than `maxDepth`, and JSON.parse's
 * SyntaxError when it is not JSON.
 */
export function parseJsonLimited(text: string, maxDepth = DEFAULT_MAX_JSON_DEPTH): unknown {
  if (jsonDepthExceeds(text, maxDepth)) throw new JsonDepthError(maxDepth);
  return JSON.parse(text) as unknown;
}
