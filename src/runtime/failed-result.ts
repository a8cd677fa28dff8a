import { codeInfo, toAirlockError } from '../core/errors.ts';
import type { RunResult, Tier } from '../core/result.ts';

/** A run in a sandbox the caller made: the tier was the caller's choice. */
export const SANDBOX_TIER = "the sandbox's tier, chosen when it was made";
/** A request refused before any tier was chosen (bad request, bad policy, airlock closed). */
export const NOT_CHOSEN = 'no tier was chosen: the request was refused first';

/** The RunResult of a run that ended before (or instead of) running: bad input, no sandbox. */
export function failedResult(id: string, tier: Tier, error: unknown, startedAt: number, tierReason: string): RunResult {
  const e = toAirlockError(error);
  return {
    id,
    tier,
    status: codeInfo(e.code).status,
    exitCode: null,
    stdout: '',
    stderr: '',
    result: null,
    error: { code: e.code, message: e.message },
    usage: { wallMs: performance.now() - startedAt, cpuMs: 0, memoryBytes: 0 },
    violations: [],
    tierReason,
  };
}
