/**
 * JSON text parsed as one meaning only. JSON.parse keeps the last of two equal keys, while other
 * parsers keep the first or refuse: a policy file with `"tools"` twice reads one way to whoever
 * reviewed it (or to another tool that checks it) and another way to airlock. A document that holds
 * the same key twice in one object is refused, naming the key and where it is.
 *
 * The check walks the text with jsonc-parser's visitor (comments and trailing commas are errors
 * too); JSON.parse then builds the value, so what is accepted means exactly what it always did.
 */
import { visit } from 'jsonc-parser';

export type StrictJson = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string };

/** The JSON path of a visitor location, as `$.a[0].b`. */
function pathText(path: readonly (string | number)[]): string {
  return `$${path.map((p) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join('')}`;
}

/**
 * @example
 *   parseStrictJson('{"a": 1, "a": 2}')  // { ok: false, problem: 'the key "a" appears twice in $ (line 1)' }
 *   parseStrictJson('{"a": 1}')          // { ok: true, value: { a: 1 } }
 */
export function parseStrictJson(text: string): StrictJson {
  let duplicate: string | null;
  try {
    duplicate = firstDuplicate(text);
  } catch {
    // The visitor recurses: a document nested past its stack is no policy or request anyone wrote.
    return { ok: false, problem: 'it is nested too deeply to read' };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: (error as Error).message };
  }
  return duplicate === null ? { ok: true, value } : { ok: false, problem: duplicate };
}

/** The first key written twice in one object, described; null when there is none. */
function firstDuplicate(text: string): string | null {
  const open: Set<string>[] = [];
  const found: string[] = [];
  visit(
    text,
    {
      onObjectBegin: () => {
        open.push(new Set());
      },
      onObjectEnd: () => {
        open.pop();
      },
      onObjectProperty: (key, _offset, _length, line, _column, pathSupplier) => {
        const keys = open.at(-1);
        if (keys === undefined) return;
        if (keys.has(key)) found.push(`the key ${JSON.stringify(key)} appears twice in ${pathText(pathSupplier())} (line ${line + 1})`);
        keys.add(key);
      },
    },
    { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false },
  );
  return found[0] ?? null;
}
