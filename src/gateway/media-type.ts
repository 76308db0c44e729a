/**
 * RFC 3261 §20.15 / RFC 2045 media-type: `type "/" subtype *( ";" parameter )`. Checked wherever a content type
 * comes from outside (a client frame, a hook's answer) before it becomes a Content-Type header line, so no CR/LF or
 * other stray text can reach the SIP message.
 */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(\\s*;\\s*${TOKEN}=("[^"\\r\\n]*"|${TOKEN}))*$`);

export function isMediaType(text: string): boolean {
  return text.length <= 256 && MEDIA_TYPE.test(text);
}
