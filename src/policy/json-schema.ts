/**
 * How airlock checks data a sandbox chose (tool arguments, results) against a JSON Schema a policy
 * or request gave. The data is hostile, so checking it must stay cheap and can't take the host down:
 * - `pattern` regexes run on V8's linear-time engine (the `l` flag): no backtracking, so no ReDoS.
 *   Patterns that engine can't run (backreferences, lookaround) are refused when the schema is
 *   compiled. Patterns are matched without the `u` flag, which that engine does not take.
 * - The check stops at the first problem, and what it says is capped: a schema with
 *   additionalProperties: false can't turn 300,000 keys into a 13 MB reason.
 * - A check that throws (a recursive schema against data nested thousands deep overflows the
 *   stack) is a failed check, never an exception on the host.
 */
import { setFlagsFromString } from 'node:v8';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/** The longest reason a failed check gives. */
const REASON_CHARS = 500;

/**
 * The largest schema compiled, as canonical JSON. ajv compiles on the host's thread, at about
 * 0.2 ms per property: 20,000 properties held every tenant for 3.8 s. Real argument and result
 * schemas are a few kilobytes.
 */
export const MAX_SCHEMA_CHARS = 64 * 1024;

function linearRegExp(pattern: string, flags: string): RegExp {
  // The engine is behind a V8 flag that only makes the `l` flag available; setting it again is a no-op.
  setFlagsFromString('--enable-experimental-regexp-engine');
  try {
    return new RegExp(pattern, `${flags.replace('u', '')}l`);
  } catch (error) {
    throw new Error(`pattern ${JSON.stringify(pattern.slice(0, 100))} can't be matched in linear time (${(error as Error).message}): drop backreferences and lookaround`, { cause: error });
  }
}
linearRegExp.code = 'linearRegExp';

/** A schema compiler for sandbox-chosen data (see above). Throws on a schema it can't use. */
export function compileSchema(schema: object): ValidateFunction {
  return new Ajv({ strict: true, allErrors: false, unicodeRegExp: false, code: { regExp: linearRegExp } }).compile(schema);
}

function describe(errors: readonly ErrorObject[] | null | undefined, root: string): string {
  const text = (errors ?? []).map((e) => `${e.instancePath || root} ${e.message ?? 'is invalid'}`).join('; ');
  return text.length > REASON_CHARS ? `${text.slice(0, REASON_CHARS)}…` : text;
}

/** Why `value` does not match, or null when it does. `root` names the value in the reason. */
export function schemaMismatch(validate: ValidateFunction, value: unknown, root: string): string | null {
  try {
    return validate(value) ? null : describe(validate.errors, root);
  } catch (error) {
    return `${root} could not be checked against its schema (${error instanceof RangeError ? 'nested too deeply' : 'the check failed'})`;
  }
}
