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

/**
 * The spellings of a secret an upstream might echo back: raw, JSON-escaped, percent-encoded (either
 * case, with "/" kept or not, or every byte), hex, and base64 (standard and URL-safe) at each of
 * the three byte alignments it can have inside a longer encoded document. For an alignment, only
 * the characters that depend on the secret's bytes alone are kept, so the spelling matches
 * wherever the secret sits in what was encoded.
 *
 * Limit: this is a list, not a proof. An upstream that transforms an echo some other way (HTML
 * entities, base32, reversed, split across headers) is not caught; what bounds the secret is that
 * routes send it only to the destination the policy names.
 */
function spellings(value: string): string[] {
  const bytes = Buffer.from(value);
  const percent = encodeURIComponent(value);
  const everyByte = [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  const out = [
    value,
    value.replaceAll('/', '\\/'), // JSON encoders that escape the solidus
    percent,
    percent.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    percent.replaceAll('%2F', '/'),
    everyByte,
    everyByte.toUpperCase(),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
  ];
  for (const align of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(align), bytes]).toString('base64').replace(/=+$/, '');
    // Leading characters mixed with the bytes before it; a trailing one mixed with the bytes after.
    const core = encoded.slice([0, 2, 3][align], (align + bytes.length) % 3 === 0 ? undefined : -1);
    out.push(core, core.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return [...new Set(out)].filter((s) => s.length >= 8);
}

/**
 * Replaces every spelling of each secret in `text` with `[secret:NAME]`.
 *
 * @example
 *   redact('token=abc12345', [{ name: 'gh', value: 'abc12345' }]) // 'token=[secret:gh]'
 */
export function redact(text: string, secrets: readonly { readonly name: string; readonly value: string }[]): string {
  let out = text;
  for (const { name, value } of secrets) {
    for (const s of spellings(value)) out = out.split(s).join(`[secret:${name}]`);
  }
  return out;
}

/** Redacts a body: bytes in, bytes out (the secret is looked for in its UTF-8 form). */
export function redactBytes(body: Uint8Array, secrets: readonly { readonly name: string; readonly value: string }[]): Uint8Array {
  if (secrets.length === 0) return body;
  const text = Buffer.from(body).toString('latin1');
  const clean = redact(text, secrets.map((s) => ({ name: s.name, value: Buffer.from(s.value).toString('latin1') })));
  return clean === text ? body : Buffer.from(clean, 'latin1');
}
