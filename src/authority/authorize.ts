/**
 * authorize(): one call against a verified chain. Allowed only when some grant of every level
 * matches (docs/warrant-format.md §6.1), so a child can never reach past what its ancestors
 * grant. Pure and allocation-light: this runs at every tool call, fetch and route.
 */
import { flowAllows, type FlowItem } from './flow.ts';
import { missOf, type CompiledGrant, type Miss, type WarrantCall } from './grants.ts';
import type { VerifiedWarrant } from './verify.ts';

export type Authorization =
  | { readonly allow: true }
  | {
      readonly allow: false;
      readonly code: 'WARRANT_DENIED';
      /** The first level (root = 0) that allows nothing of this call. */
      readonly level: number;
      readonly warrantId: string;
      /** The grant of that level that came closest (its tool matched), when one did. */
      readonly grant?: number;
      readonly message: string;
    };

const ALLOW: Authorization = Object.freeze({ allow: true });

function describe(call: WarrantCall): string {
  return `"${call.op}" on ${call.tool}${call.resources.length === 0 ? '' : ` (${call.resources.slice(0, 4).join(', ')}${call.resources.length > 4 ? ', …' : ''})`}`;
}

/**
 * @example
 *   const a = authorize(verified, { tool: 'mail.delete', op: 'delete', resources: ['mail:thread/7'], args: { threadId: '7' } });
 *   if (!a.allow) throw new AirlockError(a.code, a.message);
 */
export function authorize(warrant: VerifiedWarrant, call: WarrantCall): Authorization {
  for (const level of warrant.levels) {
    if (level.grants === null) continue;
    let closest: { readonly grant: CompiledGrant; readonly miss: Exclude<Miss, { at: 'tool' }> } | undefined;
    let matched = false;
    for (const grant of level.grants) {
      const miss = missOf(grant, call);
      if (miss === null) {
        matched = true;
        break;
      }
      if (closest === undefined && miss.at !== 'tool') closest = { grant, miss };
    }
    if (matched) continue;
    const where = `warrant level ${level.depth} (${level.id})`;
    return closest === undefined
      ? { allow: false, code: 'WARRANT_DENIED', level: level.depth, warrantId: level.id, message: `${where} grants nothing on tool ${call.tool}: ${describe(call)} is not granted` }
      : {
          allow: false,
          code: 'WARRANT_DENIED',
          level: level.depth,
          warrantId: level.id,
          grant: closest.grant.index,
          message: `${where} does not grant ${describe(call)}: its grant ${closest.grant.index} (${closest.grant.doc.tool}) ${closest.miss.detail}`,
        };
  }
  return ALLOW;
}

/**
 * The data-flow question of the information-flow layer, answered by the chain's `flow` rules.
 *
 * @example
 *   authorizeFlow(verified, { kind: 'waive', arg: 'calendar.create.title' })
 */
export function authorizeFlow(warrant: VerifiedWarrant, item: FlowItem): Authorization {
  const answer = flowAllows(warrant.flows, item);
  if (answer.allow) return ALLOW;
  const level = answer.level ?? 0;
  const id = warrant.ids[level] ?? warrant.id;
  return {
    allow: false,
    code: 'WARRANT_DENIED',
    level,
    warrantId: id,
    message:
      answer.level === null
        ? `the warrant's root states no ${item.kind} rules, so no level may: ${JSON.stringify(item)} is not allowed`
        : `warrant level ${level} (${id}) has ${item.kind} rules that do not allow ${JSON.stringify(item)}`,
  };
}
