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
 */
import type { AuditSink } from '../audit/event.ts';
import type { LabelAtom } from '../core/result.ts';
import { AUTHORITY_ALLOWS, type AuthorityVerdict, type CallAuthority } from '../policy/authority.ts';
import { authorize } from './authorize.ts';
import { checkSink, checkSinkCall, labelAuditDetail, labelToolResult, recordSinkWrite, reserveSinkWrite, type FlowRules, type HandleTable, type LabelRegistry, type LabelStore, type RunPrincipals } from './labels/index.ts';
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
  readonly warrant: { readonly id: string; readonly chainHash: string } | null;
  readonly #o: RunAuthorityOptions;
  #label: Label;

  constructor(options: RunAuthorityOptions) {
    this.#o = options;
    this.warrant = options.warrant === null ? null : { id: options.warrant.id, chainHash: options.warrant.chainHash };
    this.#label = options.labels?.start ?? Label.empty();
  }

  async judge(tool: string, args: unknown): Promise<AuthorityVerdict> {
    const byWarrant = this.#byWarrant(tool, args);
    if (!byWarrant.allow) return byWarrant;
    const labels = this.#o.labels;
    if (labels === null) return AUTHORITY_ALLOWS;
    const { decision } = await checkSinkCall({ registry: labels.registry, store: labels.store, tenant: this.#o.tenant, tool, args, run: this.#label, who: labels.who, rules: labels.rules, handles: labels.handles });
    if (decision === undefined) return AUTHORITY_ALLOWS;
    if (!decision.allow) {
      const detail = labelAuditDetail(decision) as unknown as Readonly<Record<string, unknown>>;
      return { allow: false, code: decision.code, message: decision.message, detail };
    }
    // The content's label, as checked, is what a sink's write is stored with: joined in now, as
    // the handler's write may be seen before it returns, and settled by the declared mode in observe.
    const compiled = labels.registry.tool(tool);
    if (compiled !== undefined) reserveSinkWrite({ tool: compiled, store: labels.store, tenant: this.#o.tenant, args, content: decision.content });
    return { allow: true, ticket: decision.content };
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
    if (content !== undefined && compiled !== undefined) {
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
