/**
 * What an MCP tool answers: a result the model reads, or a coded error it can act on. Errors are
 * tool results with `isError: true` (the model sees them; a JSON-RPC error it would not), carrying
 * the code, its JSON-RPC number from the one table (src/core/errors.ts) and the hint, so a client
 * can branch on `structuredContent.error.code` and a model can read what to change.
 *
 * @example
 *   return errorResult(new AirlockError('TOOL_NOT_GRANTED', 'tool "mail.send" is not granted: add it to policy.tools'));
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import { codeInfo, toAirlockError, type ErrorCode } from '../core/errors.ts';

export interface CodedError {
  readonly code: ErrorCode;
  readonly rpc: number;
  readonly message: string;
  readonly hint: string;
}

export function codedError(code: ErrorCode, message: string): CodedError {
  const info = codeInfo(code);
  return { code, rpc: info.rpc, message, hint: info.hint };
}

/** A coded error as a tool result: `CODE (rpc): message. What to do: hint`. */
export function errorResult(error: unknown, extra: Readonly<Record<string, unknown>> = {}): CallToolResult {
  const e = toAirlockError(error);
  const coded = codedError(e.code, e.message);
  return {
    isError: true,
    content: [{ type: 'text', text: `${coded.code} (${coded.rpc}): ${coded.message}. What to do: ${coded.hint}` }],
    structuredContent: { ...extra, error: coded },
  };
}

/** A JSON value as a tool result: the text a model reads and the same data structured. */
export function dataResult(value: Readonly<Record<string, unknown>>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: { ...value } };
}
