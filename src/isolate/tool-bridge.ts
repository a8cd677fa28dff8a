/**
 * The host end of a guest's tool call: parse, decide, audit, run the handler with a deadline,
 * copy the answer back as JSON. Handlers run only here, on the host; the guest only ever sees
 * the JSON text of a result or a coded error.
 */
import { setMaxListeners } from 'node:events';
import type { AuditSink } from '../audit/event.ts';
import { z } from 'zod';
import { AirlockError, codeInfo, toAirlockError, type ErrorCode } from '../core/errors.ts';
import type { Violation } from '../core/result.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { CallAuthority } from '../policy/authority.ts';
import { decide } from '../policy/decide.ts';
import { boundedText } from '../audit/bounded.ts';
import { RunDenials } from './denial-budget.ts';
import { prototypeKey } from './plain-args.ts';
import type { ToolReply } from './protocol.ts';

/**
 * Context every tool handler receives. `signal` aborts when the call's deadline passes or when its
 * run ends (the guest returned or was stopped): a handler should stop work then, since its answer
 * can no longer reach anyone.
 */
export interface ToolContext {
  readonly tenant: string;
  readonly sandbox: string;
  readonly run: string;
  readonly signal: AbortSignal;
}

export type ToolHandler = (args: unknown, context: ToolContext) => unknown;

export type ToolAnswer = Omit<ToolReply, 't' | 'run' | 'call'>;

/** Who a fetch is for: the run, its sandbox and tenant, and the run's policy. */
export interface FetchScope {
  readonly tenant: string;
  readonly sandbox: string;
  readonly run: string;
  readonly policy: CompiledPolicy;
  readonly authority?: Pick<CallAuthority, 'route' | 'received'> | undefined;
}

/** The egress gateway's isolate-tier entry (src/egress/gateway.ts EgressGateway.fetch and release). */
export interface FetchDoor {
  /** `signal` aborts when the run ends: an exchange still in flight is cut then, and audited so. */
  fetch(
    ctx: FetchScope,
    req: { readonly method: string; readonly url: string; readonly headers: readonly (readonly [string, string])[]; readonly body?: Uint8Array; readonly signal: AbortSignal },
  ): Promise<{ readonly status: number; readonly headers: readonly (readonly [string, string])[]; readonly body: Uint8Array }>;
  /** The run is over: forget its quota counters. */
  release(ctx: Omit<FetchScope, 'policy'>): void;
}

/** The bridge's reserved door for the guest's fetch: not an identifier, so no tool can be named so. */
export const FETCH_DOOR = '@fetch';

const fetchRequest = z.strictObject({
  method: z.string().max(16),
  url: z.string().max(8192),
  headers: z.array(z.tuple([z.string().max(256), z.string().max(8192)])).max(128),
  bodyText: z.string().optional(),
  bodyBytes: z.array(z.number().int().min(0).max(255)).optional(),
});

/** The bridge's reserved doors for delegation: not identifiers, so no tool can be named so. */
export const SUBRUN_DOOR = '@subrun';
export const UNWRAP_DOOR = '@unwrap';

/**
 * The runtime's side of a guest's `subrun` and `unwrap` (runtime/subrun.ts). It answers coded
 * failures itself; the bridge records a denial (a SUBRUN_DENIED, a WARRANT_WIDENING) as a decision.
 */
export interface DelegationDoor {
  /** The run holds its worker now: its wall time, which a child's is cut from, begins here (not while it waited for one). */
  begin(): void;
  /** `request` is the guest's JSON, unchecked: `{ code, options }`. */
  subrun(request: unknown): Promise<ToolAnswer>;
  unwrap(handle: unknown): ToolAnswer;
}

/**
 * The tool-call budget (limits.toolCalls) of a run and every sub-run under it: one counter, so a
 * sub-run spends its parent's calls.
 */
export interface CallBudget {
  spent: number;
}

export interface BridgeScope {
  readonly tenant: string;
  readonly sandbox: string;
  readonly run: string;
  readonly policy: CompiledPolicy;
  readonly handlers: Readonly<Record<string, ToolHandler>>;
  readonly audit: AuditSink;
  readonly egress?: FetchDoor;
  /** Ends the run: it called the host again after being told its tool-call limit was reached. */
  readonly stopRun?: () => void;
  /** The run's warrant and labels (policy/authority.ts); absent, the policy alone decides. */
  readonly authority?: CallAuthority;
  /** `subrun` and `unwrap` (absent: the policy grants no sub-runs). */
  readonly delegation?: DelegationDoor;
  /** Shared with the run's parent and children; absent, the run's own. */
  readonly budget?: CallBudget;
}

