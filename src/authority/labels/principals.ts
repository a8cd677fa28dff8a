/**
 * Who is who in one run: the user (their addresses and accounts: an implied reader of everything,
 * never an audience) and the principals the host trusts as authors. Integrity is decided here
 * from an object's authors: trusted only when there is at least one author and every author is
 * the user, the host, or a principal the host trusts.
 *
 * @example
 *   const who = runPrincipals({ user: ['me@corp.example'], trusted: ['boss@corp.example'] });
 *   integrityOf(['me@corp.example', 'boss@corp.example'], new Set(), false, who)   // 'trusted'
 */
import type { AuthorMarker } from './declaration.ts';
import { Label, type Atom, type Integrity, type Readers, MAX_PRINCIPAL_CHARS } from './label.ts';

export interface RunPrincipals {
  readonly user: ReadonlySet<string>;
  readonly trusted: ReadonlySet<string>;
}

export function runPrincipals(given: { readonly user: readonly string[]; readonly trusted?: readonly string[] }): RunPrincipals {
  return { user: new Set(given.user), trusted: new Set(given.trusted ?? []) };
}

/** A principal taken from data: a non-empty string of bounded length, never the literal `*`. */
export function asPrincipal(value: unknown): string | null {
  return typeof value === 'string' && value !== '' && value !== '*' && value.length <= MAX_PRINCIPAL_CHARS ? value : null;
}

/**
 * A reader named in a result's data. `web:` principals are airlock's own (the audience of a URL
 * argument): a participant field that says `web:evil.example/collect` is data an attacker may have
 * written, so it never makes a URL a reader (dropping a reader is always the restrictive side).
 */
export function readerFromData(value: unknown): string | null {
  const p = asPrincipal(value);
  return p === null || p.startsWith('web:') ? null : p;
}

/**
 * `incomplete`: an author path met something missing or malformed, so an author may be unseen;
 * the answer is then untrusted.
 */
export function integrityOf(authors: readonly unknown[], markers: ReadonlySet<AuthorMarker>, incomplete: boolean, who: RunPrincipals): Integrity {
  if (incomplete || markers.has('$external')) return 'untrusted';
  if (authors.length === 0 && markers.size === 0) return 'untrusted';
  for (const a of authors) {
    const p = asPrincipal(a);
    if (p === null || !(who.user.has(p) || who.trusted.has(p))) return 'untrusted';
  }
  return 'trusted';
}

/** What the host knows about an object now (its current sharing and authors), from a kind's lookup. */
export interface ObjectFacts {
  readonly readers: '*' | readonly string[];
  /** Principals, or the markers `$user`, `$host`, `$external`. */
  readonly authors: readonly string[];
}

export function atomFromFacts(source: string, facts: ObjectFacts, who: RunPrincipals): Atom {
  const readers: Readers = facts.readers === '*' ? '*' : new Set(facts.readers.map(asPrincipal).filter((p) => p !== null));
  const markers = new Set<AuthorMarker>();
  const named: string[] = [];
  for (const a of facts.authors) {
    if (a === '$user' || a === '$host' || a === '$external') markers.add(a);
    else named.push(a);
  }
  return { source, readers, integrity: integrityOf(named, markers, false, who) };
}

/**
 * The label of something airlock can't read a label from (no declaration, an object without an
 * id, a lookup that found nothing, more than the bounds): readable by the user only, untrusted.
 * Reads still succeed; only what leaves afterwards needs a declassification or an endorsement.
 */
export function unknownLabel(what: string): Label {
  return Label.of([{ source: `unlabelled:${what}`, readers: new Set(), integrity: 'untrusted' }]);
}
