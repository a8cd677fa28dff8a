/**
 * decide(): the one place a knock on a door is allowed or denied. Every door is one member of a
 * closed union (`Ask`), switched exhaustively: a door added to the union and not decided here is a
 * type error. The answer carries a typed code — an allow code, or a member of the error table — and,
 * on a denial, a message for the caller that says what to change; the code, never the message, is
 * what callers and the audit branch on.
 *
 * Pure: the caller passes in what it counted (calls so far, quota use, its clock's verdict);
 * decide() keeps no state, reads no clock and does no I/O. Warrants and labels are further inputs
 * to this one function.
 */
import type { ErrorCode } from '../core/errors.ts';
import type { AuthorityVerdict } from './authority.ts';
import type { CompiledPolicy } from './compile.ts';
import { schemaMismatch } from './json-schema.ts';
import { decideEgress, type CompiledRoute, type EgressAsk } from './network.ts';

/** A counted budget a run or a tenant spends: checked before the thing that would spend it. */
export type Budget = 'sandboxes' | 'runsPerMinute' | 'memoryMiB';

export type Ask =
  /**
   * A guest calls a host tool by name. `authority`: the run's warrant and labels on this call
   * (policy/authority.ts), asked only once the policy allows it; absent, the policy alone decides.
   */
  | { readonly door: 'tool'; readonly name: string; readonly args: unknown; readonly callsSoFar: number; readonly authority?: () => AuthorityVerdict }
  /** A guest's request (or CONNECT) leaves through the egress gateway; `authority` as for tools. */
  | { readonly door: 'egress'; readonly request: EgressAsk; readonly authority?: () => AuthorityVerdict }
  /** The host reads or writes a path of a sandbox's workspace for a caller. */
  | { readonly door: 'file'; readonly path: string; readonly root: string }
  /** A tenant asks for one more of a quota'd thing: `used` so far, `asking` more, `max` allowed. */
  | { readonly door: 'quota'; readonly budget: Budget; readonly tenant: string; readonly used: number; readonly asking: number; readonly max: number }
  /** A run was denied again: may it go on, having been denied `spentBefore` times (limits.denials)? */
  | { readonly door: 'denials'; readonly spentBefore: number }
  /** Work arrives at a sandbox whose clock said this (lifecycle.ts). */
  | { readonly door: 'lifetime'; readonly sandbox: string; readonly state: 'open' | 'idle' | 'lifetime' | 'destroyed' };

export type Door = Ask['door'];
/** Every door, for tests that pin the union and for the audit's vocabulary. */
export const DOORS = ['tool', 'egress', 'file', 'quota', 'denials', 'lifetime'] as const satisfies readonly Door[];

export type AllowCode = 'TOOL_GRANTED' | 'ROUTE_GRANTED' | 'PATH_IN_WORKSPACE' | 'QUOTA_ROOM' | 'DENIALS_WITHIN_BUDGET' | 'SANDBOX_OPEN';

export type Decision =
  | { readonly allow: true; readonly code: AllowCode; readonly route?: CompiledRoute }
  | { readonly allow: false; readonly code: ErrorCode; readonly message: string; readonly route?: CompiledRoute | null; readonly why?: string };

/** NAME_MAX: the longest name one path segment may have, in bytes. */
export const MAX_NAME_BYTES = 255;
/** The longest workspace path, in bytes: its host path (under /run/airlock/…) stays below PATH_MAX. */
export const MAX_PATH_BYTES = 3072;

function deny(code: ErrorCode, message: string): Decision {
  return { allow: false, code, message };
}

/**
 * @example
 *   const d = decide(policy, { door: 'tool', name: 'mail.read', args: { id: 't1' }, callsSoFar: 0 });
 *   if (!d.allow) throw new AirlockError(d.code, d.message);
 */
export function decide(policy: CompiledPolicy, ask: Ask): Decision {
  switch (ask.door) {
    case 'tool': {
      const d = decideTool(policy, ask);
      return d.allow ? withAuthority(d, ask.authority) : d;
    }
    case 'egress': {
      const d = decideEgress(policy.routes, ask.request);
      if (!d.allow) return { allow: false, code: d.code, message: d.reason, route: d.route, why: d.why };
      return withAuthority({ allow: true, code: d.reason, route: d.route }, ask.authority);
    }
    case 'file':
      return decideFile(ask.path, ask.root);
    case 'quota':
      return ask.used + ask.asking <= ask.max
        ? { allow: true, code: 'QUOTA_ROOM' }
        : deny(QUOTA_CODES[ask.budget], `tenant ${ask.tenant} has ${ask.used} of its ${ask.max} ${QUOTA_UNITS[ask.budget]} in use and asked for ${ask.asking} more: ${QUOTA_FIX[ask.budget]}`);
    case 'denials':
      return ask.spentBefore < policy.limits.denials
        ? { allow: true, code: 'DENIALS_WITHIN_BUDGET' }
        : deny('LIMIT_DENIALS', `the run was denied more than limits.denials (${policy.limits.denials}) times and was stopped: ask only for what the policy grants, or raise limits.denials`);
    case 'lifetime':
      return ask.state === 'open' ? { allow: true, code: 'SANDBOX_OPEN' } : deny('SANDBOX_CLOSED', `sandbox ${ask.sandbox} ${LIFETIME_ENDS[ask.state]}: create a new one`);
  }
}