/**
 * Every call is a decision, audited and listed in the result, so a run's calls are bounded by one
 * budget, limits.toolCalls: tool calls and fetches, granted or denied, all spend it. The first
 * call past it is denied and recorded like any other (the guest may catch it and finish); a run
 * that calls again is stopped, and those last calls are answered without a record each.
 */
/** How many of a label's sources an allowed decision names (the count is always there). */
const LABEL_SOURCES_SHOWN = 32;

/**
 * What an allowed call's decision records of the run's authority: its warrant, and the run's label
 * as the call found it (so the log shows the label rising, call by call).
 */
function authorityDetail(authority: CallAuthority | undefined): { detail?: Record<string, unknown> } {
  if (authority === undefined) return {};
  const label = authority.label();
  const detail: Record<string, unknown> = {
    ...(authority.warrant === null ? {} : { warrant: authority.warrant.id }),
    ...(label === null ? {} : { labelSources: label.length, label: label.slice(0, LABEL_SOURCES_SHOWN).map((a) => `${a.source} ${a.integrity}`) }),
  };
  return Object.keys(detail).length === 0 ? {} : { detail };
}

export class ToolBridgeHost {
  readonly violations: Violation[] = [];
  readonly #scope: BridgeScope;
  readonly #budget: CallBudget;
  #overBudget: 'not-yet' | 'told' | 'stopped' = 'not-yet';
  /** How to abandon each call still in flight (abort its handler, end its wait) when the run ends. */
  readonly #inFlight = new Set<() => void>();
  /**
   * Aborted when the run ends: cuts the guest's fetches still in flight (each adds a listener).
   * Made at the run's first fetch, so a run that never fetches pays nothing for it.
   */
  #runEnded: AbortController | null = null;
  #ended = false;
  /** limits.denials: every denied call or fetch spends one (denial-budget.ts). */
  readonly #denials: RunDenials;

  constructor(scope: BridgeScope) {
    this.#scope = scope;
    this.#budget = scope.budget ?? { spent: 0 };
    this.#denials = new RunDenials(scope.policy, () => scope.stopRun?.());
  }

  #endSignal(): AbortSignal {
    if (this.#runEnded === null) {
      this.#runEnded = new AbortController();
      setMaxListeners(Infinity, this.#runEnded.signal);
    }
    return this.#runEnded.signal;
  }

  get calls(): number {
    return this.#budget.spent;
  }

  /** Which budget the host stopped the run for, if it did (whatever the worker answered). */
  get stoppedFor(): 'calls' | 'denials' | null {
    return this.#denials.stopped ? 'denials' : this.#overBudget === 'stopped' ? 'calls' : null;
  }

