/**
 * Warrants carried in a tools/call's `_meta` (ARCHITECTURE.md: "warrants travel in `_meta`"):
 * the token is handed to the call's RunRequest, so the run's every tool call is checked against
 * it too (policy and warrant), and a warrant that does not verify refuses the call before any
 * upstream sees it.
 *
 * @example
 *   const warrant = warrantFromMeta(request.params._meta);   // string | undefined
 *   await airlock.run({ ..., ...(warrant === undefined ? {} : { warrant }) });
 */
import { AirlockError } from '../core/errors.ts';

/** The `_meta` key a warrant travels under. */
export const WARRANT_META_KEY = 'airlock/warrant';

/** The warrant a call carries in `_meta`, if any; anything but a token's text is refused. */
export function warrantFromMeta(meta: unknown): string | undefined {
  if (typeof meta !== 'object' || meta === null || !Object.hasOwn(meta, WARRANT_META_KEY)) return undefined;
  const warrant = (meta as Record<string, unknown>)[WARRANT_META_KEY];
  if (typeof warrant !== 'string' || warrant === '') throw new AirlockError('INVALID_REQUEST', `_meta["${WARRANT_META_KEY}"] must be a warrant token (text, as airlock warrant issue prints it)`);
  return warrant;
}
