/**
 * One run's authority beyond its policy: its verified warrant and its information-flow label, as
 * the doors ask them (policy/authority.ts). Made by the runtime for each run; holds the run's
 * label, which only rises, and its handles.
 *
 * - A tool call: the warrant must grant it (the tool, the operation the HOST declares for it, the
 *   resources its arguments name under the host's templates, the where-constraints), then, for a
 *   sink, the labels must allow it. A tool the host declared no operation for is refused under a
 *   warrant (fail closed: the warrant can't know what it does).
 * - After a call: the run's label joins what the result revealed; a sink's write is stored with
 *   the content's label, so reading it later (in any run) brings the label back.
 * - An egress request: the warrant must grant `net.fetch` with the request's method as operation
 *   and its route as resource (`net:https://host:443/path`); then, as a sink whose audience is
 *   `web:<host><path>`, the labels must allow what the run has read to reach it.
 * - Delegation (runtime/subrun.ts): a child link is appended to the run's warrant here, so the
 *   bearer key never leaves this object; a sub-run's value raises the label, its handle is held
 *   here, and a handle passed in a call's arguments is replaced by its value before anything
 *   (warrant, policy schema, sink check, handler) reads them, its label added to the sink's check.
 */
import type { AuditSink } from '../audit/event.ts';
import type { LabelAtom } from '../core/result.ts';
import { AUTHORITY_ALLOWS, type AuthorityVerdict, type CallAuthority, type WarrantRecord } from '../policy/authority.ts';
import { authorize } from './authorize.ts';
import { attenuateWarrant } from './mint.ts';
import type { FlowDoc, GrantDoc } from './payload.ts';
import { checkSink, checkSinkCall, HandleTable, labelAuditDetail, labelToolResult, recordSinkWrite, reserveSinkWrite, type FlowRules, type LabelRegistry, type LabelStore, type RunPrincipals } from './labels/index.ts';
import { Label } from './labels/label.ts';
import { webPrincipal } from './labels/sink.ts';
import { resolveResources, routeResource, type ResourceTemplate } from './resources.ts';
import type { VerifiedWarrant } from './verify.ts';

/** What the host declared about one tool: its operation (null: nothing declared) and resource templates. */
export interface AuthorityTool {
  readonly operation: string | null;
  readonly resources: readonly ResourceTemplate[];
}

export interface RunLabels {
  readonly registry: LabelRegistry;
  readonly store: LabelStore;
  readonly who: RunPrincipals;
  readonly rules: FlowRules;
  readonly handles: HandleTable;
  /** Where the run starts: empty, or a parent's label for a sub-run. */
  readonly start: Label;
}

export interface RunAuthorityOptions {
  readonly tenant: string;
  readonly sandbox: string;
  readonly run: string;
  readonly warrant: VerifiedWarrant | null;
  readonly tools: (name: string) => AuthorityTool | undefined;
  readonly labels: RunLabels | null;
  readonly audit: AuditSink;
}

/** The tool name and operation an egress request is authorized as. */
export const FETCH_TOOL = 'net.fetch';

export class RunAuthority implements CallAuthority {
  readonly warrant: WarrantRecord | null;
  readonly #o: RunAuthorityOptions;
  #label: Label;
  /** Handles this run holds (sub-runs' results): the labels' table when labels are kept, else its own. */
  readonly #handles: HandleTable;

  constructor(options: RunAuthorityOptions) {
    this.#o = options;
    const w = options.warrant;
    this.warrant = w === null ? null : { id: w.id, chainHash: w.chainHash, depth: w.depth, holder: w.holder.kid, expiresAt: new Date(w.expiresAt).toISOString() };
    this.#label = options.labels?.start ?? Label.empty();
    this.#handles = options.labels?.handles ?? new HandleTable();
  }