  /** The run is over: abort the handlers still working for it and drop their deadlines. */
  end(): void {
    this.#ended = true;
    for (const abandon of this.#inFlight) abandon();
    this.#inFlight.clear();
    if (this.#runEnded === null) return;
    this.#runEnded.abort(new AirlockError('EGRESS_UPSTREAM_FAILED', 'the run ended before the upstream finished answering'));
    const { egress, tenant, sandbox, run } = this.#scope;
    egress?.release({ tenant, sandbox, run });
  }

  async call(name: string, argsJson: string): Promise<ToolAnswer> {
    const { policy, audit, tenant, sandbox, run } = this.#scope;
    // A run stopped for its denials is refused everything, granted or not, while the stop lands.
    if (this.#denials.stopped) return { ok: false, code: 'LIMIT_DENIALS', message: this.#denials.message };
    if (this.#budget.spent >= policy.limits.toolCalls) return this.#pastBudget(name);
    if (name === FETCH_DOOR) return this.#fetch(argsJson);
    if (name === SUBRUN_DOOR || name === UNWRAP_DOOR) return this.#delegate(name, argsJson);
    let args: unknown;
    try {
      args = JSON.parse(argsJson);
    } catch {
      return this.#deny(name, 'TOOL_ARGS_INVALID', `arguments to "${name}" are not JSON`);
    }
    // Plain data only: a key that names a prototype never reaches a handler (plain-args.ts).
    const protoKey = prototypeKey(args);
    if (protoKey !== null) {
      this.#budget.spent++;
      return this.#deny(name, 'TOOL_ARGS_INVALID', `arguments to "${name}" hold the key "${protoKey}", which is refused (a merge could reach a prototype): rename it`);
    }
    // Counted before anything is awaited: parallel calls can't all pass the same count.
    const callsSoFar = this.#budget.spent;
    this.#budget.spent++;
    // The warrant and the labels are asked only about a call the policy would allow.
    const { authority } = this.#scope;
    const judged = authority !== undefined && policy.tools.has(name) && callsSoFar < policy.limits.toolCalls ? await authority.judge(name, args) : undefined;
    // The call goes on with the arguments the authority gave back (a handle replaced by its value).
    if (judged !== undefined && judged.allow && judged.args !== undefined) {
      args = judged.args;
      // A handle's value is a child run's data: plain data only, like the guest's own arguments.
      const inHandle = prototypeKey(args);
      if (inHandle !== null) return this.#deny(name, 'TOOL_ARGS_INVALID', `a handle passed to "${name}" holds the key "${inHandle}", which is refused (a merge could reach a prototype)`);
    }
    const decision = decide(policy, { door: 'tool', name, args, callsSoFar, ...(judged === undefined ? {} : { authority: () => judged }) });
    if (!decision.allow) return this.#deny(name, decision.code, decision.message, judged !== undefined && !judged.allow ? judged.detail : undefined);
    audit.append({ kind: 'decision', tenant, sandbox, run, door: 'tool', subject: boundedText(name, 128), allow: true, reason: decision.code, ...authorityDetail(authority) });
    const handler = this.#scope.handlers[name];
    if (handler === undefined) return this.#fail('TOOL_FAILED', `the host has no handler for "${name}"`);
    if (authority !== undefined && judged !== undefined) authority.commit(name, args, judged);
    const controller = new AbortController();
    const ms = policy.limits.toolMs;
    let timer: NodeJS.Timeout | undefined;
    let abandon = (): void => undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new AirlockError('TOOL_TIMEOUT', `tool "${name}" did not answer within ${ms} ms`));
      }, ms);
      abandon = () => {
        controller.abort();
        reject(new AirlockError('TOOL_FAILED', `the run ended before tool "${name}" answered`));
      };
    });
    if (this.#ended) abandon();
    else this.#inFlight.add(abandon);
    try {
      const value: unknown = await Promise.race([Promise.resolve(handler(args, { tenant, sandbox, run, signal: controller.signal })), deadline]);
      // JSON.stringify answers undefined for functions, symbols and undefined itself.
      const json = value === undefined ? null : (JSON.stringify(value) as string | undefined);
      if (json === undefined) return this.#fail('TOOL_FAILED', `tool "${name}" returned something that is not JSON data`);
      // What the result revealed raises the run's label (the guest sees the result only after this).
      if (authority !== undefined && judged !== undefined) authority.observe(name, args, json === null ? null : (JSON.parse(json) as unknown), judged);
      return { ok: true, json };
    } catch (error) {
      if (error instanceof AirlockError && error.code === 'TOOL_TIMEOUT') return this.#fail('TOOL_TIMEOUT', error.message);
      // A host error's text can hold anything (paths, connection strings): the guest gets it only
      // when the handler chose to say it, by throwing an AirlockError.
      const said = error instanceof AirlockError ? `: ${error.message.slice(0, 1000)}` : '';
      return this.#fail('TOOL_FAILED', `tool "${name}" failed${said}`);
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(abandon);
    }
  }

