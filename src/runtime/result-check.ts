/** request.resultSchema: a JSON Schema the run's result must match, checked on the host. */
import type { ValidateFunction } from 'ajv';
import { AirlockError } from '../core/errors.ts';
import { documentKey } from '../policy/compile.ts';
import { compileSchema, MAX_SCHEMA_CHARS, schemaMismatch } from '../policy/json-schema.ts';
import type { BoundedCache } from './bounded-cache.ts';

export type ResultCheck = (value: unknown) => string | null;

const ACCEPT_ALL: ResultCheck = () => null;

/** `tenant` scopes the cache: a compiled schema is never shared across tenants. */
export function resultCheck(schema: Readonly<Record<string, unknown>> | undefined, cache: BoundedCache<ValidateFunction>, tenant: string): ResultCheck {
  if (schema === undefined) return ACCEPT_ALL;
  const key = documentKey(schema, 'INVALID_REQUEST', 'request.resultSchema');
  if (key.length > MAX_SCHEMA_CHARS) throw new AirlockError('INVALID_REQUEST', `request.resultSchema is over ${MAX_SCHEMA_CHARS >> 10} KiB: describe the result more briefly`);
  const validate = cache.get(`${tenant}\n${key}`, () => {
    try {
      return compileSchema(schema);
    } catch (error) {
      throw new AirlockError('INVALID_REQUEST', `request.resultSchema is not a valid JSON Schema: ${(error as Error).message}`);
    }
  });
  return (value) => schemaMismatch(validate, value, '(result)');
}
