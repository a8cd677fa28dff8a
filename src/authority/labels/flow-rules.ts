/**
 * The data-flow fields of a warrant chain (root first), combined: declassification (`from` source
 * globs → `to` principal globs), endorsed values of a tool's argument, and waived integrity checks.
 * The rule is the warrants' attenuation rule: every level that states a field must allow the item;
 * a level that omits the field inherits its parent's. The root has no parent, so a root that omits
 * a field allows nothing of it, and nothing below can add it: a child stating a field its root
 * never stated would otherwise widen the chain. An empty list states "nothing".
 * Input is plain typed data per level (the warrant module verifies and hands it over).
 *
 * @example
 *   const rules = compileFlowRules([
 *     { declassify: [{ from: ['mail:thread/*'], to: ['*@corp.example'] }] },   // root
 *     {},                                                                       // inherits
 *   ]);
 *   rules.releases('mail:thread/t1', 'ann@corp.example')   // true
 */
import { z } from 'zod';
import { AirlockError } from '../../core/errors.ts';
import { compileGlob, type Glob } from '../glob.ts';

/** Flow globs have no separator: `*` matches anything (the warrants' linear-time globs). */
const compileFlowGlob = (pattern: string): Glob => compileGlob(pattern, null);

const glob = z.string().min(1).max(512);
const scalar = z.union([z.string().max(1024), z.number(), z.boolean()]);
export const flowLevelSchema = z.strictObject({
  declassify: z.array(z.strictObject({ from: z.array(glob).min(1).max(32), to: z.array(glob).min(1).max(32) })).max(64).optional(),
  endorse: z.array(z.strictObject({ tool: glob, argument: glob, values: z.array(scalar).min(1).max(256) })).max(64).optional(),
  waive: z.array(z.strictObject({ tool: glob, argument: glob })).max(64).optional(),
});
export type FlowLevel = z.input<typeof flowLevelSchema>;
export type Scalar = string | number | boolean;

interface CompiledLevel {
  readonly declassify: readonly { readonly from: readonly Glob[]; readonly to: readonly Glob[] }[] | undefined;
  readonly endorse: readonly { readonly tool: Glob; readonly argument: Glob; readonly values: ReadonlySet<Scalar> }[] | undefined;
  readonly waive: readonly { readonly tool: Glob; readonly argument: Glob }[] | undefined;
}

export interface FlowRules {
  /** May data of `source` reach `principal`? */
  releases(source: string, principal: string): boolean;
  /** Is `value` endorsed for `tool`'s `argument`? (exact scalar match: a value is not a pattern) */
  endorses(tool: string, argument: string, value: Scalar): boolean;
  /** Is the integrity check of `tool`'s `argument` waived? */
  waives(tool: string, argument: string): boolean;
}

const any = (globs: readonly Glob[], text: string): boolean => globs.some((g) => g.test(text));

/** The root states the field, and every level that states it allows the item. */
function chainAllows<T>(levels: readonly CompiledLevel[], field: (l: CompiledLevel) => readonly T[] | undefined, pred: (item: T) => boolean): boolean {
  const root = levels[0];
  if (root === undefined || field(root) === undefined) return false;
  for (const level of levels) {
    const items = field(level);
    if (items !== undefined && !items.some(pred)) return false;
  }
  return true;
}

export function compileFlowRules(levels: readonly unknown[]): FlowRules {
  const compiled = levels.map((raw, i): CompiledLevel => {
    const parsed = flowLevelSchema.safeParse(raw);
    if (!parsed.success) {
      const list = parsed.error.issues.map((x) => `level ${i}.${x.path.map(String).join('.')}: ${x.message}`).join('; ');
      throw new AirlockError('INVALID_REQUEST', `the warrant's data-flow rules are invalid: ${list}`, { issues: parsed.error.issues });
    }
    const l = parsed.data;
    return {
      declassify: l.declassify?.map((r) => ({ from: r.from.map(compileFlowGlob), to: r.to.map(compileFlowGlob) })),
      endorse: l.endorse?.map((r) => ({ tool: compileFlowGlob(r.tool), argument: compileFlowGlob(r.argument), values: new Set(r.values) })),
      waive: l.waive?.map((r) => ({ tool: compileFlowGlob(r.tool), argument: compileFlowGlob(r.argument) })),
    };
  });
  return {
    releases: (source, principal) => chainAllows(compiled, (l) => l.declassify, (r) => any(r.from, source) && any(r.to, principal)),
    endorses: (tool, argument, value) => chainAllows(compiled, (l) => l.endorse, (r) => r.tool.test(tool) && r.argument.test(argument) && r.values.has(value)),
    waives: (tool, argument) => chainAllows(compiled, (l) => l.waive, (r) => r.tool.test(tool) && r.argument.test(argument)),
  };
}

/** No warrant: nothing is declassified, endorsed or waived. */
export const NO_FLOW_RULES: FlowRules = Object.freeze({ releases: () => false, endorses: () => false, waives: () => false });
