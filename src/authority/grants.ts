/**
 * What one level of a warrant allows (docs/warrant-format.md §6.1): its grants compiled once,
 * when the chain is verified, so that a call costs only the match.
 */
import { compileGlob, type Glob } from './glob.ts';
import type { ConstraintDoc, GrantDoc, Scalar } from './payload.ts';

/** One call as the host sees it: which tool, what it does, what it touches, with what. */
export interface WarrantCall {
  readonly tool: string;
  readonly op: string;
  readonly resources: readonly string[];
  readonly args: unknown;
}

interface PathStep {
  readonly key: string;
  readonly each: boolean;
}

interface CompiledConstraint {
  readonly path: string;
  readonly steps: readonly PathStep[];
  readonly holds: (value: unknown) => boolean;
}

export interface CompiledGrant {
  readonly index: number;
  readonly doc: GrantDoc;
  readonly tool: Glob;
  /** null: any op. */
  readonly ops: ReadonlySet<string> | null;
  /** null: any resources. */
  readonly resources: readonly Glob[] | null;
  readonly where: readonly CompiledConstraint[];
}

/** Why a grant does not match a call; `tool` misses are not worth naming in a denial. */
export type Miss = { readonly at: 'tool' } | { readonly at: 'op' | 'resources' | 'where'; readonly detail: string };

const isScalar = (v: unknown): v is Scalar => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

function compileConstraint(path: string, c: ConstraintDoc): CompiledConstraint {
  const checks: ((v: unknown) => boolean)[] = [];
  if (c.eq !== undefined) checks.push((v) => isScalar(v) && v === c.eq);
  if (c.ne !== undefined) checks.push((v) => isScalar(v) && v !== c.ne);
  if (c.in !== undefined) {
    const set = new Set<unknown>(c.in);
    checks.push((v) => isScalar(v) && set.has(v));
  }
  const { lte, gte, contains } = c;
  if (lte !== undefined) checks.push((v) => typeof v === 'number' && v <= lte);
  if (gte !== undefined) checks.push((v) => typeof v === 'number' && v >= gte);
  if (c.glob !== undefined) {
    const re = compileGlob(c.glob, null);
    checks.push((v) => typeof v === 'string' && re.test(v));
  }
  if (contains !== undefined) {
    checks.push((v) => (Array.isArray(v) ? v.includes(contains) : typeof v === 'string' && typeof contains === 'string' && v.includes(contains)));
  }
  const steps = path.split('.').map((s) => (s.endsWith('[]') ? { key: s.slice(0, -2), each: true } : { key: s, each: false }));
  return { path, steps, holds: (v) => checks.every((check) => check(v)) };
}

export function compileGrants(docs: readonly GrantDoc[]): CompiledGrant[] {
  return docs.map((doc, index) => ({
    index,
    doc,
    tool: compileGlob(doc.tool, '.'),
    ops: doc.ops.includes('*') ? null : new Set(doc.ops),
    resources: doc.resources === undefined ? null : doc.resources.map((r) => compileGlob(r, '/')),
    where: Object.entries(doc.where ?? {}).map(([path, c]) => compileConstraint(path, c)),
  }));
}

/** Every value at the path holds (an absent step fails; `[]` over an empty array holds). */
function holdsAt(value: unknown, steps: readonly PathStep[], at: number, holds: (v: unknown) => boolean): boolean {
  if (at === steps.length) return holds(value);
  const step = steps[at] as PathStep;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, step.key)) return false;
  const next = (value as Record<string, unknown>)[step.key];
  if (!step.each) return holdsAt(next, steps, at + 1, holds);
  return Array.isArray(next) && next.every((element) => holdsAt(element, steps, at + 1, holds));
}

/** null when the grant matches the call; else where it missed. */
export function missOf(grant: CompiledGrant, call: WarrantCall): Miss | null {
  if (!grant.tool.test(call.tool)) return { at: 'tool' };
  if (grant.ops !== null && !grant.ops.has(call.op)) return { at: 'op', detail: `allows ops ${grant.doc.ops.join(', ')}, not "${call.op}"` };
  if (grant.resources !== null) {
    if (call.resources.length === 0) return { at: 'resources', detail: `allows only resources ${grant.doc.resources?.join(', ') ?? ''}, and the call names none` };
    const globs = grant.resources;
    const outside = call.resources.find((r) => !globs.some((g) => g.test(r)));
    if (outside !== undefined) return { at: 'resources', detail: `does not cover the resource "${outside}" (it allows ${grant.doc.resources?.join(', ') ?? ''})` };
  }
  for (const c of grant.where) {
    if (!holdsAt(call.args, c.steps, 0, c.holds)) return { at: 'where', detail: `requires ${c.path} ${JSON.stringify(grant.doc.where?.[c.path])}` };
  }
  return null;
}
