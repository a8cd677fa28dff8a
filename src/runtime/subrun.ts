/**
 * Delegation from inside the guest: `await subrun(code, { attenuate, input, return })` and
 * `await unwrap(handle)`. The guest never holds a token: the host appends the child link to the
 * run's warrant (authority/run-authority.ts `attenuate`, refusing widening), runs the child through
 * the same lifecycle as any run (sandbox.created, run.started naming its warrant and its parent,
 * run.ended, sandbox.destroyed) in a fresh isolate, and answers with the child's value (the
 * parent's label joins the child's) or an opaque handle labelled with the child's label.
 *
 * Bounds: a run starts at most policy.limits.subruns children; every sub-run spends one call of
 * the tool-call budget its whole tree shares (so the tree is bounded by limits.toolCalls); nesting
 * is at most SUBRUN_MAX_DEPTH, and under a warrant also its maxDepth (each child is one link
 * deeper); a child's wall and CPU limits are at most what is left of its parent's wall time, and
 * its warrant expires then too. Each nesting depth draws isolate workers from its own lane of the
 * tenant's pool (isolate/pool.ts), so a parent waiting for its child can't starve it.
 *
 * @example (guest)
 *   const h = await subrun('export default (i) => tools.mail.read(i)', {
 *     attenuate: { grants: [{ tool: 'mail.read', ops: ['read'], resources: ['mail:thread/t1'] }] },
 *     input: { threadId: 't1' }, return: 'handle' });
 *   await tools.mail.send({ to: ['ann@corp.example'], body: h });   // the handler gets the value
 */
import { z } from 'zod';
import type { AuditSink } from '../audit/event.ts';
import { flowSchema, grantSchema, problemsOf } from '../authority/payload.ts';
import type { Label } from '../authority/labels/index.ts';
import type { RunAuthority } from '../authority/run-authority.ts';
import { AirlockError, toAirlockError } from '../core/errors.ts';
import { newId } from '../core/ids.ts';
import type { RunResult } from '../core/result.ts';
import type { CallBudget, DelegationDoor, ToolAnswer } from '../isolate/tool-bridge.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { RunInput } from './tier.ts';

/** How deeply sub-runs may nest (a warrant may bound it further: its maxDepth). */
export const SUBRUN_MAX_DEPTH = 4;
/** A child needs at least this much of its parent's wall time left to be worth starting. */
const MIN_CHILD_WALL_MS = 20;

const subrunRequest = z.strictObject({
  code: z.string(),
  options: z
    .strictObject({
      attenuate: z.strictObject({ grants: z.array(grantSchema).max(64).optional(), flow: flowSchema.optional() }).optional(),
      input: z.unknown().optional(),
      return: z.enum(['value', 'handle']).optional(),
    })
    .nullable(),
});

/** The run a door serves. */
export interface SubrunParent {
  readonly tenant: string;
  readonly run: string;
  readonly sandbox: string;
  readonly policy: CompiledPolicy;
  readonly authority: RunAuthority;
  /** This run's nesting: 0 for a top-level run. */
  readonly depth: number;
  /** When this run was asked for (Date.now()); its wall time begins when it holds a worker (`begin`). */
  readonly startedAt: number;
  readonly budget: CallBudget;
}

/** What the runtime does for a door: make a child's authority, and run the child. */
export interface SubrunHost {
  readonly audit: AuditSink;
  /** The child's authority: its warrant verified like any run's; it starts from `start`, the parent's label. */
  authority(run: { readonly tenant: string; readonly sandbox: string; readonly id: string; readonly warrant?: string | undefined; readonly start: Label }): RunAuthority;
  /** Runs the child through the one lifecycle, on the isolate tier. */
  run(input: RunInput): Promise<RunResult>;
}

const denied = (message: string): ToolAnswer => ({ ok: false, code: 'SUBRUN_DENIED', message });

export class SubrunDoor implements DelegationDoor {
  readonly #parent: SubrunParent;
  readonly #host: SubrunHost;
  #started = 0;
  /** When the run began to hold its worker: a wait for one under load is not its wall time. */
  #began: number | null = null;

  constructor(parent: SubrunParent, host: SubrunHost) {
    this.#parent = parent;
    this.#host = host;
  }

  begin(): void {
    this.#began ??= Date.now();
  }

