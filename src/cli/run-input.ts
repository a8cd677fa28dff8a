/** `airlock run` flags → a RunRequest. The CLI adds nothing of its own: the request schema decides. */
import { Option, type Command } from 'commander';
import { extname } from 'node:path';
import { AirlockError } from '../core/errors.ts';
import type { Language, RunRequest } from '../policy/request.ts';
import type { RouteDocument } from '../policy/network.ts';
import { LIMIT_CEILINGS, type PolicyDocument } from '../policy/schema.ts';
import { parseStrictJson } from '../core/strict-json.ts';
import { readBounded } from './read-bounded.ts';

/** A policy document is kilobytes; a file past this is not one. */
const POLICY_FILE_BYTES = 4 * 1024 * 1024;

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
    text = readBounded(path, POLICY_FILE_BYTES, { code: 'INVALID_POLICY', message: `the policy file ${path} is over ${POLICY_FILE_BYTES >> 20} MiB: a policy is one small JSON object` }).toString('utf8');
  } catch (error) {
    if (error instanceof AirlockError) throw error;
    throw new AirlockError('INVALID_POLICY', `can't read the policy file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const parsed = parseStrictJson(text);
  if (!parsed.ok) throw new AirlockError('INVALID_POLICY', `the policy file ${path} must be JSON with each key written once: ${parsed.problem}`);
  const doc = parsed.value;
  // Flags are merged into it before compilePolicy sees it: anything but an object is refused here.
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new AirlockError('INVALID_POLICY', `the policy file ${path} holds ${doc === null ? 'null' : Array.isArray(doc) ? 'an array' : `a ${typeof doc}`}: it must hold one JSON object, e.g. {"version": 1}`);
  }
  return doc as PolicyDocument;
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

/**
 * The policy the flags that `run` and `check` share describe: `--policy FILE`, then `--timeout`,
 * `--memory` and `--allow-net` on top (the file's own values otherwise stand).
 */
export function policyFromFlags(flags: RunFlags): PolicyDocument {
  const base: PolicyDocument = flags.policy === undefined ? { version: 1 } : readPolicy(flags.policy);
  const limits: Record<string, unknown> = { ...(base.limits ?? {}) };
  if (flags.timeout !== undefined) {
    const wallMs = positiveInt('--timeout', flags.timeout);
    limits['wallMs'] = wallMs;
    if (typeof limits['cpuMs'] !== 'number' || limits['cpuMs'] > wallMs) limits['cpuMs'] = wallMs;
  }
  if (flags.memory !== undefined) limits['memoryMiB'] = positiveInt('--memory', flags.memory);
  const routes = (flags.allowNet ?? []).flatMap(routesFor);
  return {
    ...base,
    ...(Object.keys(limits).length > 0 ? { limits } : {}),
    ...(routes.length > 0 ? { network: { routes: [...(base.network?.routes ?? []), ...routes] } } : {}),
  };
}

/** The policy flags, declared once for every command that takes them (`run`, `check`). */
export function withPolicyFlags(command: Command): Command {
  return command
    .addOption(new Option('--tier <tier>', 'sandbox tier').choices(['isolate', 'container']))
    .option('--policy <file>', 'policy JSON (default: grant nothing)')
    .option('--allow-net <host[:port]>', 'grant egress to a host (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--timeout <ms>', 'wall-clock limit in ms')
    .option('--memory <mib>', 'memory limit in MiB');
}

export function runRequestFromFlags(file: string, flags: RunFlags): RunRequest {
  const language = languageOf(file);
  // No policy lets code past the ceiling run, so nothing past it is read; the policy's own codeBytes is checked later.
  const max = LIMIT_CEILINGS.codeBytes;
  let code: Uint8Array<ArrayBuffer>;
  try {
    code = new Uint8Array(readBounded(file === '-' ? 0 : file, max, { code: 'CODE_TOO_LARGE', message: `${file} is over ${max >> 20} MiB, more than any policy lets run (limits.codeBytes)` }));
  } catch (error) {
    if (error instanceof AirlockError) throw error;
    throw new AirlockError('INVALID_REQUEST', `can't read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return {
    code,
    language,
    policy: policyFromFlags(flags),
    ...(flags.tier === undefined ? {} : { tier: flags.tier as 'isolate' | 'container' }),
    ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }),
  };
}
