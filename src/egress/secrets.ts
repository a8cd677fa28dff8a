/**
 * Secrets live on the host. The policy names a secret; the host's SecretSource supplies its value
 * (from named environment variables or a secrets file the host chose), never the request or the
 * policy. Whatever comes back from an upstream is scrubbed of every secret value it used before
 * the guest sees it.
 */
import { readFileSync, statSync } from 'node:fs';
import { AirlockError } from '../core/errors.ts';
import { SECRET_NAME } from '../policy/network.ts';

/** Where the gateway gets a secret's value, by name. */
export interface SecretSource {
  /** The value, or undefined when the host has no such secret. */
  get(name: string): string | undefined;
}

/** A secret value must be a header-safe, non-trivial string. */
function checked(name: string, value: string | undefined, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (value.length < 8 || /[\r\n\0]/.test(value)) {
    throw new AirlockError('SECRET_UNAVAILABLE', `secret "${name}" from ${where} is unusable: it must be 8+ characters without line breaks`);
  }
  return value;
}

/**
 * Secrets read from the host's environment: `{ github: 'GITHUB_TOKEN' }` maps the policy's
 * secret name to the variable holding it. Read at use, so a rotated variable takes effect.
 *
 * @example
 *   new EgressGateway({ audit, secrets: secretsFromEnv({ github: 'GITHUB_TOKEN' }) })
 */
/** No secrets at all: every credentialed route fails with SECRET_UNAVAILABLE. */
export const NO_SECRETS: SecretSource = Object.freeze({ get: () => undefined });

export function secretsFromEnv(names: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv = process.env): SecretSource {
  for (const name of Object.keys(names)) {
    if (!SECRET_NAME.test(name)) throw new AirlockError('SECRET_UNAVAILABLE', `"${name}" is not a secret name: use letters, digits and _`);
  }
  return { get: (name) => (Object.hasOwn(names, name) ? checked(name, env[names[name] ?? ''], `$${names[name] ?? ''}`) : undefined) };
}

/**
 * Secrets read once from a JSON file of `{ "name": "value" }` that only its owner can read
 * (a file group- or world-readable is refused: it has probably leaked already).
 */
export function secretsFromFile(path: string): SecretSource {
  const mode = statSync(path).mode;
  if ((mode & 0o077) !== 0) {
    throw new AirlockError('SECRET_UNAVAILABLE', `secrets file ${path} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`);
  }
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AirlockError('SECRET_UNAVAILABLE', `secrets file ${path} must hold one JSON object of name → string value`);
  }
  const values = new Map<string, string>();
  for (const [name, value] of Object.entries(parsed)) {
    if (!SECRET_NAME.test(name) || typeof value !== 'string') {
      throw new AirlockError('SECRET_UNAVAILABLE', `secrets file ${path}: "${name}" must be an identifier with a string value`);
    }
    values.set(name, checked(name, value, path) ?? '');
  }
  return { get: (name) => values.get(name) };
}

// HTML's named references for the ASCII punctuation a token may hold (the numeric ones are general).
const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos', '/': 'sol', '.': 'period', _: 'lowbar', ':': 'colon',
  '+': 'plus', '=': 'equals', '#': 'num', '!': 'excl', '@': 'commat', $: 'dollar', '%': 'percnt', '*': 'ast', ',': 'comma',
  '-': 'hyphen', '(': 'lpar', ')': 'rpar', '[': 'lsqb', ']': 'rsqb', '{': 'lcub', '}': 'rcub', '?': 'quest', ';': 'semi',
};

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/**
 * Every way one character of a secret can be written in an echo, as a regular expression: itself
 * (any case: the flag is `i`), a JSON or JavaScript escape (`\u0067`, `\x67`, `\/`), a percent
 * escape (either case), an HTML character reference (decimal or hex, leading zeros, `;` optional)
 * or a named one. Mixing forms inside one echo is matched too, since each character is matched alone.
 */
function characterForms(c: string): string {
  const code = c.charCodeAt(0);
  const hex = code.toString(16).padStart(2, '0');
  const forms = [escapeRegExp(c), `%${hex}`];
  if (code < 0x80) {
    forms.push(`\\\\u00${hex}`, `\\\\x${hex}`, `&#0*${code};?`, `&#x0*${hex};?`);
    if (!/[A-Za-z0-9]/.test(c)) forms.push(`\\\\${escapeRegExp(c)}`);
    const named = NAMED_ENTITIES[c];
    if (named !== undefined) forms.push(`&${named};`);
  }
  return `(?:${forms.join('|')})`;
}

