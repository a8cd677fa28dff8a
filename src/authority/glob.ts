/**
 * The one glob language of warrants: `*` matches any run of characters except the separator,
 * `**` any run at all; everything else is literal. Tools separate on `.`, resources on `/`, and
 * argument and flow globs have no separator (`*` matches anything).
 */
export type Separator = '.' | '/' | null;

type Token = { readonly lit: string } | 'star' | 'globstar';

function tokens(pattern: string): Token[] {
  const out: Token[] = [];
  for (const part of pattern.split(/(\*+)/)) {
    if (part === '') continue;
    if (part.startsWith('*')) out.push(part.length === 1 ? 'star' : 'globstar');
    else out.push({ lit: part });
  }
  return out;
}

/** A compiled glob: `test` runs in time linear in the text for each pattern element, never backtracking. */
export interface Glob {
  readonly source: string;
  test(text: string): boolean;
}

/**
 * A matcher for a glob. Linear, not a RegExp: a warrant's globs may come from whoever attenuates
 * it, and a backtracking `*a*a*a…c` over a long argument would hold the host's CPU for hours.
 *
 * @example
 *   compileGlob('mail.*', '.').test('mail.read')          // true
 *   compileGlob('mail.*', '.').test('mail.drafts.read')   // false
 */
export function compileGlob(pattern: string, sep: Separator): Glob {
  const parts = tokens(pattern);
  const wildcards = parts.filter((t) => typeof t === 'string');
  if (wildcards.length === 0) return { source: pattern, test: (text) => text === pattern };
  if (parts.length <= 3 && wildcards.length === 1) {
    // One wildcard between a literal prefix and suffix: the common case (`mail.*`, `*@x.com`, `**`).
    const at = parts.findIndex((t) => typeof t === 'string');
    const prefix = at > 0 ? (parts[0] as { lit: string }).lit : '';
    const suffix = at < parts.length - 1 ? (parts[at + 1] as { lit: string }).lit : '';
    const crosses = parts[at] === 'globstar' || sep === null;
    return {
      source: pattern,
      test: (text) =>
        text.length >= prefix.length + suffix.length &&
        text.startsWith(prefix) &&
        text.endsWith(suffix) &&
        (crosses || !text.slice(prefix.length, text.length - suffix.length).includes(sep)),
    };
  }
  return { source: pattern, test: simulator(pattern, sep) };
}

/**
 * Thompson simulation: the set of pattern positions reachable after each UTF-16 unit, kept as a
 * list (no rescanning of dead positions) and marked by generation (no clearing). O(text × pattern).
 * The scratch arrays belong to one compiled glob; matching is synchronous, so they are never shared.
 */
function simulator(pattern: string, sep: Separator): (text: string) => boolean {
  // Literal units as their codes; -1 a `*`, -2 a `**` (or a `*` with no separator).
  const codes: number[] = [];
  for (const t of tokens(pattern)) {
    if (t === 'star') codes.push(sep === null ? -2 : -1);
    else if (t === 'globstar') codes.push(-2);
    else for (let k = 0; k < t.lit.length; k++) codes.push(t.lit.charCodeAt(k));
  }
  const elems = Int32Array.from(codes);
  const sepCode = sep === null ? -3 : sep.charCodeAt(0);
  const m = elems.length;
  const mark = new Float64Array(m + 1);
  let current = new Int32Array(m + 1);
  let following = new Int32Array(m + 1);
  let generation = 0;
  /** Adds p, and the positions after any wildcards from p (a wildcard may match nothing). */
  const add = (list: Int32Array, size: number, from: number): number => {
    let n = size;
    for (let p = from; p <= m && mark[p] !== generation; p++) {
      mark[p] = generation;
      list[n++] = p;
      if (p === m || (elems[p] as number) >= 0) break;
    }
    return n;
  };
  return (text) => {
    generation++;
    let size = add(current, 0, 0);
    for (let k = 0; k < text.length; k++) {
      const unit = text.charCodeAt(k);
      generation++;
      let n = 0;
      for (let i = 0; i < size; i++) {
        const p = current[i] as number;
        const e = elems[p] as number;
        if (e === -2 || (e === -1 && unit !== sepCode)) n = add(following, n, p);
        else if (e === unit) n = add(following, n, p + 1);
      }
      if (n === 0) return false;
      [current, following] = [following, current];
      size = n;
    }
    for (let i = 0; i < size; i++) if (current[i] === m) return true;
    return false;
  };
}

const STAR = 0;
const GLOBSTAR = 1;
/** One element of a pattern for comparing two globs: a literal character (a string) or a wildcard. */
type Element = string | typeof STAR | typeof GLOBSTAR;

function elements(pattern: string, sep: Separator): Element[] {
  const out: Element[] = [];
  for (const t of tokens(pattern)) {
    if (t === 'star') out.push(sep === null ? GLOBSTAR : STAR);
    else if (t === 'globstar') out.push(GLOBSTAR);
    else out.push(...Array.from(t.lit));
  }
  return out;
}

/**
 * True only when every string the child glob matches, the parent glob matches too (sound, not
 * complete: an unusual narrowing may be answered false). Used to refuse obvious widening when
 * attenuating; soundness of authorization never depends on it.
 *
 * @example
 *   globCovers('mail:**', 'mail:thread/*', '/')   // true
 *   globCovers('mail:thread/*', 'mail:**', '/')   // false
 */
export function globCovers(parent: string, child: string, sep: Separator): boolean {
  const p = elements(parent, sep);
  const c = elements(child, sep);
  // can[j] after processing parent element i: parent[0..i) can consume child[0..j).
  let can = new Array<boolean>(c.length + 1).fill(false);
  can[0] = true;
  for (const pe of p) {
    const next = new Array<boolean>(c.length + 1).fill(false);
    if (pe === GLOBSTAR || pe === STAR) {
      // A wildcard consumes a run of child elements it can stand for.
      const takes = (ce: Element): boolean => pe === GLOBSTAR || (ce !== GLOBSTAR && ce !== sep);
      for (let j = 0; j <= c.length; j++) {
        next[j] = can[j] === true || (j > 0 && next[j - 1] === true && takes(c[j - 1] as Element));
      }
    } else {
      for (let j = 1; j <= c.length; j++) next[j] = can[j - 1] === true && c[j - 1] === pe;
    }
    can = next;
  }
  return can[c.length] === true;
}
