/**
 * The host's label registrations, checked whole when they are made: each tool's declaration
 * (declaration.ts) and, for each kind of object a sink can carry or address, the host's lookup of
 * an object's current label (its sharing now, which changes over time). A kind a sink names
 * without a lookup is refused here, not at the first call.
 *
 * @example
 *   const registry = new LabelRegistry({
 *     tools: { 'mail.read': { reveals: [...] }, 'mail.forward': { sink: { audience: [...], carries: [{ kind: 'mail:thread', id: 'threadId' }] } } },
 *     kinds: { 'mail:thread': { currentLabel: (id) => db.threadFacts(id) } },
 *   });
 */
import { AirlockError } from '../../core/errors.ts';
import { compileToolLabels, KIND, type CompiledToolLabels } from './declaration.ts';
import type { ObjectFacts } from './principals.ts';

export interface KindLookup {
  /** The object's readers and authors now; undefined when there is no such object. */
  currentLabel(id: string): Promise<ObjectFacts | undefined> | ObjectFacts | undefined;
}

export class LabelRegistry {
  readonly #tools = new Map<string, CompiledToolLabels>();
  readonly #kinds = new Map<string, KindLookup>();

  constructor(given: { readonly tools: Readonly<Record<string, unknown>>; readonly kinds?: Readonly<Record<string, KindLookup>> }) {
    const problems: string[] = [];
    for (const [kind, lookup] of Object.entries(given.kinds ?? {})) {
      if (!KIND.test(kind)) problems.push(`kinds.${kind}: a kind is lowercase letters, digits and . _ : - (no /)`);
      else if (typeof (lookup as Partial<KindLookup> | null)?.currentLabel !== 'function') problems.push(`kinds.${kind}: give it currentLabel(id)`);
      else this.#kinds.set(kind, lookup);
    }
    for (const [name, declaration] of Object.entries(given.tools)) {
      try {
        const compiled = compileToolLabels(name, declaration);
        for (const kind of compiled.lookupKinds) if (!this.#kinds.has(kind)) problems.push(`tools.${name}: kind "${kind}" has no currentLabel lookup in kinds`);
        this.#tools.set(name, compiled);
      } catch (error) {
        problems.push(error instanceof Error ? error.message : String(error));
      }
    }
    if (problems.length > 0) throw new AirlockError('INVALID_REQUEST', `the label registrations are invalid: ${problems.join('; ')}`);
  }

  tool(name: string): CompiledToolLabels | undefined {
    return this.#tools.get(name);
  }

  lookup(kind: string): KindLookup | undefined {
    return this.#kinds.get(kind);
  }
}
