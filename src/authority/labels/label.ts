/**
 * Labels: what a piece of data is, for information flow. A label is a set of atoms, one per source
 * (`mail:thread/t1`), each saying who may read that source (`*` or a set of principals) and whether
 * everyone who wrote it is trusted. Labels only ever rise: `join` is the least upper bound, and
 * nothing here lowers one (declassification widens readers for one sink call only, see check.ts).
 *
 * Same source, two atoms (a file read before and after its sharing changed): the run holds data
 * from both reads and cannot tell which value came from which, so the sound answer is the meet of
 * what each allows — readers intersected, integrity untrusted if either is. This is exactly as
 * precise as keeping both atoms (an audience must be a reader of every atom; declassification is
 * per source, so it releases both or neither; integrity asks whether any atom is untrusted), and
 * keeps a label's size bounded by its number of sources.
 *
 * @example
 *   const l = Label.of([{ source: 'mail:thread/t1', readers: new Set(['a@x', 'b@x']), integrity: 'trusted' }]);
 *   l.join(Label.of([{ source: 'web:evil.example/p', readers: '*', integrity: 'untrusted' }])).canonical();
 */
import { z } from 'zod';
import { AirlockError } from '../../core/errors.ts';
import { canonicalJson } from '../../core/canonical-json.ts';

export type Integrity = 'trusted' | 'untrusted';
/** `*`: everyone. A set: these principals (the run's user is an implied reader of everything). */
export type Readers = '*' | ReadonlySet<string>;

export interface Atom {
  readonly source: string;
  readonly readers: Readers;
  readonly integrity: Integrity;
}

/** An atom as it is written to the audit log and the label store: readers sorted. */
export interface AtomJson {
  readonly source: string;
  readonly readers: '*' | readonly string[];
  readonly integrity: Integrity;
}

/** The most a label's serialised form may hold (the store refuses more rather than truncate). */
export const MAX_ATOMS = 10_000;
export const MAX_PRINCIPAL_CHARS = 512;
export const MAX_SOURCE_CHARS = 1024;

/** Readers both atoms allow: the meet. */
export function meetReaders(a: Readers, b: Readers): Readers {
  if (a === '*') return b;
  if (b === '*') return a;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  const out = new Set<string>();
  for (const p of small) if (large.has(p)) out.add(p);
  return out;
}

/** True when every principal `narrow` allows, `wide` allows too. */
export function readersWithin(narrow: Readers, wide: Readers): boolean {
  if (wide === '*') return true;
  if (narrow === '*') return false;
  for (const p of narrow) if (!wide.has(p)) return false;
  return true;
}

export function mayRead(readers: Readers, principal: string): boolean {
  return readers === '*' || readers.has(principal);
}

function joinAtom(a: Atom, b: Atom): Atom {
  return Object.freeze({
    source: a.source,
    readers: meetReaders(a.readers, b.readers),
    integrity: a.integrity === 'untrusted' || b.integrity === 'untrusted' ? 'untrusted' : 'trusted',
  });
}

/** A copy the caller can't change through a Set it kept. The literal `*` is never a set member. */
function freezeAtom(atom: Atom): Atom {
  let readers: Readers = '*';
  if (atom.readers !== '*') {
    const copy = new Set(atom.readers);
    copy.delete('*');
    readers = copy;
  }
  return Object.freeze({ source: atom.source, readers, integrity: atom.integrity });
}

export class Label {
  readonly #bySource: ReadonlyMap<string, Atom>;

  private constructor(bySource: ReadonlyMap<string, Atom>) {
    this.#bySource = bySource;
  }

  static empty(): Label {
    return new Label(new Map());
  }

  /** Atoms of the same source are joined (see the file's comment). */
  static of(atoms: Iterable<Atom>): Label {
    const map = new Map<string, Atom>();
    for (const raw of atoms) {
      const atom = freezeAtom(raw);
      const had = map.get(atom.source);
      map.set(atom.source, had === undefined ? atom : joinAtom(had, atom));
    }
    return new Label(map);
  }

