/**
 * The hook for warrants carried in a tools/call's `_meta` (ARCHITECTURE.md: "warrants travel in
 * `_meta`"). The runtime does not take a warrant with a run yet: until it does, a call that carries
 * one is refused (fail closed: a caller who sent a warrant meant to be narrowed by it, and running
 * the call without it would grant more than it asked). Wiring it means handing `warrantFromMeta`'s
 * answer to the RunRequest in gateway.ts and code-mode.ts, and dropping the refusal.
 *
 * @example
 *   refuseWarrantUntilWired(warrantFromMeta(request.params._meta));
 */
import { AirlockError } from '../core/errors.ts';

/** The `_meta` key a warrant travels under. */
export const WARRANT_META_KEY = 'airlock/warrant';

/** The warrant a call carries in `_meta`, as sent (its text), if any. */
export function warrantFromMeta(meta: unknown): unknown {
  if (typeof meta !== 'object' || meta === null || !Object.hasOwn(meta, WARRANT_META_KEY)) return undefined;
  return (meta as Record<string, unknown>)[WARRANT_META_KEY];
}

export function refuseWarrantUntilWired(warrant: unknown): void {
  if (warrant === undefined) return;
  throw new AirlockError('INVALID_REQUEST', `this gateway can't apply a warrant sent in _meta["${WARRANT_META_KEY}"] yet, so the call was refused rather than run without it: send the call without a warrant, or use airlock run --warrant`);
}
