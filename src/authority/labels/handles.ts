/**
 * Handles: opaque references a run holds to values it has not seen (a sub-run's result returned
 * as a handle). The value and its label stay on the host; the guest gets an unguessable id.
 * Holding a handle leaves the run's label as it is; passing it to a sink adds its label to that
 * sink's check (`usesIn`) and the handler gets its value (`substitute`); `unwrap` gives the value
 * and joins the label into the run's. One table
 * per run, owned by the caller.
 *
 * @example
 *   const handles = new HandleTable();
 *   const id = handles.create(childResult, childLabel);
 *   const { value, label } = handles.unwrap(id, runLabel);   // runLabel ⊑ label
 */
import { randomUUID } from 'node:crypto';
import { AirlockError } from '../../core/errors.ts';
import type { HandleUse } from './check.ts';
import type { Label } from './label.ts';

const PREFIX = 'hdl_';
const MAX_DEPTH = 32;
const MAX_NODES = 10_000;

export class HandleTable {
  readonly #entries = new Map<string, { readonly value: unknown; readonly label: Label }>();

  create(value: unknown, label: Label): string {
    const id = `${PREFIX}${randomUUID()}`;
    this.#entries.set(id, { value, label });
    return id;
  }

  labelOf(id: string): Label | undefined {
    return this.#entries.get(id)?.label;
  }

  /** The value, and the run's label joined with the handle's: a run that looks at a value is labelled by it. */
  unwrap(id: string, run: Label): { readonly value: unknown; readonly label: Label } {
    const entry = this.#entries.get(id);
    if (entry === undefined) throw new AirlockError('TOOL_ARGS_INVALID', `${JSON.stringify(id.slice(0, 64))} is not a handle of this run: pass a handle a sub-run of this run returned`);
    return { value: entry.value, label: run.join(entry.label) };
  }

  /**
   * Every handle of this run found anywhere in a call's arguments, with the top-level argument it
   * sits in. Arguments too deep or too large to search are refused: a handle could hide there.
   */
  usesIn(args: unknown): HandleUse[] {
    const uses: HandleUse[] = [];
    if (this.#entries.size === 0) return uses;
    let nodes = 0;
    const walk = (value: unknown, argument: string, depth: number): void => {
      if (++nodes > MAX_NODES || depth > MAX_DEPTH) {
        throw new AirlockError('TOOL_ARGS_INVALID', `the arguments are too large or deep to check for handles (over ${MAX_NODES} values or ${MAX_DEPTH} levels): pass less`);
      }
      if (typeof value === 'string') {
        const entry = value.startsWith(PREFIX) ? this.#entries.get(value) : undefined;
        if (entry !== undefined) uses.push({ argument, label: entry.label });
      } else if (Array.isArray(value)) {
        for (const v of value as unknown[]) walk(v, argument, depth + 1);
      } else if (typeof value === 'object' && value !== null) {
        for (const [k, v] of Object.entries(value)) walk(v, depth === 0 ? k : argument, depth + 1);
      }
    };
    walk(args, '', 0);
    return uses;
  }

  /**
   * The arguments with every value that is one of this run's handle ids replaced by the value it
   * stands for: what the handler gets. Only a whole string is a handle; the rest is copied as is.
   * Call after `usesIn`, which bounds the arguments' size.
   */
  substitute(args: unknown): unknown {
    const swap = (value: unknown): unknown => {
      if (typeof value === 'string') return value.startsWith(PREFIX) && this.#entries.has(value) ? this.#entries.get(value)?.value : value;
      if (Array.isArray(value)) return (value as unknown[]).map(swap);
      if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, swap(v)]));
      return value;
    };
    return swap(args);
  }

  get size(): number {
    return this.#entries.size;
  }
}
