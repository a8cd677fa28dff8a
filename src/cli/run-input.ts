/** `airlock run` flags → a RunRequest. The CLI adds nothing of its own: the request schema decides. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { AirlockError } from '../core/errors.ts';
import type { Language, RunRequest } from '../policy/request.ts';
import type { RouteDocument } from '../policy/network.ts';
import type { PolicyDocument } from '../policy/schema.ts';

export interface RunFlags {
  readonly tier?: string;
  readonly policy?: string;
  readonly allowNet?: readonly string[];
  readonly timeout?: string;
  readonly memory?: string;
  readonly tenant?: string;
}

const LANGUAGE_BY_EXTENSION: Readonly<Record<string, Language>> = {
  '.js': 'js',
  '.mjs': 'js',
  '.ts': 'ts',
  '.mts': 'ts',
  '.wasm': 'wasm',
  '.py': 'python',
  '.sh': 'sh',
};

function positiveInt(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new AirlockError('INVALID_REQUEST', `${flag} takes a positive whole number, not ${JSON.stringify(value)}`);
  return Number(value);
}

function readPolicy(path: string): PolicyDocument {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AirlockError('INVALID_POLICY', `can't read the policy file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    return JSON.parse(text) as PolicyDocument;
  } catch (error) {
    throw new AirlockError('INVALID_POLICY', `the policy file ${path} is not JSON: ${(error as Error).message}`);
  }
}

/**
 * `--allow-net HOST[:PORT]`: routes for that host, any method and path. Without a port, https on
 * 443 and http on 80; with one, both schemes on that port. The gateway still checks the address.
 */
function routesFor(spec: string): RouteDocument[] {
  const m = /^([A-Za-z0-9.*-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(spec);
  if (m?.[1] === undefined) throw new AirlockError('INVALID_REQUEST', `--allow-net takes HOST or HOST:PORT, not ${JSON.stringify(spec)}`);
  const host = m[1].replace(/^\[|\]$/g, '');
  if (m[2] === undefined) return [{ host, scheme: 'https', port: 443 }, { host, scheme: 'http', port: 80 }];
  const port = Number(m[2]);
  return [{ host, scheme: 'http', port }, { host, scheme: 'https', port }];
}

/** The language of a file, from its extension; `-` (stdin) is JavaScript. */
export function languageOf(file: string): Language {
  if (file === '-') return 'js';
  const language = LANGUAGE_BY_EXTENSION[extname(file).toLowerCase()];
  if (language === undefined) {
    throw new AirlockError('UNSUPPORTED_LANGUAGE', `can't tell the language of ${file}: use one of ${Object.keys(LANGUAGE_BY_EXTENSION).join(' ')}`);
  }
  return language;
}

export function runRequestFromFlags(file: string, flags: RunFlags, readStdin: () => Uint8Array): RunRequest {
  const language = languageOf(file);
  let code: Uint8Array<ArrayBuffer>;
  try {
    code = new Uint8Array(file === '-' ? readStdin() : readFileSync(file));
  } catch (error) {
    throw new AirlockError('INVALID_REQUEST', `can't read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const base: PolicyDocument = flags.policy === undefined ? { version: 1 } : readPolicy(flags.policy);
  const limits: Record<string, unknown> = { ...(base.limits ?? {}) };
  if (flags.timeout !== undefined) {
    const wallMs = positiveInt('--timeout', flags.timeout);
    limits['wallMs'] = wallMs;
    if (typeof limits['cpuMs'] !== 'number' || limits['cpuMs'] > wallMs) limits['cpuMs'] = wallMs;
  }
  if (flags.memory !== undefined) limits['memoryMiB'] = positiveInt('--memory', flags.memory);
  const policy = { ...base, ...(Object.keys(limits).length > 0 ? { limits } : {}) } as PolicyDocument;
  const routes = (flags.allowNet ?? []).flatMap(routesFor);
  if (routes.length > 0) {
    const existing = policy.network?.routes ?? [];
    Object.assign(policy, { network: { routes: [...existing, ...routes] } });
  }
  return {
    code,
    language,
    policy,
    ...(flags.tier === undefined ? {} : { tier: flags.tier as 'isolate' | 'container' }),
    ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }),
  };
}
