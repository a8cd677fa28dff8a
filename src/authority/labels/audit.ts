/**
 * What the audit log records of a label decision: plain JSON, atoms in canonical order, so the
 * same decision always hashes the same. A denial keeps the atoms involved, the blocked
 * (source, readers, principals) and the unendorsed values; every decision keeps the content label,
 * so `airlock audit show RUN` can show how the label rose call by call.
 *
 * @example
 *   audit.append({ kind: 'decision', door: 'sink', subject: tool, ...labelAuditDetail(decision) });
 */
import type { LabelDecision } from './check.ts';
import type { AtomJson } from './label.ts';

export interface LabelAuditDetail {
  readonly allow: boolean;
  readonly code: LabelDecision['code'];
  readonly content: readonly AtomJson[];
  readonly atoms?: readonly AtomJson[];
  readonly blocked?: readonly { readonly source: string; readonly readers: '*' | readonly string[]; readonly principals: readonly string[] }[];
  readonly unendorsed?: readonly { readonly argument: string; readonly value: unknown }[];
}

export function labelAuditDetail(decision: LabelDecision): LabelAuditDetail {
  if (decision.allow) return { allow: true, code: decision.code, content: decision.content.toJSON() };
  return {
    allow: false,
    code: decision.code,
    content: decision.content.toJSON(),
    atoms: decision.atoms,
    blocked: decision.blocked,
    unendorsed: decision.unendorsed,
  };
}
