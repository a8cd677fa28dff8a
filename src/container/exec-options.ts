/**
 * The options of a container exec, checked whole before anything runs or is recorded (see
 * core/options.ts): a stale `runId` or a misspelt `timeout` is an error, not ignored. The internal
 * run id (RUN_ID, a symbol key) is not a caller's key and is not looked at here.
 */
import { z } from 'zod';
import { checkOptions, fn } from '../core/options.ts';
import { LIMIT_CEILINGS } from '../policy/schema.ts';
import type { ExecOptions } from './launch.ts';

const execOptionsSchema = z.strictObject({
  stdin: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
  timeoutMs: z.number().int().min(1).max(LIMIT_CEILINGS.wallMs).optional(),
  onStdout: fn('a function (chunk: string) => void').optional(),
  onStderr: fn('a function (chunk: string) => void').optional(),
});

const ALLOWED = `stdin (a string or bytes), timeoutMs (1–${LIMIT_CEILINGS.wallMs}; the policy's wallMs still caps it), onStdout, onStderr; run ids are airlock's to choose`;

/** Throws INVALID_REQUEST naming every problem and its key; returns the options as given. */
export function checkExecOptions(options: ExecOptions | undefined): ExecOptions {
  return checkOptions(execOptionsSchema, options, 'exec options', ALLOWED);
}
