/**
 * Paths into a tool's returned data or a call's arguments: `messages[].from`, `participants[]`,
 * `shared{}` (the keys of an object), `to`, `[]` (each element of an array root), `` (the value
 * itself). Extraction is bounded (segments, values) and reads objects' own data properties only:
 * a getter on an object is never run, a prototype is never read, and `__proto__`, `constructor`
 * and `prototype` can't be named. Whatever throws on the way (a Proxy) makes the answer malformed.
 *
 * @example
 *   extract(parsePath('messages[].from'), { messages: [{ from: 'a@x' }, { from: 'b@x' }] })
 *   // { values: ['a@x', 'b@x'], incomplete: false }
 */
export const MAX_SEGMENTS = 16;
/** Values one path may yield, and nodes it may visit on the way: past this the answer is `incomplete`. */
export const MAX_VALUES = 10_000;

export interface Segment {
  /** Own property to step into; '' stays on the current value. */
  readonly name: string;
  /** `each`: every element of an array; `keys`: every own key of an object (last segment only). */
  readonly expand: 'one' | 'each' | 'keys';
}
export type Path = readonly Segment[];

const SEGMENT = /^([A-Za-z0-9_-]*)(\[\]|\{\})?$/;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** The problem with a path, or null when it is well formed. */
export function pathProblem(text: string): string | null {
  if (text === '') return null;
  const parts = text.split('.');
  if (parts.length > MAX_SEGMENTS) return `a path has at most ${MAX_SEGMENTS} segments`;
  for (const [i, part] of parts.entries()) {
    const m = SEGMENT.exec(part);
    if (m === null) return `"${part}" is not a path segment (letters, digits, _ and -, then optionally [] or {})`;
    const name = m[1] ?? '';
    if (FORBIDDEN.has(name)) return `"${name}" can't be named in a path`;
    if (name === '' && m[2] === undefined) return 'a path segment is empty';
    if (m[2] === '{}' && i !== parts.length - 1) return '{} (the keys of an object) can only end a path';
  }
  return null;
}

/** Parses a path already checked by `pathProblem` (declarations are validated before this). */
export function parsePath(text: string): Path {
  const problem = pathProblem(text);
  if (problem !== null) throw new Error(`bad path ${JSON.stringify(text)}: ${problem}`);
  if (text === '') return [];
  return text.split('.').map((part) => {
    const m = SEGMENT.exec(part) as RegExpExecArray;
    const expand = m[2] === '[]' ? 'each' : m[2] === '{}' ? 'keys' : 'one';
    return { name: m[1] ?? '', expand };
  });
}

/** An own data property; `GETTER` when the property is an accessor (never run). */
const GETTER = Symbol('getter');
function own(node: unknown, name: string): unknown {
  if (name === '') return node;
  if (typeof node !== 'object' || node === null) return undefined;
  const d = Object.getOwnPropertyDescriptor(node, name);
  if (d === undefined) return undefined;
  return 'value' in d ? (d.value as unknown) : GETTER;
}

export interface Extracted {
  readonly values: readonly unknown[];
  /** Something on the way was missing, or `malformed`. */
  readonly incomplete: boolean;
  /** Something on the way had the wrong shape, was a getter, or went past the bounds: a value may be unseen. */
  readonly malformed: boolean;
}

export function extract(path: Path, root: unknown): Extracted {
  try {
    return walk(path, root);
  } catch {
    return { values: [], incomplete: true, malformed: true };
  }
}

function walk(path: Path, root: unknown): Extracted {
  let current: unknown[] = [root];
  let incomplete = false;
  let malformed = false;
  for (const seg of path) {
    const next: unknown[] = [];
    for (const node of current) {
      // Stepping into a string or number: the data is not the shape declared.
      if (seg.name !== '' && node !== null && typeof node !== 'object') {
        malformed = true;
        continue;
      }
      const v = own(node, seg.name);
      if (v === undefined) {
        incomplete = true;
        continue;
      }
      if (v === GETTER) {
        malformed = true;
        continue;
      }
      if (seg.expand === 'one') {
        next.push(v);
      } else if (seg.expand === 'each') {
        if (!Array.isArray(v)) {
          malformed = true;
          continue;
        }
        // Elements are read directly: a descriptor per index costs ~25x more, and an accessor on an
        // array index is not something a tool's data has (object properties are still checked).
        const items = v as readonly unknown[];
        for (let i = 0; i < items.length; i++) {
          if (!(i in items)) malformed = true;
          else next.push(items[i]);
          if (next.length >= MAX_VALUES) break;
        }
      } else if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
        for (const key of Object.keys(v)) {
          next.push(key);
          if (next.length >= MAX_VALUES) break;
        }
      } else {
        malformed = true;
      }
      if (next.length >= MAX_VALUES) {
        malformed = true;
        break;
      }
    }
    current = next;
  }
  return { values: current, incomplete: incomplete || malformed, malformed };
}

/** A scalar as the text of an id or principal; anything else is null. */
export function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return null;
}
