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

/** The deepest nesting of arrays and objects in `text`, stopping as soon as it passes `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
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
