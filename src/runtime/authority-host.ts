/**
 * The host's side of warrants and labels: the trusted keys and revocations a warrant is verified
 * against (verified chains cached per tenant), the label registry (the tools' flow declarations and
 * the host's lookups of an object's current readers) and the label store. For each run it makes
 * that run's authority (authority/run-authority.ts), or none when the run has no warrant and no
 * tool declares labels.
 *
 * @example
 *   createAirlock({
 *     tools: { 'mail.read': { handler, operation: 'read', resources: ['mail:thread/{threadId}'], labels: { reveals: [...] } } },
 *     warrants: { trustedKeys: new Map([[kid, publicKey]]) },
 *     labels: { principals: (tenant) => ({ user: ['me@corp.example'] }), kinds: { 'mail:thread': { currentLabel } } },
 *   });
 *   await airlock.run({ code, policy, warrant: token });
 */
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { AuditSink } from '../audit/event.ts';
import type { TierResult } from '../core/result.ts';
import type { CallAuthority } from '../policy/authority.ts';
import { AirlockError, toAirlockError } from '../core/errors.ts';
import { WarrantCache } from '../authority/cache.ts';
import { compileFlowRules, HandleTable, Label, LabelRegistry, LabelStore, NO_FLOW_RULES, runPrincipals, type FlowLevel, type FlowRules, type KindLookup } from '../authority/labels/index.ts';
import type { FlowDoc } from '../authority/payload.ts';
import { compileResourceTemplate, type ResourceTemplate } from '../authority/resources.ts';
import { RunAuthority, type AuthorityTool } from '../authority/run-authority.ts';
import type { VerifiedWarrant } from '../authority/verify.ts';
import type { ToolCatalog } from './tool-catalog.ts';

export interface WarrantOptions {
  /** Root public keys by key id (`airlock warrant keygen --trust` writes them under AIRLOCK_HOME). */
  readonly trustedKeys: ReadonlyMap<string, KeyObject> | (() => ReadonlyMap<string, KeyObject>);
  /** Revoked warrant ids, read at each verification. */
  readonly revoked?: () => ReadonlySet<string>;
}

export interface LabelOptions {
  /** A run's user (an implied reader of everything, never an audience) and the authors the host trusts. */
  readonly principals?: (tenant: string) => { readonly user: readonly string[]; readonly trusted?: readonly string[] };
  /** For each kind of object a sink can carry or address: its current readers and authors. */
  readonly kinds?: Readonly<Record<string, KindLookup>>;
}

const NO_REVOCATIONS: ReadonlySet<string> = new Set();

/** A warrant level's data-flow fields as the label engine reads them (`tool.argument` split at its last dot). */
function flowLevel(flow: FlowDoc | undefined): FlowLevel {
  if (flow === undefined) return {};
  const split = (arg: string): { tool: string; argument: string } => {
    const dot = arg.lastIndexOf('.');
    // No dot names no argument of any tool: it matches nothing.
    return dot <= 0 ? { tool: arg, argument: '\u0000' } : { tool: arg.slice(0, dot), argument: arg.slice(dot + 1) };
  };
  return {
    ...(flow.declassify === undefined ? {} : { declassify: flow.declassify.map((r) => ({ from: [...r.from], to: [...r.to] })) }),
    ...(flow.endorse === undefined ? {} : { endorse: flow.endorse.map((r) => ({ ...split(r.arg), values: r.values.filter((v): v is string | number | boolean => v !== null) })).filter((r) => r.values.length > 0) }),
    ...(flow.waive === undefined ? {} : { waive: flow.waive.map(split) }),
  };
}

export class AuthorityHost implements Disposable {
  readonly #warrants: WarrantOptions | undefined;
  readonly #cache = new WarrantCache();
  readonly #principals: LabelOptions['principals'];
  readonly #registry: LabelRegistry | null;
  readonly #store: LabelStore | null;
  readonly #tools = new Map<string, AuthorityTool>();
  readonly #audit: AuditSink;

