/**
 * Tool label declarations: data, beside a tool's operation and resources, checked by one engine
 * (reveal.ts for what a result reveals, sink.ts and check.ts for what a call sends). Validated at
 * registration with unknown keys refused, then compiled once; the call path only reads compiled
 * forms.
 *
 * @example
 *   compileToolLabels('mail.read', {
 *     reveals: [{ kind: 'mail:thread', id: 'id', readers: ['messages[].from', 'messages[].to[]'], authors: ['messages[].from'] }],
 *   });
 *   compileToolLabels('mail.send', {
 *     sink: { audience: [{ from: 'argument', path: 'to[]' }], control: ['to[]'], stores: { kind: 'mail:message', id: { result: 'id' }, mode: 'new' } },
 *   });
 */
import { z } from 'zod';
import { AirlockError } from '../../core/errors.ts';
import { parsePath, pathProblem, type Path } from './path.ts';

/** An object kind: the source of an object is `<kind>/<id>`, so a kind has no `/`. */
export const KIND = /^[a-z][a-z0-9._:-]{0,63}$/;
const READER_MARKERS = ['$user', '$public'] as const;
const AUTHOR_MARKERS = ['$user', '$host', '$external'] as const;
export type AuthorMarker = (typeof AUTHOR_MARKERS)[number];

const path = z.string().max(256).superRefine((text, ctx) => {
  const problem = pathProblem(text);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});
const kind = z.string().regex(KIND, 'a kind is lowercase letters, digits and . _ : - (no /), e.g. "mail:thread"');
const readerItem = z.union([z.enum(READER_MARKERS), path.refine((p) => !p.startsWith('$'), 'markers for readers are $user and $public')]);
const authorItem = z.union([z.enum(AUTHOR_MARKERS), path.refine((p) => !p.startsWith('$'), 'markers for authors are $user, $host and $external')]);
const PLACEHOLDER = /\{([^{}]*)\}/g;
const template = z
  .string()
  .min(1)
  .max(512)
  .superRefine((text, ctx) => {
    for (const m of text.matchAll(PLACEHOLDER)) {
      const inner = m[1] ?? '';
      const problem = inner === '' ? 'a placeholder is empty' : pathProblem(inner);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: `placeholder {${inner}}: ${problem}` });
      else if (inner.endsWith('{}')) ctx.addIssue({ code: 'custom', message: `placeholder {${inner}}: keys can't be used in a template` });
    }
    if (text.replace(PLACEHOLDER, '').includes('{') || text.replace(PLACEHOLDER, '').includes('}')) ctx.addIssue({ code: 'custom', message: 'unbalanced { or } in a template' });
  });

const revealSchema = z.strictObject({
  /** The kind of object, e.g. `mail:thread`. */
  kind,
  /** Where the objects are in the result (`threads[]`); absent: the result is the object. */
  at: path.optional(),
  /** Within the object, its id (a string or number). */
  id: path,
  /** Within the object, its readers; `$user` adds none beyond the user, `$public` means everyone. */
  readers: z.array(readerItem).min(1).max(16),
  /** Within the object, its authors; `$user` and `$host` are trusted, `$external` is not. */
  authors: z.array(authorItem).min(1).max(16),
});

const audienceSchema = z.discriminatedUnion('from', [
  /** Principals named by an argument's values (`to[]`). */
  z.strictObject({ from: z.literal('argument'), path }),
  /** The readers of an object an argument names (the members of a channel posted to). */
  z.strictObject({ from: z.literal('readers'), kind, id: path }),
  /** `web:<host><path>` of a URL argument. */
  z.strictObject({ from: z.literal('url'), path }),
  /** A template over the arguments (`slack:channel/{channel}`), one principal per expansion. */
  z.strictObject({ from: z.literal('template'), template }),
  /** Fixed principals (`*` for a public post). */
  z.strictObject({ from: z.literal('principals'), principals: z.array(z.string().min(1).max(512)).max(64) }),
]);

const sinkSchema = z.strictObject({
  /** Who can observe the effect. An empty list: only the user (a private note). */
  audience: z.array(audienceSchema).max(16),
  /** Objects the call carries even if the run never read them (a forwarded thread, an attachment). */
  carries: z.array(z.strictObject({ kind, id: path })).max(16).optional(),
  /** Arguments that choose where or what is affected: endorsed or waived when the content is untrusted. */
  control: z.array(path.refine((p) => p !== '' && !p.startsWith('[]'), 'a control argument starts with its name')).max(16).optional(),
  /** What the call writes, and how its label is kept: `replace`, `join` with what was there, or `new`. */
  stores: z
    .strictObject({
      kind,
      id: z.union([z.strictObject({ argument: path }), z.strictObject({ result: path })]),
      mode: z.enum(['replace', 'join', 'new']),
    })
    .optional(),
});

