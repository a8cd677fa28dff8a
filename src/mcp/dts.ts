/**
 * Code mode's typed API: a TypeScript declaration (`.d.ts`) of a set of tools, generated from their
 * JSON Schemas, which are untrusted (an upstream MCP server writes them). So this is our own small
 * generator, not json-schema-to-typescript (which fetches URLs and reads files a `$ref` names):
 * only local `#/…` refs are followed, never a URL or a file; depth, ref expansions and output size
 * are bounded (past a bound the type is `unknown`); property names that are not identifiers are
 * written as JSON string literals (`"__proto__"` is then just a key); doc comments have `*\/`
 * broken and control characters removed, so no schema text can end a comment and become code.
 *
 * @example
 *   toolsDts([{ name: 'mail.read', description: 'Read a thread', inputSchema: { type: 'object', properties: { threadId: { type: 'string' } }, required: ['threadId'] } }]);
 *   // declare const tools: { mail: { /** Read a thread *\/ read(args: { threadId: string }): Promise<unknown>; }; };
 */

export interface ToolSignature {
  readonly name: string;
  readonly description?: string | undefined;
  readonly inputSchema: unknown;
  readonly outputSchema?: unknown;
}

/** Bounds on what one schema may cost; past any of them the type is `unknown`. */
export const DTS_LIMITS = {
  depth: 12,
  /** `$ref` expansions per tool schema. */
  refs: 64,
  /** Characters of one tool's argument or result type. */
  typeChars: 32 * 1024,
  /** Characters of one doc comment. */
  docChars: 2000,
  /** Properties, enum members or union members read from one schema node. */
  members: 200,
} as const;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Json, key: string): unknown => (Object.hasOwn(o, key) ? o[key] : undefined);

/** A JSON string literal that is also a safe TypeScript one (line separators escaped too). */
function literal(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A property key: the identifier itself, or a quoted literal. */
export function propertyKey(name: string): string {
  // `__proto__` is quoted too: harmless in a type, but a reader (or a later emitter of values) should not have to know that.
  return IDENTIFIER.test(name) && name !== '__proto__' ? name : literal(name);
}

/** A doc comment whose text can't close it: `*\/` broken, control characters and `@` tags' line starts kept inert. */
export function docComment(text: string | undefined, indent: string): string {
  if (text === undefined || text.trim() === '') return '';
  let clean = text.slice(0, DTS_LIMITS.docChars).replace(/[\u0000-\u0009\u000b-\u001f\u007f\u2028\u2029]/g, ' ');
  clean = clean.replace(/\*\//g, '*\\/');
  const lines = clean.split('\n').map((l) => l.trimEnd());
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`).join('\n')}\n${indent} */\n`;
}

/** One tool schema's conversion: its root (for `#/` refs) and what it has spent. */
class Converter {
  readonly #root: unknown;
  #refs = 0;
  readonly #expanding: string[] = [];

  constructor(root: unknown) {
    this.#root = root;
  }

  /** `pad`: the indentation of the line the type starts on. */
  convert(schema: unknown, pad: string): string {
    const out = this.#type(schema, 0, pad);
    return out.length > DTS_LIMITS.typeChars ? 'unknown' : out;
  }

  /** Follows a local JSON pointer (`#/$defs/x`); anything else (a URL, a file, `other#x`) is `unknown`, never fetched. */
  #resolve(ref: string): unknown {
    if (ref !== '#' && !ref.startsWith('#/')) return undefined;
    let at: unknown = this.#root;
    for (const raw of ref === '#' ? [] : ref.slice(2).split('/')) {
      const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
      if (Array.isArray(at) && /^\d+$/.test(key)) at = at[Number(key)];
      else if (isObject(at) && Object.hasOwn(at, key)) at = at[key];
      else return undefined;
    }
    return at;
  }

  #type(schema: unknown, depth: number, pad: string): string {
    if (schema === true || (isObject(schema) && Object.keys(schema).length === 0)) return 'unknown';
    if (schema === false) return 'never';
    if (!isObject(schema) || depth > DTS_LIMITS.depth) return 'unknown';
    const ref = own(schema, '$ref');
    if (typeof ref === 'string') {
      // A ref being expanded already (recursion), or past the budget: the type stops there.
      if (this.#expanding.includes(ref) || this.#refs >= DTS_LIMITS.refs) return 'unknown';
      this.#refs++;
      const target = this.#resolve(ref);
      if (target === undefined) return 'unknown';
      this.#expanding.push(ref);
      try {
        return this.#type(target, depth + 1, pad);
      } finally {
        this.#expanding.pop();
      }
    }
    if (Object.hasOwn(schema, 'const')) return this.#literalType(own(schema, 'const'));
    const enumeration = own(schema, 'enum');
    if (Array.isArray(enumeration)) return this.#union(enumeration.slice(0, DTS_LIMITS.members).map((v) => this.#literalType(v)));
    for (const key of ['anyOf', 'oneOf'] as const) {
      const list = own(schema, key);
      if (Array.isArray(list)) return this.#union(list.slice(0, DTS_LIMITS.members).map((s) => this.#type(s, depth + 1, pad)));
    }
    const all = own(schema, 'allOf');
    if (Array.isArray(all)) {
      const parts = all.slice(0, DTS_LIMITS.members).map((s) => this.#type(s, depth + 1, pad)).filter((t) => t !== 'unknown');
      return parts.length === 0 ? 'unknown' : parts.map((p) => `(${p})`).join(' & ');
    }
    const type = own(schema, 'type');
    if (Array.isArray(type)) return this.#union(type.slice(0, 8).map((t) => this.#ofType(schema, t, depth, pad)));
    if (typeof type === 'string') return this.#ofType(schema, type, depth, pad);
    if (isObject(own(schema, 'properties'))) return this.#ofType(schema, 'object', depth, pad);
    return 'unknown';
  }

  #ofType(schema: Json, type: unknown, depth: number, pad: string): string {
    switch (type) {
      case 'string':
        return 'string';
      case 'number':
      case 'integer':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'null':
        return 'null';
      case 'array': {
        const items = own(schema, 'items');
        const item = items === undefined || Array.isArray(items) ? 'unknown' : this.#type(items, depth + 1, pad);
        return `Array<${item}>`;
      }
      case 'object':
        return this.#object(schema, depth, pad);
      default:
        return 'unknown';
    }
  }

  #object(schema: Json, depth: number, pad: string): string {
    const props = own(schema, 'properties');
    const requiredList = own(schema, 'required');
    const required = new Set(Array.isArray(requiredList) ? requiredList.filter((r): r is string => typeof r === 'string') : []);
    const indent = `${pad}  `;
    const lines: string[] = [];
    if (isObject(props)) {
      for (const [name, sub] of Object.entries(props).slice(0, DTS_LIMITS.members)) {
        const doc = isObject(sub) && typeof own(sub, 'description') === 'string' ? docComment(own(sub, 'description') as string, indent) : '';
        lines.push(`${doc}${indent}${propertyKey(name)}${required.has(name) ? '' : '?'}: ${this.#type(sub, depth + 1, indent)};`);
      }
    }
    const extra = own(schema, 'additionalProperties');
    if (extra !== false && !(isObject(props) && extra === undefined)) {
      // An index signature must admit every named property's type too: `unknown` does.
      lines.push(`${indent}[key: string]: unknown;`);
    }
    if (lines.length === 0) return extra === false ? 'Record<string, never>' : 'Record<string, unknown>';
    return `{\n${lines.join('\n')}\n${pad}}`;
  }

  #literalType(value: unknown): string {
    if (typeof value === 'string') return literal(value);
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value === 'boolean' || value === null) return String(value);
    return 'unknown';
  }

  #union(parts: string[]): string {
    const unique = [...new Set(parts)];
    if (unique.length === 0) return 'never';
    if (unique.includes('unknown')) return 'unknown';
    return unique.length === 1 ? (unique[0] ?? 'unknown') : unique.map((p) => (p.includes('\n') ? `(${p})` : p)).join(' | ');
  }
}

