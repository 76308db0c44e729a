/**
 * A string of its own. V8 keeps a substring (`slice`, a parser's header value, a regular expression's match) as a
 * view into its whole parent text, so a short value kept for long — a digest nonce, a timeline step's label — keeps
 * the whole SIP message it was read from alive; and it keeps a concatenation (`+`, a template) as a tree of its
 * parts, 32 bytes a node. A copy holds only its own characters, in one piece. A base module: the SIP stack and the
 * gateway (its timeline, a session's id) keep such values for as long as a session lives.
 */
export function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