  /** The least upper bound: union of atoms, same-source atoms met. Commutative, associative, idempotent. */
  join(other: Label): Label {
    if (other.#bySource.size === 0) return this;
    if (this.#bySource.size === 0) return other;
    const map = new Map(this.#bySource);
    for (const [source, atom] of other.#bySource) {
      const had = map.get(source);
      map.set(source, had === undefined ? atom : joinAtom(had, atom));
    }
    return new Label(map);
  }

  /** The join of many labels, building one map (cheaper than joining them one by one). */
  static joinAll(labels: Iterable<Label>): Label {
    const map = new Map<string, Atom>();
    for (const label of labels) {
      for (const [source, atom] of label.#bySource) {
        const had = map.get(source);
        map.set(source, had === undefined ? atom : joinAtom(had, atom));
      }
    }
    return new Label(map);
  }

  get size(): number {
    return this.#bySource.size;
  }

  get(source: string): Atom | undefined {
    return this.#bySource.get(source);
  }

  /** Atoms in source order, so every rendering of a label is the same. */
  atoms(): readonly Atom[] {
    return [...this.#bySource.values()].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  }

  /** Unordered, for hot paths that look at every atom anyway. */
  each(): Iterable<Atom> {
    return this.#bySource.values();
  }

  hasUntrusted(): boolean {
    for (const atom of this.#bySource.values()) if (atom.integrity === 'untrusted') return true;
    return false;
  }

  /** `this ⊑ other`: other is at least as restrictive on every source this has. */
  flowsTo(other: Label): boolean {
    for (const [source, atom] of this.#bySource) {
      const there = other.#bySource.get(source);
      if (there === undefined) return false;
      if (!readersWithin(there.readers, atom.readers)) return false;
      if (atom.integrity === 'untrusted' && there.integrity === 'trusted') return false;
    }
    return true;
  }

  /**
   * One atom standing for all of this label: readers every atom allows, untrusted if any atom is.
   * Sound (nothing can read it that could not read every atom) and coarser: only a rule that
   * releases `source` releases it. For labels past MAX_ATOMS (the store keeps them bounded).
   */
  collapse(source: string): Label {
    let readers: Readers = '*';
    for (const atom of this.#bySource.values()) readers = meetReaders(readers, atom.readers);
    return Label.of([{ source, readers, integrity: this.hasUntrusted() ? 'untrusted' : 'trusted' }]);
  }

  equals(other: Label): boolean {
    return this.flowsTo(other) && other.flowsTo(this);
  }

  toJSON(): AtomJson[] {
    return this.atoms().map((a) => ({ source: a.source, readers: a.readers === '*' ? '*' : [...a.readers].sort(), integrity: a.integrity }));
  }

  /** Canonical JSON for the audit log and the store: equal labels give equal strings. */
  canonical(): string {
    return canonicalJson(this.toJSON(), 'a label');
  }

  /** Parses what `canonical()` wrote; anything else is refused. */
  static fromJson(value: unknown): Label {
    const parsed = labelJsonSchema.safeParse(value);
    if (!parsed.success) throw new AirlockError('INVALID_REQUEST', `a stored label is malformed (${parsed.error.issues[0]?.message ?? 'unknown'}): it was not written by this label store`);
    return Label.of(parsed.data.map((a) => ({ source: a.source, readers: a.readers === '*' ? '*' : new Set(a.readers), integrity: a.integrity })));
  }
}

const principalSchema = z.string().min(1).max(MAX_PRINCIPAL_CHARS);
const labelJsonSchema = z
  .array(
    z.strictObject({
      source: z.string().min(1).max(MAX_SOURCE_CHARS),
      readers: z.union([z.literal('*'), z.array(principalSchema)]),
      integrity: z.enum(['trusted', 'untrusted']),
    }),
  )
  .max(MAX_ATOMS);
