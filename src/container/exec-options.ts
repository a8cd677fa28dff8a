/**
 * The options of a container exec, checked whole before anything runs or is recorded: unknown
 * keys are errors (a stale `runId`, a misspelt `timeout`), as in RunRequest, so a caller never
 * believes an option took effect when it was ignored. The internal run id (RUN_ID, a symbol key)
 * is not a caller's key and is not looked at here.
 */
import { z } from 'zod';
import { AirlockError } from '../core/errors.ts';
import { LIMIT_CEILINGS } from '../policy/schema.ts';
import type { ExecOptions } from './launch.ts';

const callback = z.custom<(chunk: string) => void>((v) => typeof v === 'function', { error: 'expected a function (chunk: string) => void' });

const execOptionsSchema = z.strictObject({
  stdin: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
  timeoutMs: z.number().int().min(1).max(LIMIT_CEILINGS.wallMs).optional(),
  onStdout: callback.optional(),
  onStderr: callback.optional(),
});

/** Throws INVALID_REQUEST naming every problem and its key; returns the options as given. */
export function checkExecOptions(options: unknown): ExecOptions {
  if (options === undefined) return {};
  const parsed = execOptionsSchema.safeParse(options);
  if (parsed.success) return options as ExecOptions;
  const list = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(options)'}: ${i.message}`).join('; ');
  throw new AirlockError(
    'INVALID_REQUEST',
    `the exec options are invalid: ${list}. Allowed: stdin (a string or bytes), timeoutMs (1–${LIMIT_CEILINGS.wallMs}; the policy's wallMs still caps it), onStdout, onStderr; run ids are airlock's to choose`,
    { issues: parsed.error.issues },
  );
}
