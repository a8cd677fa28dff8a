/**
 * Option objects of the public API, checked whole: unknown keys are errors, as in RunRequest, so
 * a typo never falls back to a default without a word — `sandbox({ tenat: 'acme' })` would
 * otherwise run in the default tenant. The error names every problem and what is allowed.
 *
 * @example
 *   const options = checkOptions(sandboxOptionsSchema, given, 'sandbox options', 'tenant, tier, policy');
 */
import { z } from 'zod';
import { AirlockError } from './errors.ts';

/** Throws INVALID_REQUEST naming each problem by its key; returns `given` itself (symbol keys untouched). */
export function checkOptions<T extends object>(schema: z.ZodType, given: T | undefined, what: string, allowed: string): T {
  if (given === undefined) return {} as T;
  const parsed = schema.safeParse(given);
  if (parsed.success) return given;
  const list = parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : `(${what})`}: ${i.message}`).join('; ');
  throw new AirlockError('INVALID_REQUEST', `the ${what} are invalid: ${list}. Allowed: ${allowed}`, { issues: parsed.error.issues });
}

/** A value that must be a function. */
export function fn(what: string): z.ZodType {
  return z.custom((v) => typeof v === 'function', { error: `expected ${what}` });
}

/** An object whose named members are functions (an AuditSink, a SecretSource). */
export function withMethods(names: readonly string[], what: string): z.ZodType {
  return z.custom((v) => typeof v === 'object' && v !== null && names.every((n) => typeof (v as Record<string, unknown>)[n] === 'function'), {
    error: `expected ${what} (an object with ${names.join(', ')})`,
  });
}
