/** Turns how a worker's run ended into the code, status and result of a RunResult. */
import { codeInfo, isErrorCode, type ErrorCode } from '../core/errors.ts';
import type { RunStatus, Violation } from '../core/result.ts';
import type { RunEnd } from './worker-process.ts';

export interface Verdict {
  readonly status: RunStatus;
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
  /** JSON text of the result, when there is one. */
  readonly json: string | null;
}

const STOPS = {
  wall: ['WALL_TIMEOUT', 'the run passed its wall-clock limit'],
  cpu: ['CPU_TIMEOUT', 'the run passed its CPU-time limit'],
  memory: ['MEMORY_LIMIT', 'the run passed its memory limit (its heap, or memory outside the heap such as resizable buffers and WebAssembly memories)'],
  output: ['OUTPUT_LIMIT', 'the run printed more than its output limit'],
  calls: ['LIMIT_TOOL_CALLS', 'the run went on calling the host after its tool-call limit was reached, and was stopped'],
  denials: ['LIMIT_DENIALS', 'the run was denied more often than limits.denials allows, and was stopped'],
} as const satisfies Record<string, readonly [ErrorCode, string]>;

function fail(code: ErrorCode, message: string): Verdict {
  return { status: codeInfo(code).status, error: { code, message: `${message}: ${codeInfo(code).hint}` }, json: null };
}

export function verdictOf(end: RunEnd, violations: readonly Violation[]): Verdict {
  switch (end.kind) {
    case 'closed':
      return fail('STOPPED_BY_HOST', 'airlock was closed while this ran, and the run was stopped');
    case 'limit':
      return fail(end.code, end.detail);
    case 'hung':
      return fail('WALL_TIMEOUT', 'the worker did not answer by the wall-clock limit and was killed');
    case 'crashed':
      if (end.cause === 'memory') return fail('MEMORY_LIMIT', "the worker passed its memory cap and was killed (the isolate's heap limit was overshot)");
      if (end.cause === 'output') return fail('OUTPUT_LIMIT', 'the run printed more than its output limit and went on inside one slice of code; its worker was stopped (the output it printed is lost)');
      if (end.cause === 'other') return fail('WORKER_CRASHED', end.detail.slice(0, 500));
      return fail('CPU_TIMEOUT', 'the run passed its CPU-time limit inside one slice of code, and its worker was stopped');
    case 'done':
      break;
  }
  const outcome = end.done.outcome;
  switch (outcome.kind) {
    case 'ok':
      return { status: 'ok', error: null, json: outcome.json };
    case 'stopped': {
      const [code, message] = STOPS[outcome.reason];
      return fail(code, message);
    }
    case 'threw': {
      // A guest can put any code on its error; only a denial that really happened in this run counts.
      const denied = violations.find((v) => v.code === outcome.code);
      if (denied !== undefined) return { status: codeInfo(denied.code).status, error: { code: denied.code, message: denied.detail }, json: null };
      return { status: 'error', error: { code: 'GUEST_ERROR', message: outcome.message }, json: null };
    }
    case 'invalid':
      return fail(isErrorCode(outcome.code) ? outcome.code : 'INTERNAL', outcome.message);
    case 'result-too-large':
      return fail('RESULT_TOO_LARGE', `the result is ${outcome.bytes} bytes of JSON`);
    case 'result-not-plain':
      return fail('RESULT_NOT_PLAIN', outcome.message);
  }
}
