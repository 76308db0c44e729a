/**
 * A hook body as the hook log keeps it (docs/admin.md "Hook log"): secrets redacted, then cut to at most `maxBytes`
 * of UTF-8, so one chatty backend cannot fill the store (10,000 rows at most, each with two bodies). A cut body ends
 * with a line saying so and how big the whole was.
 */
import { redactJsonText } from '../log.ts';

export function logBody(text: string, maxBytes: number): string {
  const redacted = redactJsonText(text);
  // A UTF-8 character is at most 3 bytes per UTF-16 unit: most bodies are known to fit without being measured.
  if (redacted.length * 3 <= maxBytes) return redacted;
  const bytes = Buffer.from(redacted, 'utf8');
  if (bytes.length <= maxBytes) return redacted;
  // toString replaces a character cut in half by U+FFFD; drop it rather than show a wrong one.
  const kept = bytes.subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
  return `${kept}\n… [truncated: ${bytes.length} bytes in all, the first ${maxBytes} kept (hookLogMaxBodyBytes)]`;
}
