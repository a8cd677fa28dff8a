/**
 * Whether a child level obviously asks for more than a parent level grants (docs/warrant-format.md
 * §6.2). Sound, not complete: "covered" is answered only when it surely holds, so an unusual
 * narrowing may be refused; a widening is never passed as covered. Soundness of authorization does
 * not rest here: every level is checked at every call.
 */
import { compileGlob, globCovers } from './glob.ts';
import type { ConstraintDoc, FlowDoc, GrantDoc, Scalar } from './payload.ts';

const subset = <T>(child: readonly T[], parent: readonly T[]): boolean => child.every((c) => parent.includes(c));

/** The values a child constraint pins an argument to, when it pins it to a finite set. */
function pinned(c: ConstraintDoc): readonly Scalar[] | null {
  if (c.eq !== undefined) return [c.eq];
  return c.in ?? null;
}

/** Whether the child's constraint implies the parent's, for each operator the parent uses. */
function constraintNarrower(parent: ConstraintDoc, child: ConstraintDoc): boolean {
  const values = pinned(child);
  const allValues = (test: (v: Scalar) => boolean): boolean => values !== null && values.every(test);
  const { eq, ne, lte, gte, glob, contains } = parent;
  if (eq !== undefined && !(child.eq === eq || allValues((v) => v === eq))) return false;
  if (ne !== undefined && !(child.ne === ne || allValues((v) => v !== ne))) return false;
  if (parent.in !== undefined && !allValues((v) => parent.in?.includes(v) === true)) return false;
  if (lte !== undefined && !((child.lte !== undefined && child.lte <= lte) || allValues((v) => typeof v === 'number' && v <= lte))) return false;
  if (gte !== undefined && !((child.gte !== undefined && child.gte >= gte) || allValues((v) => typeof v === 'number' && v >= gte))) return false;
  if (glob !== undefined) {
    const re = compileGlob(glob, null);
    if (!((child.glob !== undefined && globCovers(glob, child.glob, null)) || allValues((v) => typeof v === 'string' && re.test(v)))) return false;
  }
  if (contains !== undefined && child.contains !== contains) return false;
  return true;
}

/** Whether the parent grant allows everything the child grant does (obviously so). */
export function grantCovers(parent: GrantDoc, child: GrantDoc): boolean {
  if (!globCovers(parent.tool, child.tool, '.')) return false;
  if (!parent.ops.includes('*') && (child.ops.includes('*') || !subset(child.ops, parent.ops))) return false;
  if (parent.resources !== undefined) {
    const parentResources = parent.resources;
    if (child.resources === undefined) return false;
    if (!child.resources.every((c) => parentResources.some((p) => globCovers(p, c, '/')))) return false;
  }
  for (const [path, constraint] of Object.entries(parent.where ?? {})) {
    const narrower = child.where?.[path];
    if (narrower === undefined || !constraintNarrower(constraint, narrower)) return false;
  }
  return true;
}

const globsCovered = (child: readonly string[], parent: readonly string[]): boolean => child.every((c) => parent.some((p) => globCovers(p, c, null)));

/** The flow kinds the child states that the parent states more narrowly, by name. */
export function flowWidenings(parent: FlowDoc | undefined, child: FlowDoc | undefined): string[] {
  const out: string[] = [];
  const p = parent ?? {};
  const c = child ?? {};
  if (p.declassify !== undefined && c.declassify !== undefined) {
    const rules = p.declassify;
    if (!c.declassify.every((cr) => rules.some((pr) => globsCovered(cr.from, pr.from) && globsCovered(cr.to, pr.to)))) out.push('declassify');
  }
  if (p.endorse !== undefined && c.endorse !== undefined) {
    const rules = p.endorse;
    if (!c.endorse.every((cr) => rules.some((pr) => globCovers(pr.arg, cr.arg, null) && subset(cr.values, pr.values)))) out.push('endorse');
  }
  if (p.waive !== undefined && c.waive !== undefined && !globsCovered(c.waive, p.waive)) out.push('waive');
  return out;
}
