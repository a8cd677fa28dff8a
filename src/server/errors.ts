/**
 * Errors over HTTP: `{ error: { code, message, hint } }` with the status the one table gives the
 * code (src/core/errors.ts), and the table's one-line hint of what to do about it. An error airlock did not code is INTERNAL, and its details stay in the
 * server's log, not in the answer.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AirlockError, codeInfo, type ErrorCode } from '../core/errors.ts';

/** The HTTP status of a code, from the table. */
export function statusOf(code: ErrorCode): ContentfulStatusCode {
  return codeInfo(code).http as ContentfulStatusCode;
}

/** The coded answer for anything thrown; `log` hears about uncoded ones. */
export function errorResponse(c: Context, error: unknown, log: (line: string) => void = () => undefined): Response {
  const coded = error instanceof AirlockError ? error : fromHono(error);
  if (coded === undefined) log(`airlock serve: INTERNAL: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  const body = coded?.toJSON() ?? { code: 'INTERNAL' as const, message: "an unexpected error in the server; the details are in the server's log" };
  return c.json({ error: { ...body, hint: codeInfo(body.code).hint } }, statusOf(body.code));
}

/** Hono's own refusals of a request (malformed JSON, another media type) are the caller's to fix. */
function fromHono(error: unknown): AirlockError | undefined {
  if (!(error instanceof HTTPException) || error.status >= 500) return undefined;
  // Only a body Hono could not read as JSON gets the advice about JSON; anything else says what Hono said.
  const aboutBody = /json|content-type|body/i.test(error.message);
  return new AirlockError('INVALID_REQUEST', `the request was refused (HTTP ${error.status}: ${error.message})${aboutBody ? ': send a JSON body with "content-type: application/json"' : ''}`);
}

/** Throws the coded error (the app's error handler answers it). */
export function fail(code: ErrorCode, message: string): never {
  throw new AirlockError(code, message);
}
