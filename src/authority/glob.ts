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

const escapeRegExp = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/**
 * An anchored matcher for a glob.
 *
 * @example
 *   compileGlob('mail.*', '.').test('mail.read')          // true
 *   compileGlob('mail.*', '.').test('mail.drafts.read')   // false
 */
export function compileGlob(pattern: string, sep: Separator): RegExp {
  const star = sep === null ? '[\\s\\S]*' : `[^${escapeRegExp(sep)}]*`;
  const body = tokens(pattern)
    .map((t) => (t === 'star' ? star : t === 'globstar' ? '[\\s\\S]*' : escapeRegExp(t.lit)))
    .join('');
  return new RegExp(`^${body}$`);
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