interface Namespace {
  readonly children: Map<string, Namespace>;
  readonly tools: Map<string, ToolSignature>;
}

const emptyNamespace = (): Namespace => ({ children: new Map(), tools: new Map() });

function method(tool: ToolSignature, leaf: string, indent: string): string {
  const args = new Converter(tool.inputSchema).convert(tool.inputSchema, indent);
  const result = tool.outputSchema === undefined ? 'unknown' : new Converter(tool.outputSchema).convert(tool.outputSchema, indent);
  return `${docComment(tool.description, indent)}${indent}${propertyKey(leaf)}(args: ${args}): Promise<${result}>;`;
}

function namespaceBody(ns: Namespace, depth: number): string {
  const indent = '  '.repeat(depth);
  const lines: string[] = [];
  for (const [name, child] of ns.children) lines.push(`${indent}${propertyKey(name)}: {\n${namespaceBody(child, depth + 1)}\n${indent}};`);
  for (const [leaf, tool] of ns.tools) lines.push(method(tool, leaf, indent));
  return lines.join('\n');
}

/**
 * The `.d.ts` of `tools` as the isolate sees them: `tools.mail.read(args)` for a tool named
 * `mail.read`. Names are split at dots; a segment that is not an identifier is quoted.
 */
export function toolsDts(tools: readonly ToolSignature[]): string {
  const root = emptyNamespace();
  for (const tool of tools) {
    const parts = tool.name.split('.');
    const leaf = parts.pop() ?? tool.name;
    let ns = root;
    for (const part of parts) {
      const next = ns.children.get(part) ?? emptyNamespace();
      ns.children.set(part, next);
      ns = next;
    }
    ns.tools.set(leaf, tool);
  }
  const body = namespaceBody(root, 1);
  return [
    '// The tools this program may call, generated by airlock from their JSON Schemas.',
    '// Each call is checked on the host against the policy; a denied call throws an Error whose',
    '// message starts with its code (TOOL_NOT_GRANTED, TOOL_ARGS_INVALID, …) and says what to change.',
    `declare const tools: {\n${body}\n};`,
    '',
  ].join('\n');
}