export const toolLabelsSchema = z.strictObject({
  /** What a result reveals. `[]`: nothing (a pure computation, a sink's receipt). Absent: the result is labelled unknown (user-only, untrusted). */
  reveals: z.array(revealSchema).max(32).optional(),
  /** Present when the tool is a sink. */
  sink: sinkSchema.optional(),
});
export type ToolLabelsDeclaration = z.input<typeof toolLabelsSchema>;

export interface CompiledReveal {
  readonly kind: string;
  readonly at: Path;
  readonly id: Path;
  readonly readerPaths: readonly Path[];
  readonly publicReaders: boolean;
  readonly authorPaths: readonly Path[];
  readonly authorMarkers: ReadonlySet<AuthorMarker>;
}

export type TemplatePart = { readonly text: string } | { readonly path: Path };

export type CompiledAudience =
  | { readonly from: 'argument'; readonly path: Path }
  | { readonly from: 'readers'; readonly kind: string; readonly id: Path }
  | { readonly from: 'url'; readonly path: Path }
  | { readonly from: 'template'; readonly parts: readonly TemplatePart[] }
  | { readonly from: 'principals'; readonly principals: readonly string[] };

export interface CompiledControl {
  /** The argument's name, as endorsements and waivers name it. */
  readonly argument: string;
  readonly path: Path;
}

export interface CompiledStore {
  readonly kind: string;
  readonly id: { readonly in: 'argument' | 'result'; readonly path: Path };
  readonly mode: 'replace' | 'join' | 'new';
}

export interface CompiledSink {
  readonly audience: readonly CompiledAudience[];
  readonly carries: readonly { readonly kind: string; readonly id: Path }[];
  readonly control: readonly CompiledControl[];
  readonly stores: CompiledStore | null;
}

export interface CompiledToolLabels {
  readonly tool: string;
  /** null: the tool declared no `reveals`; its results get the conservative label (reveal.ts). */
  readonly reveals: readonly CompiledReveal[] | null;
  readonly sink: CompiledSink | null;
  /** Kinds whose current label a call must look up (carried objects, audiences of readers). */
  readonly lookupKinds: ReadonlySet<string>;
}

function compileTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ text: text.slice(last, m.index) });
    parts.push({ path: parsePath(m[1] ?? '') });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

function compileAudience(a: z.output<typeof audienceSchema>): CompiledAudience {
  switch (a.from) {
    case 'argument':
      return { from: 'argument', path: parsePath(a.path) };
    case 'readers':
      return { from: 'readers', kind: a.kind, id: parsePath(a.id) };
    case 'url':
      return { from: 'url', path: parsePath(a.path) };
    case 'template':
      return { from: 'template', parts: compileTemplate(a.template) };
    case 'principals':
      return { from: 'principals', principals: [...a.principals] };
  }
}

/** Validates and compiles one tool's declaration; INVALID_REQUEST names every problem by its field. */
export function compileToolLabels(tool: string, declaration: unknown): CompiledToolLabels {
  const parsed = toolLabelsSchema.safeParse(declaration);
  if (!parsed.success) {
    const list = parsed.error.issues.map((i) => `${['labels', ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');
    throw new AirlockError('INVALID_REQUEST', `the label declaration of tool "${tool}" is invalid: ${list}`, { issues: parsed.error.issues });
  }
  const d = parsed.data;
  const kinds = new Set<string>();
  const reveals =
    d.reveals?.map((r): CompiledReveal => {
      const readerPaths = r.readers.filter((x) => !x.startsWith('$')).map(parsePath);
      const authorPaths = r.authors.filter((x) => !x.startsWith('$')).map(parsePath);
      const markers = new Set(r.authors.filter((x): x is AuthorMarker => (AUTHOR_MARKERS as readonly string[]).includes(x)));
      return { kind: r.kind, at: parsePath(r.at ?? ''), id: parsePath(r.id), readerPaths, publicReaders: r.readers.includes('$public'), authorPaths, authorMarkers: markers };
    }) ?? null;
  let sink: CompiledSink | null = null;
  if (d.sink !== undefined) {
    const s = d.sink;
    for (const a of s.audience) if (a.from === 'readers') kinds.add(a.kind);
    for (const c of s.carries ?? []) kinds.add(c.kind);
    sink = {
      audience: s.audience.map(compileAudience),
      carries: (s.carries ?? []).map((c) => ({ kind: c.kind, id: parsePath(c.id) })),
      control: (s.control ?? []).map((c) => {
        const path = parsePath(c);
        return { argument: path[0]?.name ?? c, path };
      }),
      stores:
        s.stores === undefined
          ? null
          : { kind: s.stores.kind, id: 'argument' in s.stores.id ? { in: 'argument', path: parsePath(s.stores.id.argument) } : { in: 'result', path: parsePath(s.stores.id.result) }, mode: s.stores.mode },
    };
  }
  return { tool, reveals, sink, lookupKinds: kinds };
}

/** The source of an object: `<kind>/<id>`. */
export function sourceOf(kind: string, id: string): string {
  return `${kind}/${id}`;
}
