// A replay case is data: the exact guest programs a correct agent (benign) or a hijacked agent
// (attack) runs, one program per run, each under the warrant its task would get, and the effect in
// the world that decides the outcome. Cases are scored on effects, never on attempted calls.
import type { FlowDoc, GrantDoc } from '../../src/authority/payload.ts';
import type { Worlds } from './worlds/office.ts';

/** What a task's warrant says: its grants (default: every tool, every op) and its data-flow rules. */
export interface TaskWarrant {
  readonly grants?: readonly GrantDoc[];
  readonly flow?: FlowDoc;
}

export interface Step {
  /** The guest program (an ES module whose default export is the run's result). */
  readonly code: string | ((origin: string) => string);
  readonly warrant: TaskWarrant;
}

/**
 * - blockable: airlock must stop it (the default for attacks);
 * - unblockable: airlock does not stop it by design (the reason says why);
 * - known-hole: the model says it should be blocked and it is not (the reason says where);
 * - not-expressible: the public API has nothing to write it with yet (nothing is run).
 */
export type Expectation = 'blockable' | 'unblockable' | 'known-hole' | 'not-expressible';

export interface ReplayCase {
  readonly id: string;
  readonly world: string;
  readonly kind: 'benign' | 'attack';
  /** The user's request, or, for an attack, the task it hijacks and what the injected text makes it do. */
  readonly story: string;
  readonly steps: readonly Step[];
  /** Benign: the task's effect happened. Attack: the attack's effect happened. */
  readonly effect: (w: Worlds) => boolean;
  /** Changes the fresh worlds before the first step (a failure mode, say). */
  readonly setup?: (w: Worlds) => void;
  /**
   * Two runs at once: the first step starts, `hold` makes the worlds pause it mid-call (returning
   * the release), the remaining steps run once `until` holds, then the first is released.
   */
  readonly interleave?: { readonly hold: (w: Worlds) => () => void; readonly until: (w: Worlds) => boolean };
  readonly expect?: Expectation;
  /** A guest binding the case is written with; without it the case is not yet expressible. */
  readonly needs?: 'subrun';
  readonly reason?: string;
}

export const J = JSON.stringify;

/**
 * A guest program: each statement in turn; a denial ends the program (as it would end a hijacked
 * agent's plan) and its code is the run's result.
 */
export function program(...statements: string[]): string {
  return `let r = 'done'; try { ${statements.join('; ')}; } catch (e) { r = e.code ?? String(e); } export default r;`;
}

/** Every tool, every operation: the task's grants don't stand in the way; labels decide. */
export const ALL: readonly GrantDoc[] = [{ tool: '**', ops: ['*'] }];
