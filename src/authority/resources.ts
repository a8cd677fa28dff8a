/**
 * Resource templates (docs/warrant-format.md §8): a tool declares how a call's arguments become
 * the resources it touches, so the host, the audit and a gateway config all read the same names.
 * Argument values are escaped, so no argument can forge `/`, `*` or `%` structure; defaults are
 * the host's own text. Pure.
 */
import { AirlockError } from '../core/errors.ts';
import { ARG_PATH } from './payload.ts';

/** Resources one call may name; a call past it is refused rather than cut short. */
export const MAX_RESOURCES = 256;
const MAX_PLACEHOLDERS = 8;
const LITERAL = /^[\x21-\x7a\x7c\x7e]*$/; // printable ASCII without { }
const DEFAULT = /^[\x21-\x7a\x7e]*$/; // and without |

const UNRESERVED = /^[A-Za-z0-9\-._~@:+=,]$/;

interface Placeholder {
  readonly steps: readonly { readonly key: string; readonly each: boolean }[];
  readonly fallback: string | null;
}

type Part = string | Placeholder;

export interface ResourceTemplate {
  readonly source: string;
  readonly parts: readonly Part[];
}

export type Resolved = { readonly ok: true; readonly resources: readonly string[] } | { readonly ok: false; readonly problem: string };

/**
 * An argument value as resource text: bytes outside `A–Z a–z 0–9 - . _ ~ @ : + = ,` become %XX.
 *
 * @example
 *   escapeResourceValue('a/b*')   // 'a%2Fb%2A'
 */
export function escapeResourceValue(value: string): string {
  let out = '';
  for (const ch of value) {
    if (UNRESERVED.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const badTemplate = (template: string, why: string): AirlockError => new AirlockError('INVALID_POLICY', `resource template ${JSON.stringify(template)} ${why}`);

/**
 * @example
 *   compileResourceTemplate('mail:to/{to[]}')
 *   compileResourceTemplate('cal:day/{date|*}')
 */
export function compileResourceTemplate(template: string): ResourceTemplate {
  if (template.length === 0 || template.length > 512) throw badTemplate(template, 'must be 1 to 512 characters');
  const parts: Part[] = [];
  let fanouts = 0;
  for (const piece of template.split(/(\{[^{}]*\})/)) {
    if (!piece.startsWith('{')) {
      if (!LITERAL.test(piece)) throw badTemplate(template, 'holds an unpaired brace, a space or a character outside printable ASCII');
      if (piece !== '') parts.push(piece);
      continue;
    }
    const inner = piece.slice(1, -1);
    const bar = inner.indexOf('|');
    const path = bar < 0 ? inner : inner.slice(0, bar);
    const fallback = bar < 0 ? null : inner.slice(bar + 1);
    if (!ARG_PATH.test(path)) throw badTemplate(template, `names ${JSON.stringify(path)}, which is not an argument path (a.b, to[])`);
    if (fallback !== null && !DEFAULT.test(fallback)) throw badTemplate(template, 'has a default holding | or a character outside printable ASCII');
    const steps = path.split('.').map((s) => (s.endsWith('[]') ? { key: s.slice(0, -2), each: true } : { key: s, each: false }));
    fanouts += steps.filter((s) => s.each).length;
    parts.push({ steps, fallback });
  }
  if (fanouts > 1) throw badTemplate(template, 'uses [] more than once: one resource per element of one array');
  if (parts.filter((p) => typeof p !== 'string').length > MAX_PLACEHOLDERS) throw badTemplate(template, `has more than ${MAX_PLACEHOLDERS} placeholders`);
  return { source: template, parts };
}

/** The text values at a path; null when absent; a string when the value can't be a resource. */
function valuesAt(value: unknown, steps: Placeholder['steps'], at: number): string[] | null | { readonly problem: string } {
  if (at === steps.length) {
    if (value === undefined || value === null) return null;
    if (typeof value === 'string') return [escapeResourceValue(value)];
    if (typeof value === 'number' && Number.isFinite(value)) return [escapeResourceValue(String(value))];
    if (typeof value === 'boolean') return [String(value)];
    return { problem: 'is not a string, number or boolean' };
  }
  const step = steps[at] as Placeholder['steps'][number];
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, step.key)) return null;
  const next = (value as Record<string, unknown>)[step.key];
  if (!step.each) return valuesAt(next, steps, at + 1);
  if (next === undefined || next === null) return null;
  if (!Array.isArray(next)) return { problem: 'is not an array' };
  if (next.length > MAX_RESOURCES) return { problem: `has more than ${MAX_RESOURCES} elements` };
  const out: string[] = [];
  for (const element of next) {
    const found = valuesAt(element, steps, at + 1);
    if (found === null) return { problem: 'has an element without a value' };
    if (!Array.isArray(found)) return found;
    out.push(...found);
  }
  return out;
}

/**
 * The resources a call's arguments name under the tool's templates.
 *
 * @example
 *   resolveResources([compileResourceTemplate('mail:to/{to[]}')], { to: ['a@x', 'b/y'] })
 *   // { ok: true, resources: ['mail:to/a@x', 'mail:to/b%2Fy'] }
 */
export function resolveResources(templates: readonly ResourceTemplate[], args: unknown): Resolved {
  const resources: string[] = [];
  for (const template of templates) {
    let texts: string[] = [''];
    let absent = false;
    for (const part of template.parts) {
      if (typeof part === 'string') {
        texts = texts.map((t) => t + part);
        continue;
      }
      const found = valuesAt(args, part.steps, 0);
      if (found !== null && !Array.isArray(found)) return { ok: false, problem: `the argument ${part.steps.map((s) => s.key + (s.each ? '[]' : '')).join('.')} of template ${template.source} ${found.problem}` };
      const values = found ?? (part.fallback === null ? null : [part.fallback]);
      if (values === null) {
        absent = true;
        break;
      }
      texts = texts.flatMap((t) => values.map((v) => t + v));
    }
    if (!absent) resources.push(...texts);
    if (resources.length > MAX_RESOURCES) return { ok: false, problem: `the call names more than ${MAX_RESOURCES} resources` };
  }
  return { ok: true, resources };
}

/**
 * A network route as a resource: `net:https://example.com:443/a/b` (lowercase scheme and host,
 * explicit port, each path segment escaped, no query).
 */
export function routeResource(route: { readonly scheme: 'http' | 'https'; readonly host: string; readonly port: number; readonly path: string }): string {
  if (!Number.isInteger(route.port) || route.port < 1 || route.port > 65535) throw new AirlockError('INVALID_REQUEST', `port ${route.port} is not 1–65535`);
  const path = route.path.startsWith('/') ? route.path : `/${route.path}`;
  const segments = path.slice(1).split('/').map(escapeResourceValue);
  return `net:${route.scheme}://${escapeResourceValue(route.host.toLowerCase())}:${route.port}/${segments.join('/')}`;
}
