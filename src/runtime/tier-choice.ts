/**
 * Which tier serves a request, and why, from what the request needs: the language and the doors its
 * policy grants. A request that names a tier is checked against the same needs, so a tier is never
 * asked for something it can't do (a Python file on the isolate tier, a tool on the container tier);
 * the refusal names the tier that would serve it.
 *
 * @example
 *   chooseTier({ language: 'python', policy: { version: 1 } })
 *   // { tier: 'container', reason: 'python runs only on the container tier' }
 */
import { AirlockError, type ErrorCode } from '../core/errors.ts';
import type { Tier } from '../core/result.ts';
import type { Language } from '../policy/request.ts';
import type { PolicyDocument } from '../policy/schema.ts';

export interface TierChoice {
  readonly tier: Tier;
  /** One short sentence: what decided the tier. */
  readonly reason: string;
}

export interface TierNeeds {
  readonly tier?: Tier | undefined;
  readonly language?: Language | undefined;
  /** A policy compilePolicy() has accepted. */
  readonly policy?: PolicyDocument | undefined;
  readonly input?: unknown;
  readonly resultSchema?: unknown;
}

/**
 * Something only one tier serves. A `request` need (the language, input, a result schema) refuses a
 * request that names the other tier: that tier can't run it at all. A `grant` (files, env, tools, a
 * process limit) only chooses: a policy may be shared across tiers, and a tier without that door
 * runs the code with the door shut (`airlock check` reports it so).
 */
interface Need {
  readonly tier: Tier;
  readonly why: string;
  readonly kind: 'request' | 'grant';
  readonly code: ErrorCode;
}

const ONLY_CONTAINER: Partial<Record<Language, true>> = { python: true, sh: true };
const ONLY_ISOLATE: Partial<Record<Language, true>> = { ts: true, wasm: true };

const nonEmpty = (value: object | undefined): boolean => value !== undefined && Object.keys(value).length > 0;

/** Ceilings that bound processes or files, which only the container tier has. */
const CONTAINER_LIMITS = ['pids', 'openFiles', 'fileBytes', 'workspaceMiB'] as const;

/** What the request needs that only one tier has, the request's own needs first. */
function needsOf(req: TierNeeds): Need[] {
  const needs: Need[] = [];
  const { language, policy } = req;
  const request = (tier: Tier, why: string, code: ErrorCode = 'INVALID_REQUEST'): void => void needs.push({ tier, why, kind: 'request', code });
  const grant = (tier: Tier, why: string): void => void needs.push({ tier, why, kind: 'grant', code: 'INVALID_REQUEST' });
  if (language !== undefined && ONLY_CONTAINER[language] === true) request('container', `${language} runs only on the container tier`, 'UNSUPPORTED_LANGUAGE');
  if (language !== undefined && ONLY_ISOLATE[language] === true) request('isolate', `${language} runs only on the isolate tier`, 'UNSUPPORTED_LANGUAGE');
  if (req.input !== undefined) request('isolate', "input is handed to the module's default export, which only the isolate tier calls");
  if (req.resultSchema !== undefined) request('isolate', 'resultSchema checks a returned value, which only the isolate tier has');
  if (nonEmpty(policy?.files)) grant('container', 'policy.files grants host paths, which only the container tier mounts');
  if (nonEmpty(policy?.env)) grant('container', 'policy.env sets environment variables, which only the container tier has');
  const limit = CONTAINER_LIMITS.find((k) => policy?.limits?.[k] !== undefined);
  if (limit !== undefined) grant('container', `policy.limits.${limit} bounds processes or files, which only the container tier has`);
  if (nonEmpty(policy?.tools)) grant('isolate', 'policy.tools grants host tools, which only the isolate tier can call');
  return needs;
}

/** Throws UNSUPPORTED_LANGUAGE or INVALID_REQUEST when no tier, or not the named one, can serve the request. */
export function chooseTier(req: TierNeeds): TierChoice {
  const needs = needsOf(req);
  if (req.tier !== undefined) {
    const named = req.tier;
    const refused = needs.find((n) => n.kind === 'request' && n.tier !== named);
    if (refused !== undefined) {
      throw new AirlockError(refused.code, `the ${named} tier can't serve this request: ${refused.why}. Ask for tier "${refused.tier}", or leave tier out and airlock chooses`);
    }
    return { tier: named, reason: `the request named the ${named} tier` };
  }
  const container = needs.find((n) => n.tier === 'container');
  const isolate = needs.find((n) => n.tier === 'isolate');
  if (container !== undefined && isolate !== undefined) {
    const code = container.code === 'UNSUPPORTED_LANGUAGE' ? container.code : isolate.code;
    throw new AirlockError(code, `no one tier serves this request: ${container.why}, but ${isolate.why}. Name the tier to run it with the other door shut, or split it into two runs`);
  }
  const need = container ?? isolate;
  if (need !== undefined) return { tier: need.tier, reason: need.why };
  return { tier: 'isolate', reason: `${req.language ?? 'js'} with nothing that needs a container (no files, env or processes) runs on the isolate tier, the lighter one` };
}
