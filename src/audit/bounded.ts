/**
 * Guest-chosen text (a path, a host, a header, a tool name) goes into audit events bounded: a
 * guest that sends 15 KB paths must not make every event of its flood 15 KB, copied into subject,
 * detail and message. What is kept is the start, marked as cut, with the SHA-256 of the whole, so
 * two long values can still be told apart and matched against what the guest sent.
 */
import { createHash } from 'node:crypto';

/** Characters of one guest-chosen string kept in an audit event. */
export const AUDIT_TEXT_CHARS = 256;

/**
 * `text` if it is at most `max` characters; else its first `max`, a mark, its length and hash.
 *
 * @example
 *   boundedText('/a'.repeat(5000)) // '/a/a…[truncated: 10000 chars, sha256 3f…]'
 */
export function boundedText(text: string, max: number = AUDIT_TEXT_CHARS): string {
  if (text.length <= max) return text;
  const hash = createHash('sha256').update(text).digest('hex');
  return `${text.slice(0, max)}…[truncated: ${text.length} chars, sha256 ${hash}]`;
}