/** What the policy allowed, unless the run's warrant or labels deny it (their code and message). */
function withAuthority(allowed: Decision, authority: (() => AuthorityVerdict) | undefined): Decision {
  if (authority === undefined) return allowed;
  const verdict = authority();
  return verdict.allow ? allowed : { allow: false, code: verdict.code, message: verdict.message, ...(allowed.route === undefined ? {} : { route: allowed.route }) };
}

function decideTool(policy: CompiledPolicy, ask: Extract<Ask, { door: 'tool' }>): Decision {
  const tool = policy.tools.get(ask.name);
  if (tool === undefined) return deny('TOOL_NOT_GRANTED', `tool "${ask.name}" is not granted: add it to policy.tools`);
  if (ask.callsSoFar >= policy.limits.toolCalls) return deny('LIMIT_TOOL_CALLS', `tool call limit of ${policy.limits.toolCalls} reached: raise policy.limits.toolCalls`);
  const why = schemaMismatch(tool.validate, ask.args, '(args)');
  if (why !== null) return deny('TOOL_ARGS_INVALID', `arguments to "${ask.name}" don't match its schema: ${why}`);
  return { allow: true, code: 'TOOL_GRANTED' };
}

/**
 * The lexical half of the file door: a path names something inside the workspace (relative, or
 * under `root`), with no "..", no NUL, and names and length the host's file system can hold.
 * The other half (no symlink on the way) is enforced where the file is opened, beneath the
 * workspace's directory descriptor (container/beneath.ts). A Workspace asks this again itself (it
 * can be used without a sandbox around it): the same function, not a copy.
 */
export function decideFile(path: string, root: string): Decision {
  const outside = (why: string): Decision => deny('PATH_OUTSIDE_WORKSPACE', `path ${JSON.stringify(path)} ${why}: name a path inside the workspace`);
  let rel = path;
  if (rel === root || rel.startsWith(`${root}/`)) rel = rel.slice(root.length + 1);
  else if (rel.startsWith('/')) return outside(`is absolute and not under ${root}`);
  const segs = rel.split('/').filter((s) => s !== '' && s !== '.');
  for (const s of segs) {
    if (s === '..') return outside('contains ".."');
    if (s.includes('\0')) return outside('contains a NUL byte');
    if (Buffer.byteLength(s) > MAX_NAME_BYTES) return deny('INVALID_REQUEST', `a name in ${JSON.stringify(path.slice(0, 80))}… is over ${MAX_NAME_BYTES} bytes: use shorter names`);
  }
  if (Buffer.byteLength(segs.join('/')) > MAX_PATH_BYTES) return deny('INVALID_REQUEST', `the path ${JSON.stringify(path.slice(0, 80))}… is over ${MAX_PATH_BYTES} bytes: use a shorter path`);
  return { allow: true, code: 'PATH_IN_WORKSPACE' };
}

const QUOTA_CODES = { sandboxes: 'QUOTA_SANDBOXES', runsPerMinute: 'QUOTA_RUNS', memoryMiB: 'QUOTA_MEMORY' } as const satisfies Record<Budget, ErrorCode>;
const QUOTA_UNITS: Record<Budget, string> = { sandboxes: 'live sandbox(es)', runsPerMinute: 'runs this minute', memoryMiB: 'MiB of sandbox memory' };
const QUOTA_FIX: Record<Budget, string> = {
  sandboxes: 'destroy one first, or raise quotas.sandboxes',
  runsPerMinute: 'wait for the rate to recover, or raise quotas.runsPerMinute',
  memoryMiB: "ask for less (limits.memoryMiB), destroy one of the tenant's sandboxes, or raise quotas.memoryMiB",
};
const LIFETIME_ENDS: Record<Exclude<Extract<Ask, { door: 'lifetime' }>['state'], 'open'>, string> = {
  idle: 'was destroyed after its idle timeout (limits.idleMs)',
  lifetime: 'reached its lifetime (limits.lifetimeMs) and was destroyed',
  destroyed: 'was destroyed',
};
