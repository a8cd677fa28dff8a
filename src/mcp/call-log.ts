/**
 * The tool calls a run made that reached their handlers, by run id: code mode answers them beside
 * the run's violations (the calls the bridge refused), so the model sees what its program did.
 * Bounded: a run keeps at most MAX_CALLS entries, and the log forgets the oldest runs past MAX_RUNS.
 *
 * @example
 *   const log = new CallLog();
 *   createAirlock({ tools: { 'mail.read': { ...decl, handler: log.wrap('mail.read', readMail) } } });
 *   const made = log.take(result.id);
 */
import type { ToolDeclaration } from '../runtime/tool-catalog.ts';

type ToolHandler = ToolDeclaration['handler'];
type ToolContext = Parameters<ToolHandler>[1];

const MAX_CALLS = 1000;
const MAX_RUNS = 256;

export interface LoggedCall {
  readonly name: string;
  /** The bridge allowed it; `ok` says whether the handler then answered (false: it failed). */
  readonly allowed: true;
  readonly ok: boolean;
}

export class CallLog {
  readonly #runs = new Map<string, LoggedCall[]>();

  #record(run: string, call: LoggedCall): void {
    let calls = this.#runs.get(run);
    if (calls === undefined) {
      calls = [];
      this.#runs.set(run, calls);
      for (const oldest of this.#runs.keys()) {
        if (this.#runs.size <= MAX_RUNS) break;
        this.#runs.delete(oldest);
      }
    }
    if (calls.length < MAX_CALLS) calls.push(call);
  }

  /** `handler`, recording each call it gets (the bridge calls it only once it allowed the call). */
  wrap(name: string, handler: ToolHandler): ToolHandler {
    return async (args: unknown, context: ToolContext) => {
      try {
        const value: unknown = await handler(args, context);
        this.#record(context.run, { name, allowed: true, ok: true });
        return value;
      } catch (error) {
        this.#record(context.run, { name, allowed: true, ok: false });
        throw error;
      }
    };
  }

  /** The calls run `run` made, in order; forgotten here once taken. */
  take(run: string): LoggedCall[] {
    const calls = this.#runs.get(run) ?? [];
    this.#runs.delete(run);
    return calls;
  }
}
