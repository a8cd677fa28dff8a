/**
 * decide(): allow or deny one knock on one door, with a reason code. Pure: the caller passes in
 * what it counted (calls so far); decide() keeps no state and reads no clock.
 */
import type { ErrorCode } from '../core/errors.ts';
import type { CompiledPolicy } from './compile.ts';
import { schemaMismatch } from './json-schema.ts';

export type Ask = { readonly door: 'tool'; readonly name: string; readonly args: unknown; readonly callsSoFar: number };

export type Decision =
  | { readonly allow: true; readonly reason: 'TOOL_GRANTED' }
  | { readonly allow: false; readonly code: ErrorCode; readonly reason: string };

export function decide(policy: CompiledPolicy, ask: Ask): Decision {
  const tool = policy.tools.get(ask.name);
  if (tool === undefined) {
    return { allow: false, code: 'TOOL_NOT_GRANTED', reason: `tool "${ask.name}" is not granted: add it to policy.tools` };
  }
  if (ask.callsSoFar >= policy.limits.toolCalls) {
    return {
      allow: false,
      code: 'LIMIT_TOOL_CALLS',
      reason: `tool call limit of ${policy.limits.toolCalls} reached: raise policy.limits.toolCalls`,
    };
  }
  const why = schemaMismatch(tool.validate, ask.args, '(args)');
  if (why !== null) return { allow: false, code: 'TOOL_ARGS_INVALID', reason: `arguments to "${ask.name}" don't match its schema: ${why}` };
  return { allow: true, reason: 'TOOL_GRANTED' };
}
