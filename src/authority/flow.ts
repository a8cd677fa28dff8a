/**
 * The data-flow rules a warrant carries (docs/warrant-format.md §6.3), for the information-flow
 * layer to ask: may this source reach this principal, is this value endorsed for this argument,
 * is this argument's integrity check waived. Every level that states a kind must allow the item;
 * a level that omits it inherits; a kind the root does not state allows nothing.
 */
import { compileGlob, type Glob } from './glob.ts';
import type { FlowDoc, Scalar } from './payload.ts';

export type FlowItem =
  | { readonly kind: 'declassify'; readonly source: string; readonly principal: string }
  | { readonly kind: 'endorse'; readonly arg: string; readonly value: Scalar }
  | { readonly kind: 'waive'; readonly arg: string };

export interface CompiledFlow {
  readonly declassify: readonly { readonly from: readonly Glob[]; readonly to: readonly Glob[] }[] | null;
  readonly endorse: readonly { readonly arg: Glob; readonly values: ReadonlySet<Scalar> }[] | null;
  readonly waive: readonly Glob[] | null;
}

const globs = (patterns: readonly string[]): Glob[] => patterns.map((p) => compileGlob(p, null));

export function compileFlow(doc: FlowDoc | undefined): CompiledFlow {
  return {
    declassify: doc?.declassify?.map((r) => ({ from: globs(r.from), to: globs(r.to) })) ?? null,
    endorse: doc?.endorse?.map((r) => ({ arg: compileGlob(r.arg, null), values: new Set(r.values) })) ?? null,
    waive: doc?.waive === undefined ? null : globs(doc.waive),
  };
}

/** Whether one level allows the item: null when the level does not state that kind. */
function levelAllows(flow: CompiledFlow, item: FlowItem): boolean | null {
  switch (item.kind) {
    case 'declassify':
      return flow.declassify === null ? null : flow.declassify.some((r) => r.from.some((g) => g.test(item.source)) && r.to.some((g) => g.test(item.principal)));
    case 'endorse':
      return flow.endorse === null ? null : flow.endorse.some((r) => r.arg.test(item.arg) && r.values.has(item.value));
    case 'waive':
      return flow.waive === null ? null : flow.waive.some((g) => g.test(item.arg));
  }
}

/**
 * @example
 *   flowAllows(levels, { kind: 'declassify', source: 'mail:thread/7', principal: 'mail:to/bob@example.com' })
 */
export function flowAllows(levels: readonly CompiledFlow[], item: FlowItem): { readonly allow: true } | { readonly allow: false; readonly level: number | null } {
  // The root has no parent to inherit from: a kind it does not state allows nothing, whatever a
  // level below states (a delegate signs its own links, so stating a kind there would widen).
  const root = levels[0];
  if (root === undefined || levelAllows(root, item) === null) return { allow: false, level: null };
  let stated = false;
  for (const [level, flow] of levels.entries()) {
    const allows = levelAllows(flow, item);
    if (allows === null) continue;
    if (!allows) return { allow: false, level };
    stated = true;
  }
  return stated ? { allow: true } : { allow: false, level: null };
}
