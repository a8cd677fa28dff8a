/**
 * JSON with object keys sorted at every level, so equal documents always hash the same: audit
 * events (their chain hashes), policies (policy hashes) and the cache keys of schemas. Bounded:
 * past 64 levels, or holding what JSON can't carry, a value is refused with INVALID_REQUEST
 * naming `what`, never a RangeError from a stack overflow.
 */
import { AirlockError } from './errors.ts';

const MAX_DEPTH = 64;

export function canonicalJson(value: unknown, what = 'an audit event'): string {
  return JSON.stringify(sortKeys(value, 0, what));
}

function sortKeys(value: unknown, depth: number, what: string): unknown {
  if (depth > MAX_DEPTH) throw new AirlockError('INVALID_REQUEST', `${what} is nested more than ${MAX_DEPTH} levels deep: flatten it`);
  if (Array.isArray(value)) return value.map((v) => sortKeys(v, depth + 1, what));
  if (value !== null && typeof value === 'object') {
    // No prototype, so an own "__proto__" key (JSON.parse makes them) stays a key: assigned into a
    // plain object it would set the prototype instead, and vanish from what is hashed and kept.
    const out = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key], depth + 1, what);
    return out;
  }
  if (typeof value === 'bigint' || typeof value === 'function' || typeof value === 'symbol') {
    throw new AirlockError('INVALID_REQUEST', `${what} holds a ${typeof value}: only plain JSON is carried`);
  }
  return value;
}
