/**
 * RFC 3261 §20.15 / RFC 2045 media-type: `type "/" subtype *( ";" parameter )`. Checked wherever a content type
 * comes from outside (a client frame, a hook's answer) before it becomes a Content-Type header line, so no control
 * character or other stray text can reach the SIP message.
 */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
/** A quoted parameter value holds no control character but HTAB (RFC 3261 §25.1 qdtext). */
const QUOTED = '"[^"\\u0000-\\u0008\\u000a-\\u001f\\u007f]*"';
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}([ \\t]*;[ \\t]*${TOKEN}=(${QUOTED}|${TOKEN}))*$`);

export function isMediaType(text: string): boolean {
  return text.length <= 256 && MEDIA_TYPE.test(text);
}
