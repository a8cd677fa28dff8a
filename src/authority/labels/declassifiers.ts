/**
 * Host-registered declassifiers: callbacks (a person's approval, a data-loss-prevention service)
 * asked about a confidentiality denial, each answering which of the blocked (source, principal)
 * pairs it releases for this one call. A release never reaches beyond what was asked; a callback
 * that throws or answers malformed data releases nothing (fail closed). The caller audits the
 * request and the label before and after (`labelAfterRelease`), then checks again with the
 * releases.
 *
 * @example
 *   const declassifiers = new Declassifiers([{ name: 'ask-user', decide: async (req) => (await prompt(req)) ? req.blocked.map((b) => ({ source: b.source, to: b.principals })) : [] }]);
 *   const { releases } = await declassifiers.ask({ tool, args, blocked: denial.blocked });
 *   const again = checkSink({ ...check, releases });
 */
import { z } from 'zod';
import { AirlockError } from '../../core/errors.ts';
import type { Blocked, Release } from './check.ts';
import { Label } from './label.ts';

export interface DeclassifyRequest {
  readonly tool: string;
  readonly args: unknown;
  readonly blocked: readonly Blocked[];
}

export interface Declassifier {
  readonly name: string;
  decide(request: DeclassifyRequest): Promise<readonly Release[]> | readonly Release[];
}

export interface DeclassifierOutcome {
  readonly name: string;
  readonly releases: readonly Release[];
  /** Why it released nothing, when it failed. */
  readonly error?: string;
}

const releasesSchema = z.array(z.strictObject({ source: z.string(), to: z.array(z.string()) })).max(1000);

export class Declassifiers {
  readonly #list: readonly Declassifier[];

  constructor(list: readonly Declassifier[]) {
    const names = new Set<string>();
    for (const d of list) {
      if (typeof d.name !== 'string' || d.name === '' || typeof d.decide !== 'function') throw new AirlockError('INVALID_REQUEST', 'a declassifier is { name, decide(request) }: give each a name and a decide function');
      if (names.has(d.name)) throw new AirlockError('INVALID_REQUEST', `two declassifiers are named "${d.name}": give each its own name`);
      names.add(d.name);
    }
    this.#list = [...list];
  }

  /** Asks each declassifier in order about what is still blocked; stops when nothing is. */
  async ask(request: DeclassifyRequest): Promise<{ readonly releases: readonly Release[]; readonly outcomes: readonly DeclassifierOutcome[] }> {
    let open = request.blocked.map((b) => ({ source: b.source, readers: b.readers, principals: [...b.principals] }));
    const releases: Release[] = [];
    const outcomes: DeclassifierOutcome[] = [];
    for (const d of this.#list) {
      if (open.length === 0) break;
      let answer: unknown;
      try {
        answer = await d.decide({ tool: request.tool, args: request.args, blocked: open.map((b) => ({ ...b, principals: [...b.principals] })) });
      } catch (error) {
        outcomes.push({ name: d.name, releases: [], error: error instanceof Error ? error.message : String(error) });
        continue;
      }
      const parsed = releasesSchema.safeParse(answer);
      if (!parsed.success) {
        outcomes.push({ name: d.name, releases: [], error: 'answered something other than [{ source, to: [principal] }]' });
        continue;
      }
      // Only what was asked: a declassifier can't release a source or principal nobody asked about.
      const granted: Release[] = [];
      for (const r of parsed.data) {
        const asked = open.find((b) => b.source === r.source);
        if (asked === undefined) continue;
        const to = r.to.filter((p) => asked.principals.includes(p));
        if (to.length > 0) granted.push({ source: r.source, to });
      }
      outcomes.push({ name: d.name, releases: granted });
      releases.push(...granted);
      open = open
        .map((b) => ({ ...b, principals: b.principals.filter((p) => !granted.some((g) => g.source === b.source && g.to.includes(p))) }))
        .filter((b) => b.principals.length > 0);
    }
    return { releases, outcomes };
  }
}

/** The content label as the released call sees it: each released source readable by its new principals too. For the audit's "after". */
export function labelAfterRelease(content: Label, releases: readonly Release[]): Label {
  return Label.of(
    content.atoms().map((a) => {
      const to = releases.filter((r) => r.source === a.source).flatMap((r) => r.to);
      if (to.length === 0 || a.readers === '*') return a;
      return { ...a, readers: to.includes('*') ? '*' : new Set([...a.readers, ...to]) };
    }),
  );
}
