/**
 * Reading a file the CLI was pointed at (code, a policy), at most `maxBytes` of it: `/dev/zero`, a
 * sparse file of gigabytes or an endless pipe is refused once it passes the bound, before it is
 * all in memory. Pipes and process substitution (`<(…)`) still work: nothing is asked of the file
 * but that it end within the bound.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { AirlockError, type ErrorCode } from '../core/errors.ts';

const CHUNK = 1 << 20;

/** `source`: a path, or a file descriptor already open (0 for stdin, which is left open). */
export function readBounded(source: string | number, maxBytes: number, tooLarge: { readonly code: ErrorCode; readonly message: string }): Buffer {
  const fd = typeof source === 'number' ? source : openSync(source, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const n = readSync(fd, chunk, 0, CHUNK, null);
      if (n === 0) return Buffer.concat(chunks, total);
      total += n;
      if (total > maxBytes) throw new AirlockError(tooLarge.code, tooLarge.message);
      chunks.push(chunk.subarray(0, n));
    }
  } finally {
    if (typeof source !== 'number') closeSync(fd);
  }
}