  async subrun(raw: unknown): Promise<ToolAnswer> {
    const p = this.#parent;
    const parsed = subrunRequest.safeParse(raw);
    if (!parsed.success) return { ok: false, code: 'TOOL_ARGS_INVALID', message: `subrun(code, { attenuate: { grants, flow }, input, return: 'value' | 'handle' }): ${problemsOf(parsed.error)}` };
    const { code, options } = parsed.data;
    // 1. Bounds: how many, how deep, how much time is left.
    if (this.#started >= p.policy.limits.subruns) return denied(`this run may start ${p.policy.limits.subruns} sub-runs and has started them all: raise policy.limits.subruns`);
    if (p.depth + 1 > SUBRUN_MAX_DEPTH) return denied(`sub-runs nest at most ${SUBRUN_MAX_DEPTH} deep; this one would be at depth ${p.depth + 1}: do the work in this run`);
    const now = Date.now();
    const left = p.policy.limits.wallMs - (now - (this.#began ?? p.startedAt));
    if (left < MIN_CHILD_WALL_MS) return denied(`only ${Math.max(0, left)} ms of this run's wall time is left for a sub-run: raise policy.limits.wallMs`);
    // 2. The child's warrant: a link appended by the host, narrowing or refused.
    const attenuate = options?.attenuate;
    if (attenuate !== undefined && p.authority.warrant === null) {
      return denied('this run has no warrant to attenuate: run it with a warrant, or call subrun without attenuate (the child then runs under the same policy)');
    }
    let token: string | null;
    try {
      token = p.authority.attenuate({ now, expiresAt: now + left, grants: attenuate?.grants, flow: attenuate?.flow });
    } catch (error) {
      const e = toAirlockError(error, 'WARRANT_INVALID');
      // A holder-bound warrant: only its holder's key signs a child link, and the host has none.
      if (e.code === 'INVALID_REQUEST') return denied(`the run's warrant can't be delegated from inside the guest: ${e.message}`);
      return { ok: false, code: e.code, message: e.message };
    }
    this.#started++;
    const [id, sandbox] = [newId('run'), newId('sbx')];
    let authority: RunAuthority;
    try {
      authority = this.#host.authority({ tenant: p.tenant, sandbox, id, warrant: token ?? undefined, start: p.authority.current() });
    } catch (error) {
      const e = toAirlockError(error, 'WARRANT_INVALID');
      return { ok: false, code: e.code, message: e.message };
    }
    this.#host.audit.append({
      kind: 'decision',
      tenant: p.tenant,
      sandbox: p.sandbox,
      run: p.run,
      door: 'tool',
      subject: '@subrun',
      allow: true,
      reason: 'SUBRUN_STARTED',
      detail: { child: id, ...(authority.warrant === null ? {} : { warrant: authority.warrant.id }) },
    });
    // 3. The child: the parent's policy, its time cut to what is left of the parent's.
    const wallMs = Math.min(p.policy.limits.wallMs, left);
    const policy: CompiledPolicy = { ...p.policy, limits: Object.freeze({ ...p.policy.limits, wallMs, cpuMs: Math.min(p.policy.limits.cpuMs, wallMs) }) };
    const child: SubrunParent = { tenant: p.tenant, run: id, sandbox, policy, authority, depth: p.depth + 1, startedAt: Date.now(), budget: p.budget };
    let result: RunResult;
    try {
      result = await this.#host.run({
        id,
        tenant: p.tenant,
        sandbox,
        policy,
        code,
        language: 'js',
        input: options?.input,
        tierReason: `a sub-run of ${p.run}: the isolate tier, like its parent`,
        authority,
        parent: p.run,
        lane: child.depth,
        delegation: new SubrunDoor(child, this.#host),
        budget: p.budget,
      });
    } catch (error) {
      p.authority.raise(authority.current());
      const e = toAirlockError(error, 'INTERNAL');
      return { ok: false, code: e.code, message: e.message };
    }
    // 4. The answer. What the child revealed reaches the parent with its value, or with its error
    // (an error's text is data too); a handle keeps it out of the parent's label until unwrapped.
    const label = authority.current();
    if (result.status !== 'ok') {
      p.authority.raise(label);
      return { ok: false, code: result.error?.code ?? 'INTERNAL', message: `sub-run ${id} ended ${result.status}: ${result.error?.message ?? 'without a message'}` };
    }
    if (options?.return === 'handle') return { ok: true, json: JSON.stringify(p.authority.hold(result.result, label)) };
    p.authority.raise(label);
    return { ok: true, json: JSON.stringify(result.result) };
  }

  unwrap(handle: unknown): ToolAnswer {
    if (typeof handle !== 'string') return { ok: false, code: 'TOOL_ARGS_INVALID', message: 'unwrap(handle): pass a handle a subrun of this run returned' };
    try {
      return { ok: true, json: JSON.stringify(this.#parent.authority.unwrap(handle)) };
    } catch (error) {
      const e = error instanceof AirlockError ? error : toAirlockError(error, 'INTERNAL');
      return { ok: false, code: e.code, message: e.message };
    }
  }
}
