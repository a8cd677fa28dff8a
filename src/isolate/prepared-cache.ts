/**
 * Prepared code (prepare.ts: size and UTF-8 checks, type stripping, a full parse, the module
 * rewrite) kept by a hash of what was prepared, so the same code run again (an agent's tool loop, a
 * retried job) skips the parse: about 40 µs of the host's CPU per run for a one-line module, more
 * for longer ones. Only successes are kept: code that failed a check is checked again each time.
 *
 * Keys name the tenant, the language and the size limit as well as the code, so a hit answers
 * exactly what prepareCode would have, and one tenant can't learn by timing what another ran.
 * Bounded: at most MAX_ENTRIES entries, of code up to MAX_CODE_BYTES (UTF-16 units or bytes) each.
 */
import { createHash } from 'node:crypto';
import { prepareCode, type PreparedCode } from './prepare.ts';

const MAX_ENTRIES = 128;
/** Longer code is prepared each time (its parse is a smaller share of its run, and it would crowd the cache). */
const MAX_CODE_BYTES = 64 * 1024;

export class PreparedCodeCache {
  readonly #entries = new Map<string, PreparedCode>();

  /**
   * prepareCode's answer for this code, from the cache when it was prepared before.
   *
   * @example
   *   const cache = new PreparedCodeCache();
   *   cache.prepare('acme', 'export default 1', 'js', 1 << 20).code // '(async function () {…})'
   */
  prepare(tenant: string, code: string | Uint8Array, language: 'js' | 'ts' | 'wasm', maxBytes: number): PreparedCode {
    const size = typeof code === 'string' ? code.length : code.byteLength;
    if (size > MAX_CODE_BYTES) return prepareCode(code, language, maxBytes);
    // A string is hashed as its UTF-16 code units: lossless, so text with an unpaired surrogate
    // (which prepareCode refuses) never shares a key with text that passes.
    const hash = typeof code === 'string' ? createHash('sha256').update(code, 'utf16le') : createHash('sha256').update(code);
    const key = `${typeof code === 'string' ? 's' : 'b'}${hash.digest('base64')}\0${language}\0${maxBytes}\0${tenant}`;
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const prepared = prepareCode(code, language, maxBytes);
    this.#entries.set(key, prepared);
    if (this.#entries.size > MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value as string);
    return prepared;
  }
}