// A line break an encoder may put anywhere in a long run of base64 or hex (MIME wraps at 76
// columns, PEM at 64): allowed between any two characters of those spellings.
const WRAP = '(?:\\r?\\n)?';

/**
 * The spellings of a secret an upstream might echo back, as one regular expression (flags `gi`):
 * each character in any of its escaped forms (characterForms), hex, and base64 (standard and
 * URL-safe) at each of the three byte alignments it can have inside a longer encoded document,
 * line-wrapped or not. For an alignment, only the characters that depend on the secret's bytes
 * alone are kept, so the spelling matches wherever the secret sits in what was encoded.
 *
 * Limit: this is a list, not a proof. An upstream that transforms an echo some other way (base32,
 * reversed, interleaved with other text) is not caught; what bounds the secret is that routes
 * send it only to the destination the policy names.
 */
function secretPattern(value: string): RegExp {
  const bytes = Buffer.from(value, 'latin1');
  const wrapped = (text: string): string => Array.from(text).map(escapeRegExp).join(WRAP);
  const out = [Array.from(value).map(characterForms).join(''), wrapped(bytes.toString('hex'))];
  for (const align of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(align), bytes]).toString('base64').replace(/=+$/, '');
    // Leading characters mixed with the bytes before it; a trailing one mixed with the bytes after.
    const core = encoded.slice([0, 2, 3][align], (align + bytes.length) % 3 === 0 ? undefined : -1);
    if (core.length >= 8) out.push(wrapped(core), wrapped(core.replaceAll('+', '-').replaceAll('/', '_')));
  }
  return new RegExp(out.join('|'), 'gi');
}

/**
 * Replaces every spelling of each secret in `text` with `[secret:NAME]`. Secrets' characters are
 * compared as UTF-16 code units: pass Latin-1 views of UTF-8 bytes to match byte-wise.
 *
 * @example
 *   redact('token=abc12345', [{ name: 'gh', value: 'abc12345' }]) // 'token=[secret:gh]'
 */
export function redact(text: string, secrets: readonly { readonly name: string; readonly value: string }[]): string {
  let out = text;
  for (const { name, value } of secrets) out = out.replace(secretPattern(value), `[secret:${name}]`);
  return out;
}

/**
 * Redacts a list of texts (a response's header names and values, in order) also where one
 * secret is split across neighbours: the texts are searched joined, and every text that a match
 * covers part of has that part replaced. Returns the texts in the same order; a text that held
 * part of a secret is changed, so a caller can drop what must not change (a header name).
 */
export function redactAcross(texts: readonly string[], secrets: readonly { readonly name: string; readonly value: string }[]): string[] {
  const out = texts.map((t) => redact(t, secrets));
  const joined = out.join('');
  const cuts: { readonly from: number; readonly to: number; readonly name: string }[] = [];
  for (const { name, value } of secrets) {
    for (const m of joined.matchAll(secretPattern(value))) cuts.push({ from: m.index, to: m.index + m[0].length, name });
  }
  let start = 0;
  return out.map((text) => {
    const base = start;
    start += text.length;
    let result = text;
    // From the right, so earlier offsets stay valid as pieces are replaced.
    for (const c of cuts.filter((c) => c.from < start && c.to > base).sort((a, b) => b.from - a.from)) {
      const a = Math.max(c.from, base) - base;
      const b = Math.min(c.to, start) - base;
      result = `${result.slice(0, a)}[secret:${c.name}]${result.slice(b)}`;
    }
    return result;
  });
}

/** Redacts a body: bytes in, bytes out (the secret is looked for in its UTF-8 form). */
export function redactBytes(body: Uint8Array, secrets: readonly { readonly name: string; readonly value: string }[]): Uint8Array {
  if (secrets.length === 0) return body;
  const text = Buffer.from(body).toString('latin1');
  const clean = redact(text, secrets.map((s) => ({ name: s.name, value: Buffer.from(s.value).toString('latin1') })));
  return clean === text ? body : Buffer.from(clean, 'latin1');
}
