/**
 * compile(): the one door from user JSON to something enforcement code may use. It collects every
 * problem with its path (STYLE.md §9) and returns a CompiledPolicy that only this module can build
 * (STYLE.md §6), so "forgot to check the policy" is a type error. Pure: no I/O, no clock.
 */
import { createHash } from 'node:crypto';
import type { ValidateFunction } from 'ajv';
import { canonicalJson } from '../core/canonical-json.ts';
import { AirlockError } from '../core/errors.ts';
import { compileRoutes, type CompiledRoute } from './network.ts';
import { LIMIT_DEFAULTS, policySchema, type Limits, type ToolOperation } from './schema.ts';
import { compileSchema, MAX_SCHEMA_CHARS } from './json-schema.ts';

export interface PolicyProblem {
  readonly path: string;
  readonly message: string;
}

export interface CompiledTool {
  readonly name: string;
  readonly operation: ToolOperation;
  readonly validate: ValidateFunction;
}

const brand: unique symbol = Symbol('CompiledPolicy');

export interface CompiledPolicy {
  readonly [brand]: true;
  readonly hash: string;
  readonly limits: Limits;
  readonly tools: ReadonlyMap<string, CompiledTool>;
  /** Egress routes, in policy order; empty grants no network (src/policy/network.ts). */
  readonly routes: readonly CompiledRoute[];
  /** The normalised document, for audit and for `--learn` diffs. */
  readonly document: unknown;
}

function pathOf(parts: readonly PropertyKey[]): string {
  return parts.length === 0 ? '(root)' : parts.map(String).join('.');
}

/**
 * The canonical JSON of a document a caller sent (a policy, a result schema): one that can't be
 * read (nested past 64 levels, say) is that caller's error, with `code`.
 */
export function documentKey(value: unknown, code: 'INVALID_POLICY' | 'INVALID_REQUEST', what: string): string {
  try {
    return canonicalJson(value, what);
  } catch (error) {
    if (error instanceof AirlockError) throw new AirlockError(code, error.message);
    throw error;
  }
}

/**
 * @example
 *   const policy = compilePolicy({ version: 1, tools: { add: { operation: 'compute', args: { type: 'object' } } } });
 */
/**
 * Where the document has an own `__proto__` key (JSON.parse makes one from `"__proto__": …`).
 * Copying such a key into an object sets the prototype instead, so it would vanish silently:
 * a tool grant named so would be dropped, not refused.
 */
function protoKeys(value: unknown, at: string, out: string[], depth = 0): string[] {
  if (value === null || typeof value !== 'object' || depth > 64) return out;
  for (const key of Object.keys(value)) {
    const path = at === '' ? key : `${at}.${key}`;
    if (key === '__proto__') out.push(path);
    else protoKeys((value as Record<string, unknown>)[key], path, out, depth + 1);
  }
  return out;
}

export function compilePolicy(input: unknown): CompiledPolicy {
  const proto = protoKeys(input, '', []);
  if (proto.length > 0) throw policyError(proto.map((path) => ({ path, message: '"__proto__" is not a usable key (it names an object\'s prototype): choose another name' })));
  const parsed = policySchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => ({ path: pathOf(issue.path), message: issue.message }));
    throw policyError(problems);
  }
  const doc = parsed.data;
  const problems: PolicyProblem[] = [];
  const tools = new Map<string, CompiledTool>();
  for (const [name, grant] of Object.entries(doc.tools ?? {})) {
    try {
      if (documentKey(grant.args, 'INVALID_POLICY', `tools.${name}.args`).length > MAX_SCHEMA_CHARS) {
        problems.push({ path: `tools.${name}.args`, message: `the schema is over ${MAX_SCHEMA_CHARS >> 10} KiB: describe the arguments more briefly` });
        continue;
      }
      tools.set(name, { name, operation: grant.operation, validate: compileSchema(grant.args) });
    } catch (error) {
      problems.push({ path: `tools.${name}.args`, message: `not a valid JSON Schema: ${(error as Error).message}` });
    }
  }
  const given = Object.entries(doc.limits ?? {}).filter(([, v]) => v !== undefined);
  const limits: Limits = { ...LIMIT_DEFAULTS, ...(Object.fromEntries(given) as Partial<Limits>) };
  if (limits.cpuMs > limits.wallMs) {
    problems.push({ path: 'limits.cpuMs', message: `cpuMs (${limits.cpuMs}) can't exceed wallMs (${limits.wallMs})` });
  }
  const routes = compileRoutes(doc.network, doc.secrets, problems);
  if (problems.length > 0) throw policyError(problems);
  const document = { ...doc, limits };
  return Object.freeze({
    [brand]: true as const,
    hash: createHash('sha256').update(documentKey(document, 'INVALID_POLICY', 'the policy')).digest('hex'),
    limits: Object.freeze(limits),
    tools,
    routes,
    document,
  });
}

function policyError(problems: readonly PolicyProblem[]): AirlockError {
  const list = problems.map((p) => `${p.path}: ${p.message}`).join('; ');
  return new AirlockError('INVALID_POLICY', `the policy has ${problems.length} problem(s): ${list}`, { problems });
}
