/**
 * Tool arguments reach host handlers as plain data. JSON.parse makes `"__proto__"` an own key, and
 * a handler that merges its arguments naively into an object (`Object.assign`-style deep merges,
 * `target[k] = …` walks) then writes to a prototype shared by the whole host: every tenant's
 * objects change. Keys that name prototypes are refused, wherever they sit in the arguments.
 */

/** Keys through which a naive merge reaches a prototype. */
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The path of the first key of `value` that names a prototype (`a.b.__proto__`), or null.
 * Walks with its own stack: arguments nested deeper than the host's call stack are still checked.
 *
 * @example
 *   prototypeKey(JSON.parse('{"a":{"__proto__":{"x":1}}}')) // 'a.__proto__'
 */
export function prototypeKey(value: unknown): string | null {
  const stack: { readonly at: string; readonly value: unknown }[] = [{ at: '', value }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (next.value === null || typeof next.value !== 'object') continue;
    for (const key of Object.keys(next.value)) {
      const at = next.at === '' ? key : `${next.at}.${key}`;
      if (PROTOTYPE_KEYS.has(key)) return at;
      stack.push({ at, value: (next.value as Record<string, unknown>)[key] });
    }
  }
  return null;
}
