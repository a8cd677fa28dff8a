/** `airlock run` flags → a RunRequest. The CLI adds nothing of its own: the request schema decides. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { AirlockError } from '../core/errors.ts';
import type { Language, RunRequest } from '../policy/request.ts';
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
  if ((flags.allowNet ?? []).length > 0) {
    throw new AirlockError('INVALID_REQUEST', '--allow-net needs the egress gateway, which is not wired into `airlock run` yet: leave it out');
  }
  return {
    code,
    language,
    policy,
    ...(flags.tier === undefined ? {} : { tier: flags.tier as 'isolate' | 'container' }),
    ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }),
  };
}