  /** The guest's fetch: the gateway decides and audits; denials are also this run's violations. */
  async #fetch(argsJson: string): Promise<ToolAnswer> {
    const { egress, tenant, sandbox, run, policy } = this.#scope;
    // Counted before anything is awaited, whatever the outcome: parallel fetches can't slip past.
    this.#budget.spent++;
    let parsed: unknown;
    try {
      parsed = JSON.parse(argsJson);
    } catch {
      parsed = null;
    }
    const req = fetchRequest.safeParse(parsed);
    if (!req.success) return this.#fail('EGRESS_BAD_REQUEST', 'fetch takes a URL and an init of method, headers and a string or byte body');
    if (egress === undefined || policy.routes.length === 0) {
      const message = 'network egress is not granted: add a route to policy.network.routes';
      const verdict = this.#denials.spend();
      if (verdict === 'stopped') return { ok: false, code: 'LIMIT_DENIALS', message: this.#denials.message };
      const code = verdict === 'stop' ? 'LIMIT_DENIALS' : 'EGRESS_NOT_GRANTED';
      this.#scope.audit.append({ kind: 'decision', tenant, sandbox, run, door: 'network', subject: boundedText(req.data.url), allow: false, reason: code });
      this.violations.push({ door: 'network', detail: verdict === 'stop' ? this.#denials.message : message, code });
      return { ok: false, code: 'EGRESS_NOT_GRANTED', message };
    }
    const { method, url, headers, bodyText, bodyBytes } = req.data;
    const body = bodyText !== undefined ? Buffer.from(bodyText) : bodyBytes !== undefined ? Uint8Array.from(bodyBytes) : undefined;
    try {
      const res = await egress.fetch({ tenant, sandbox, run, policy, authority: this.#scope.authority }, { method, url, headers, signal: this.#endSignal(), ...(body === undefined ? {} : { body }) });
      const bytes = Buffer.from(res.body);
      return { ok: true, json: JSON.stringify({ status: res.status, headers: res.headers, text: bytes.toString('utf8'), base64: bytes.toString('base64') }) };
    } catch (error) {
      const e = toAirlockError(error, 'EGRESS_UPSTREAM_FAILED');
      // The gateway recorded the denial (and spends its own count per run); it spends the run's here too.
      const verdict = codeInfo(e.code).status === 'denied' ? this.#denials.spend() : 'stopped';
      if (verdict === 'within') this.violations.push({ door: 'network', detail: e.message, code: e.code });
      if (verdict === 'stop') this.violations.push({ door: 'limit', detail: this.#denials.message, code: 'LIMIT_DENIALS' });
      return { ok: false, code: e.code, message: e.message };
    }
  }

  /**
   * The guest's subrun or unwrap: spends a call like any other; the runtime's door does the work.
   * A refusal is a decision on the record and a violation of this run; a child's own failure is
   * the child's (in its run.ended), answered here as the error it ended with.
   */
  async #delegate(name: string, argsJson: string): Promise<ToolAnswer> {
    this.#budget.spent++;
    const door = this.#scope.delegation;
    if (door === undefined) return this.#deny(name, 'SUBRUN_DENIED', 'sub-runs are not granted: raise policy.limits.subruns above 0');
    let request: unknown;
    try {
      request = JSON.parse(argsJson);
    } catch {
      return this.#deny(name, 'TOOL_ARGS_INVALID', `arguments to ${name} are not JSON`);
    }
    const answer = name === SUBRUN_DOOR ? await door.subrun(request) : door.unwrap(request);
    if (answer.ok) return answer;
    const code = (answer.code ?? 'INTERNAL') as ErrorCode;
    if (code === 'SUBRUN_DENIED' || code === 'WARRANT_WIDENING' || code === 'TOOL_ARGS_INVALID') return this.#deny(name, code, answer.message ?? code);
    return answer;
  }

  #pastBudget(name: string): ToolAnswer {
    const { limits } = this.#scope.policy;
    const reason = `tool call limit of ${limits.toolCalls} reached: raise policy.limits.toolCalls`;
    if (this.#overBudget === 'not-yet') {
      this.#overBudget = 'told';
      return this.#deny(name, 'LIMIT_TOOL_CALLS', reason);
    }
    if (this.#overBudget === 'told') {
      this.#overBudget = 'stopped';
      this.#scope.stopRun?.();
    }
    return this.#fail('LIMIT_TOOL_CALLS', reason);
  }

  /** A denied call: spends the run's denial budget, and is recorded while that lasts. */
  #deny(name: string, denied: ErrorCode, why: string, more?: Readonly<Record<string, unknown>>): ToolAnswer {
    const { audit, tenant, sandbox, run } = this.#scope;
    const verdict = this.#denials.spend();
    if (verdict === 'stopped') return { ok: false, code: 'LIMIT_DENIALS', message: this.#denials.message };
    const [code, reason]: [ErrorCode, string] = verdict === 'stop' ? ['LIMIT_DENIALS', this.#denials.message] : [denied, why];
    audit.append({ kind: 'decision', tenant, sandbox, run, door: 'tool', subject: boundedText(name, 128), allow: false, reason: code, detail: { message: boundedText(reason, 512), ...more } });
    this.violations.push({ door: code === 'LIMIT_TOOL_CALLS' || code === 'LIMIT_DENIALS' ? 'limit' : 'tool', detail: reason, code });
    return { ok: false, code, message: reason };
  }

  #fail(code: ErrorCode, message: string): ToolAnswer {
    return { ok: false, code, message };
  }
}
