/**
 * Long text in a worker's frames travels base64'd: JSON escapes a control character to six bytes,
 * so a run's output or result within its limits could otherwise grow a frame (and the worker's
 * heap building it) six times over. Base64 costs 4/3, whatever the text holds.
 */
export type PackedText = string | { readonly b64: string };

/** Text shorter than this stays plain (cheaper, and readable in a frame dump). */
export const PACK_OVER = 64 * 1024;

export function packText(text: string): PackedText {
  return text.length > PACK_OVER ? { b64: Buffer.from(text, 'utf8').toString('base64') } : text;
}

export function unpackText(packed: PackedText): string {
  return typeof packed === 'string' ? packed : Buffer.from(packed.b64, 'base64').toString('utf8');
}
