import { toAirlockError } from '../core/errors.ts';
import { codeInfo } from '../core/errors.ts';
import type { RunResult, Tier } from '../core/result.ts';

/** The RunResult of a run that ended before (or instead of) running: bad input, no sandbox. */
export function failedResult(id: string, tier: Tier, error: unknown, startedAt: number): RunResult {
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
  };
}
