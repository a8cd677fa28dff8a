/**
 * The host's tools: each a handler, and what a call to it means, declared by the host beside the
 * handler (never by a request): its operation (a lowercase verb), the resources a call touches
 * (templates over its arguments) and its information-flow declaration (reveals, sink). Warrants
 * authorize by the operation and resources; labels by the flow declaration. A request's policy
 * may only repeat a declared operation, never change it: a policy that said `mail.delete` is a
 * `read` would otherwise walk past a read-only warrant.
 *
 * @example
 *   createAirlock({ tools: {
 *     lookup: async ({ id }) => db.get(id),                               // a handler alone
 *     'mail.read': { handler: readMail, operation: 'read', resources: ['mail:thread/{threadId}'] },
 *   } });
 */
import { AirlockError } from '../core/errors.ts';
import type { ToolHandler } from '../isolate/tool-bridge.ts';
import type { CompiledPolicy } from '../policy/compile.ts';

export interface ToolDeclaration {
  readonly handler: ToolHandler;
  /** What a call does to the world: a lowercase verb (read, write, send, pay…). */
  readonly operation: string;
  /** Resource templates over the arguments (docs/warrant-format.md): `mail:thread/{threadId}`. */
  readonly resources?: readonly string[];
  /** What a call's result reveals and, for a sink, its audience (docs/labels.md). */
  readonly labels?: unknown;
  readonly description?: string;
}

export type ToolEntry = ToolHandler | ToolDeclaration;

export interface DeclaredTool {
  readonly name: string;
  /** null: the host registered a handler alone, and declared nothing about it. */
  readonly operation: string | null;
  readonly resources: readonly string[];
  readonly labels: unknown;
}

export class ToolCatalog {
  readonly handlers: Readonly<Record<string, ToolHandler>>;
  readonly #declared = new Map<string, DeclaredTool>();

  constructor(entries: Readonly<Record<string, ToolEntry>>) {
    const handlers: Record<string, ToolHandler> = Object.create(null) as Record<string, ToolHandler>;
    for (const [name, entry] of Object.entries(entries)) {
      if (typeof entry === 'function') {
        handlers[name] = entry;
        this.#declared.set(name, { name, operation: null, resources: [], labels: undefined });
      } else {
        handlers[name] = entry.handler;
        this.#declared.set(name, { name, operation: entry.operation, resources: entry.resources ?? [], labels: entry.labels });
      }
    }
    this.handlers = Object.freeze(handlers);
  }

  names(): readonly string[] {
    return [...this.#declared.keys()];
  }

  declared(name: string): DeclaredTool | undefined {
    return this.#declared.get(name);
  }

  /** The host's declarations that have a flow declaration, by name (for the label registry). */
  labelled(): Record<string, unknown> {
    return Object.fromEntries([...this.#declared.values()].filter((d) => d.labels !== undefined).map((d) => [d.name, d.labels]));
  }

  /**
   * Refuses a policy that grants a tool this host has no handler for, or that calls a declared
   * tool by another operation (INVALID_POLICY, naming each).
   */
  check(policy: CompiledPolicy): void {
    const problems: string[] = [];
    for (const [name, grant] of policy.tools) {
      const declared = this.#declared.get(name);
      if (declared === undefined) problems.push(`the policy grants "${name}", which this host has no handler for: register it in createAirlock({ tools })`);
      else if (declared.operation !== null && declared.operation !== grant.operation) {
        problems.push(`the policy calls "${name}" a "${grant.operation}" tool, but the host declares it "${declared.operation}": a policy can't change what a tool does; write operation "${declared.operation}"`);
      }
    }
    if (problems.length > 0) throw new AirlockError('INVALID_POLICY', problems.join('; '));
  }
}