  async judge(tool: string, given: unknown): Promise<AuthorityVerdict> {
    // Handles are replaced by their values first: the warrant's resources, the sink's audience and
    // controls, and the handler all see the value; the handles' labels join the sink's content.
    let uses;
    try {
      uses = this.#handles.usesIn(given);
    } catch (error) {
      return { allow: false, code: 'TOOL_ARGS_INVALID', message: error instanceof Error ? error.message : String(error) };
    }
    const args = uses.length === 0 ? given : this.#handles.substitute(given);
    const withArgs = (v: AuthorityVerdict): AuthorityVerdict => (uses.length === 0 || !v.allow ? v : { ...v, args });
    const byWarrant = this.#byWarrant(tool, args);
    if (!byWarrant.allow) return byWarrant;
    const labels = this.#o.labels;
    if (labels === null) return withArgs(AUTHORITY_ALLOWS);
    const { decision } = await checkSinkCall({ registry: labels.registry, store: labels.store, tenant: this.#o.tenant, tool, args, run: this.#label, who: labels.who, rules: labels.rules, handles: labels.handles, uses });
    if (decision === undefined) return withArgs(AUTHORITY_ALLOWS);
    if (!decision.allow) {
      const detail = labelAuditDetail(decision) as unknown as Readonly<Record<string, unknown>>;
      return { allow: false, code: decision.code, message: decision.message, detail };
    }
    // The content's label, as checked, is what a sink's write is stored with (commit, observe).
    return withArgs({ allow: true, ticket: decision.content });
  }

  /**
   * The call was allowed (policy and authority) and its handler runs now: a sink's content label
   * is joined into the object its arguments name before the handler's write can be seen, and
   * settled by the declared mode in observe. Not in `judge`: a call the policy still refuses (its
   * arguments fail their schema) must leave no label behind.
   */
  commit(tool: string, args: unknown, verdict: AuthorityVerdict): void {
    const labels = this.#o.labels;
    const compiled = labels?.registry.tool(tool);
    if (labels == null || compiled === undefined || !verdict.allow || !(verdict.ticket instanceof Label)) return;
    reserveSinkWrite({ tool: compiled, store: labels.store, tenant: this.#o.tenant, args, content: verdict.ticket });
  }

  /**
   * The token of a child of this run's warrant, narrowed to `grants` and `flow` (absent: the
   * parent's), expiring at `expiresAt` or the parent's expiry, whichever is sooner; null when the
   * run has no warrant. Throws WARRANT_WIDENING when the child asks for more than the chain grants.
   */
  attenuate(o: { readonly now: number; readonly expiresAt: number; readonly grants?: readonly GrantDoc[] | undefined; readonly flow?: FlowDoc | undefined }): string | null {
    const warrant = this.#o.warrant;
    if (warrant === null) return null;
    return attenuateWarrant(warrant, { now: o.now, expiresAt: Math.min(o.expiresAt, warrant.expiresAt), ...(o.grants === undefined ? {} : { grants: o.grants }), ...(o.flow === undefined ? {} : { flow: o.flow }) });
  }

  /** The run's label now (a sub-run starts from it). */
  current(): Label {
    return this.#label;
  }

  /** A sub-run's value reached this run: the run's label joins the child's. */
  raise(label: Label): void {
    this.#label = this.#label.join(label);
  }

  /** Holds a sub-run's value behind a handle labelled with the child's label; the run's label stays. */
  hold(value: unknown, label: Label): string {
    return this.#handles.create(value, label);
  }

  /** The value behind one of this run's handles; the run's label joins the handle's. */
  unwrap(id: string): unknown {
    const { value, label } = this.#handles.unwrap(id, this.#label);
    this.#label = label;
    return value;
  }

  #byWarrant(tool: string, args: unknown): AuthorityVerdict {
    const warrant = this.#o.warrant;
    if (warrant === null) return AUTHORITY_ALLOWS;
    const declared = this.#o.tools(tool);
    if (declared?.operation == null) {
      return { allow: false, code: 'WARRANT_DENIED', message: `tool "${tool}" has no operation declared by the host, so no warrant can grant it: declare it in createAirlock({ tools: { "${tool}": { handler, operation } } })` };
    }
    const resolved = resolveResources(declared.resources, args);
    if (!resolved.ok) return { allow: false, code: 'WARRANT_DENIED', message: `the resources of "${tool}" can't be read from its arguments: ${resolved.problem}` };
    const a = authorize(warrant, { tool, op: declared.operation, resources: resolved.resources, args });
    return a.allow ? AUTHORITY_ALLOWS : { allow: false, code: a.code, message: a.message, detail: { warrant: a.warrantId, level: a.level, ...(a.grant === undefined ? {} : { grant: a.grant }) } };
  }

  observe(tool: string, args: unknown, result: unknown, verdict: AuthorityVerdict): void {
    const labels = this.#o.labels;
    if (labels === null) return;
    const content = verdict.allow && verdict.ticket instanceof Label ? verdict.ticket : undefined;
    const compiled = labels.registry.tool(tool);
    // Only a sink that declares what it stores writes a label; one that could not say where it wrote is on the record.
    if (content !== undefined && compiled?.sink?.stores != null) {
      const written = recordSinkWrite({ tool: compiled, store: labels.store, tenant: this.#o.tenant, args, result, content });
      if (written.source === null) {
        this.#o.audit.append({ kind: 'decision', tenant: this.#o.tenant, sandbox: this.#o.sandbox, run: this.#o.run, door: 'tool', subject: tool, allow: true, reason: 'LABEL_NOT_STORED' });
      }
    }
    this.#label = this.#label.join(labelToolResult({ registry: labels.registry, store: labels.store, tenant: this.#o.tenant, tool, result, who: labels.who }));
  }

  route(request: { readonly scheme: 'http' | 'https'; readonly host: string; readonly port: number; readonly path: string; readonly method: string }): AuthorityVerdict {
    const warrant = this.#o.warrant;
    if (warrant !== null) {
      const resource = routeResource(request);
      const a = authorize(warrant, { tool: FETCH_TOOL, op: request.method.toLowerCase(), resources: [resource], args: {} });
      if (!a.allow) return { allow: false, code: a.code, message: a.message, detail: { warrant: a.warrantId, level: a.level } };
    }
    return this.#routeByLabels(request);
  }

  received(request: { readonly scheme: 'http' | 'https'; readonly host: string; readonly port: number; readonly path: string }, access: 'public' | 'credentialed'): void {
    if (this.#o.labels === null) return;
    const host = request.host.includes(':') ? `[${request.host}]` : request.host;
    const source = `web:page/${request.scheme}://${host}:${request.port}${request.path}`;
    this.#label = this.#label.join(Label.of([{ source, readers: access === 'public' ? '*' : new Set<string>(), integrity: 'untrusted' }]));
  }

  /**
   * A request is a sink whose audience is its URL's `web:<host><path>` (docs/labels.md): whatever
   * the run has read may ride in its path, query, headers or body, so every atom must be readable
   * there, or released to it by the warrant. Its control arguments are none: which URL to read is
   * not an effect on the world, so a run that read untrusted data may still browse.
   */
  #routeByLabels(request: { readonly scheme: 'http' | 'https'; readonly host: string; readonly port: number; readonly path: string }): AuthorityVerdict {
    const labels = this.#o.labels;
    if (labels === null || this.#label.size === 0) return AUTHORITY_ALLOWS;
    const host = request.host.includes(':') ? `[${request.host}]` : request.host;
    const audience = webPrincipal(`${request.scheme}://${host}:${request.port}${request.path}`);
    const decision = checkSink({ tool: FETCH_TOOL, run: this.#label, handles: [], carried: Label.empty(), audience: [audience], controls: [], who: labels.who, rules: labels.rules });
    if (decision.allow) return AUTHORITY_ALLOWS;
    return { allow: false, code: decision.code, message: decision.message, detail: labelAuditDetail(decision) as unknown as Readonly<Record<string, unknown>> };
  }

  label(): readonly LabelAtom[] | null {
    return this.#o.labels === null ? null : this.#label.toJSON().map((a) => ({ source: a.source, readers: a.readers === '*' ? '*' : [...a.readers], integrity: a.integrity }));
  }
}