  constructor(options: { readonly home: string; readonly catalog: ToolCatalog; readonly warrants?: WarrantOptions | undefined; readonly labels?: LabelOptions | undefined; readonly audit: AuditSink }) {
    this.#warrants = options.warrants;
    this.#audit = options.audit;
    this.#principals = options.labels?.principals;
    const problems: string[] = [];
    for (const name of options.catalog.names()) {
      const declared = options.catalog.declared(name);
      if (declared === undefined) continue;
      const resources: ResourceTemplate[] = [];
      for (const template of declared.resources) {
        try {
          resources.push(compileResourceTemplate(template));
        } catch (error) {
          problems.push(`tools.${name}.resources: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      this.#tools.set(name, { operation: declared.operation, resources });
    }
    if (problems.length > 0) throw new AirlockError('INVALID_REQUEST', `the tool declarations are invalid: ${problems.join('; ')}`);
    const labelled = options.catalog.labelled();
    const useLabels = Object.keys(labelled).length > 0 || options.labels !== undefined;
    this.#registry = useLabels ? new LabelRegistry({ tools: labelled, kinds: options.labels?.kinds ?? {} }) : null;
    this.#store = useLabels ? new LabelStore(join(options.home, 'labels.db')) : null;
  }

  /** Verifies a run's warrant for its tenant (cached by token); throws its WARRANT_* refusal. */
  #verify(token: string, tenant: string, now: number): VerifiedWarrant {
    const warrants = this.#warrants;
    if (warrants === undefined) throw new AirlockError('WARRANT_KEY_UNTRUSTED', 'this host trusts no warrant keys: give createAirlock({ warrants: { trustedKeys } }), or run without a warrant');
    const trustedKeys = typeof warrants.trustedKeys === 'function' ? warrants.trustedKeys() : warrants.trustedKeys;
    return this.#cache.verify(token, { trustedKeys, now, revoked: warrants.revoked?.() ?? NO_REVOCATIONS, tenant });
  }

  /**
   * A run's warrant is verified before anything of it is made: a refused warrant (invalid, expired,
   * revoked, an untrusted key) is a decision on the record, and the run never starts.
   */
  #verifyRecorded(token: string, run: { readonly tenant: string; readonly sandbox: string; readonly id: string }): VerifiedWarrant {
    try {
      return this.#verify(token, run.tenant, Date.now());
    } catch (error) {
      const refused = toAirlockError(error, 'WARRANT_INVALID');
      this.#audit.append({ kind: 'decision', tenant: run.tenant, sandbox: run.sandbox, run: run.id, door: 'tool', subject: 'warrant', allow: false, reason: refused.code, detail: { message: refused.message.slice(0, 512) } });
      throw refused;
    }
  }

  /**
   * The authority of one run, or null when it has neither a warrant nor labels to keep nor
   * sub-runs to hold handles of. A sub-run starts from its parent's label (`start`).
   */
  forRun(run: {
    readonly tenant: string;
    readonly sandbox: string;
    readonly id: string;
    readonly warrant?: string | undefined;
    readonly start?: Label | undefined;
    readonly delegation?: 'granted' | 'none';
  }): RunAuthority | null {
    const warrant = run.warrant === undefined ? null : this.#verifyRecorded(run.warrant, run);
    if (warrant === null && this.#registry === null && run.delegation !== 'granted') return null;
    const rules: FlowRules = warrant === null ? NO_FLOW_RULES : compileFlowRules(warrant.levels.map((l) => flowLevel(l.payload.flow)));
    const labels =
      this.#registry === null || this.#store === null
        ? null
        : { registry: this.#registry, store: this.#store, who: runPrincipals(this.#principals?.(run.tenant) ?? { user: [] }), rules, handles: new HandleTable(), start: run.start ?? Label.empty() };
    return new RunAuthority({ tenant: run.tenant, sandbox: run.sandbox, run: run.id, warrant, tools: (name) => this.#tools.get(name), labels, audit: this.#audit });
  }

  [Symbol.dispose](): void {
    this.#store?.[Symbol.dispose]();
  }
}

/** The run's label, when it keeps one, in its result (and so in run.ended). */
export function withLabel(result: TierResult, authority: CallAuthority | null): TierResult {
  const label = authority?.label() ?? null;
  return label === null ? result : { ...result, label };
}
