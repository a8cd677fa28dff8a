/**
 * What a sink call says, read from its arguments by the sink's declaration: who will observe it
 * (principals named outright, objects whose readers will, a URL's `web:` audience, templates), the
 * objects it carries, and the values of its control arguments. Pure; objects are resolved to
 * labels by resolve.ts. Where an argument is not the declared shape the answer is the
 * restrictive one: `*` for an audience, "not endorsable" for a control value.
 *
 * @example
 *   describeSinkCall(compiled.sink, { to: ['ann@corp.example'], body: '…' })
 *   // { principals: ['ann@corp.example'], audienceObjects: [], carried: [], controls: [...], malformed: false }
 */
import type { CompiledSink, TemplatePart } from './declaration.ts';
import { sourceOf } from './declaration.ts';
import { extract, scalarText, type Path } from './path.ts';
import { asPrincipal } from './principals.ts';

/** Everyone: what an audience becomes when it can't be read. */
export const EVERYONE = '*';
const MAX_TEMPLATE_EXPANSIONS = 64;

export interface ObjectRef {
  readonly kind: string;
  readonly id: string;
  readonly source: string;
}

export interface ControlValues {
  readonly argument: string;
  readonly values: readonly unknown[];
  /** The argument was not the declared shape: a value may be unseen, so it can't be endorsed. */
  readonly malformed: boolean;
}

export interface SinkCallFacts {
  /** Principals named by the call (EVERYONE when an audience argument could not be read). */
  readonly principals: readonly string[];
  /** Objects whose readers are the audience. */
  readonly audienceObjects: readonly ObjectRef[];
  /** Objects the call carries; `null` for one its arguments did not name readably. */
  readonly carried: readonly (ObjectRef | null)[];
  readonly controls: readonly ControlValues[];
}

function ids(path: Path, args: unknown): { ids: string[]; malformed: boolean } {
  const got = extract(path, args);
  const out: string[] = [];
  let malformed = got.malformed;
  for (const v of got.values) {
    const id = scalarText(v);
    if (id === null || id === '') malformed = true;
    else out.push(id);
  }
  return { ids: out, malformed };
}

/** `web:<host><path>` for an http(s) URL; anything else can be read by anyone. */
export function webPrincipal(value: unknown): string {
  if (typeof value !== 'string') return EVERYONE;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return EVERYONE;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return EVERYONE;
  return `web:${url.host}${url.pathname}`;
}

function expandTemplate(parts: readonly TemplatePart[], args: unknown): string[] {
  let out: string[] = [''];
  for (const part of parts) {
    if ('text' in part) {
      out = out.map((s) => s + part.text);
      continue;
    }
    const got = ids(part.path, args);
    if (got.malformed) return [EVERYONE];
    if (got.ids.length === 0) return [];
    if (out.length * got.ids.length > MAX_TEMPLATE_EXPANSIONS) return [EVERYONE];
    // Encoded, so a value can't carry the template's separators: team "eng/x" + channel "y" must not
    // name the same principal as team "eng" + channel "x/y".
    out = out.flatMap((s) => got.ids.map((id) => s + encodeURIComponent(id)));
  }
  return out;
}

export function describeSinkCall(sink: CompiledSink, args: unknown): SinkCallFacts {
  const principals: string[] = [];
  const audienceObjects: ObjectRef[] = [];
  for (const a of sink.audience) {
    switch (a.from) {
      case 'argument': {
        const got = extract(a.path, args);
        if (got.malformed) principals.push(EVERYONE);
        for (const v of got.values) principals.push(asPrincipal(scalarText(v)) ?? EVERYONE);
        break;
      }
      case 'readers': {
        const got = ids(a.id, args);
        if (got.malformed) principals.push(EVERYONE);
        for (const id of got.ids) audienceObjects.push({ kind: a.kind, id, source: sourceOf(a.kind, id) });
        break;
      }
      case 'url': {
        const got = extract(a.path, args);
        if (got.malformed) principals.push(EVERYONE);
        for (const v of got.values) principals.push(webPrincipal(v));
        break;
      }
      case 'template':
        principals.push(...expandTemplate(a.parts, args).map((p) => asPrincipal(p) ?? EVERYONE));
        break;
      case 'principals':
        principals.push(...a.principals);
        break;
    }
  }
  const carried: (ObjectRef | null)[] = [];
  for (const c of sink.carries) {
    const got = ids(c.id, args);
    // A carried object that can't be named can't be looked up: it counts as one nobody else may read.
    if (got.malformed) carried.push(null);
    for (const id of got.ids) carried.push({ kind: c.kind, id, source: sourceOf(c.kind, id) });
  }
  const controls = sink.control.map((c): ControlValues => {
    const got = extract(c.path, args);
    return { argument: c.argument, values: got.values, malformed: got.malformed };
  });
  return { principals, audienceObjects, carried, controls };
}
