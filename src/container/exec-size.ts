/**
 * The sizes execve(2) accepts, checked before an exec is recorded or launched: one argument or
 * environment string may be at most MAX_ARG_STRLEN (128 KiB with its NUL), and everything
 * together must fit the new process's stack. Past either, the kernel refuses the exec somewhere
 * down the launcher's chain (E2BIG) and the caller would learn nothing useful; here it learns
 * which limit it crossed.
 */
import { AirlockError } from '../core/errors.ts';

/** The longest one argv element or one `KEY=value` may be, in bytes (MAX_ARG_STRLEN less its NUL). */
export const MAX_ARG_BYTES = 128 * 1024 - 1;
/** argv and environment together, NULs counted: well under ARG_MAX (a quarter of an 8 MiB stack). */
export const MAX_EXEC_BYTES = 1024 * 1024;

/**
 * Throws INVALID_REQUEST naming the limit when `args` or `env` can't reach the command.
 *
 * @example
 *   checkExecSize(['python3', 'main.py'], ['PATH=/usr/bin']);
 */
export function checkExecSize(args: readonly string[], env: readonly string[]): void {
  let total = 0;
  for (const [i, a] of args.entries()) {
    const n = Buffer.byteLength(a);
    if (n > MAX_ARG_BYTES) throw new AirlockError('INVALID_REQUEST', `argv[${i}] is ${n} bytes, over the ${MAX_ARG_BYTES} one argument may be (128 KiB with its NUL): pass large data in a file in the workspace or on stdin`);
    total += n + 1;
  }
  for (const e of env) {
    const n = Buffer.byteLength(e);
    if (n > MAX_ARG_BYTES) throw new AirlockError('INVALID_REQUEST', `the environment variable ${e.slice(0, e.indexOf('='))} is ${n} bytes, over the ${MAX_ARG_BYTES} one may be (128 KiB with its NUL): shorten it in policy.env`);
    total += n + 1;
  }
  if (total > MAX_EXEC_BYTES) throw new AirlockError('INVALID_REQUEST', `argv and environment are ${total} bytes together, over the ${MAX_EXEC_BYTES} an exec may carry (1 MiB): pass large data in a file in the workspace or on stdin`);
}
