/**
 * Admission: the steps every egress request passes, in order, before a byte goes upstream.
 *   1. decide (the egress door): a route grants scheme, host, port, method, path; quotas have room (and
 *      room for the request body, which is read whole before admission);
 *   2. the upstream is the route's forward target, or the requested host itself;
 *   3. resolve that name on the host and keep only an address the route may reach;
 *   4. fetch the route's secret from the host's SecretSource.
 * The request and its body's bytes are counted against the route's quota in the same synchronous
 * step as the decision, before anything is awaited, and given back when a later step refuses:
 * requests in flight at once can't all pass a check that none of them has yet been counted in.
 */
import { AirlockError, type ErrorCode } from '../core/errors.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { CallAuthority } from '../policy/authority.ts';
import { decide } from '../policy/decide.ts';
import type { CompiledRoute } from '../policy/network.ts';
import type { Upstream } from './connect.ts';
import type { UsageKey, UsageLedger } from './quota.ts';
import type { Resolver } from './resolve.ts';
import { resolveFor } from './resolve.ts';
import type { SecretSource } from './secrets.ts';
import type { Target } from './target.ts';

/** What a sandbox's requests are checked against: who it is and its compiled policy. */
export interface EgressContext extends UsageKey {
  readonly policy: CompiledPolicy;
  /** Called once, when this context's denial budget (limits.denials) is spent: stop what runs. */
  readonly onDenialsSpent?: (() => void) | undefined;
  /** The run's (or sandbox's) warrant: a request must be granted by it too (policy/authority.ts). */
  readonly authority?: Pick<CallAuthority, 'route' | 'received'> | undefined;
}

export interface AdmitDeps {
  readonly ledger: UsageLedger;
  readonly resolve: Resolver;
  readonly resolveTimeoutMs: number;
  readonly secrets: SecretSource;
}

export interface Credential {
  readonly name: string;
  readonly header: string;
  readonly value: string;
  readonly secret: string;
}

export type Admission =
  | { readonly ok: true; readonly route: CompiledRoute; readonly upstream: Upstream; readonly credential: Credential | null }
  | { readonly ok: false; readonly why: string; readonly error: AirlockError; readonly route: CompiledRoute | null };

function denied(why: string, code: ErrorCode, message: string, route: CompiledRoute | null): Admission {
  return { ok: false, why, error: new AirlockError(code, message), route };
}

/** Runs the admission steps for one request (or CONNECT) of one sandbox. */
export async function admit(deps: AdmitDeps, ctx: EgressContext, kind: 'request' | 'tunnel', method: string, target: Target, bodyBytes = 0): Promise<Admission> {
  const authority = ctx.authority;
  const decision = decide(ctx.policy, {
    door: 'egress',
    request: { kind, method, ...target, usage: deps.ledger.view(ctx) },
    ...(authority === undefined ? {} : { authority: () => authority.route({ scheme: target.scheme, host: target.host, port: target.port, path: target.path, method: kind === 'tunnel' ? 'connect' : method }) }),
  });
  if (!decision.allow) return denied(decision.why ?? decision.code, decision.code, decision.message, decision.route ?? null);
  const route = decision.route;
  if (route === undefined) throw new AirlockError('INTERNAL', 'an allowed egress decision carried no route');
  const used = deps.ledger.view(ctx).get(route.name)?.bytes ?? 0;
  if (route.quota.bytes !== null && used + bodyBytes > route.quota.bytes) {
    const left = route.quota.bytes - used;
    return denied('QUOTA_BYTES', 'EGRESS_QUOTA', `the body is ${bodyBytes} bytes and route "${route.name}" has ${left} of its byte quota left: send less or raise quota.bytes`, route);
  }
  deps.ledger.countRequest(ctx, route.name);
  deps.ledger.addBytes(ctx, route, bodyBytes);
  const refused = (admission: Admission): Admission => {
    deps.ledger.refund(ctx, route.name, bodyBytes);
    return admission;
  };
  const fwd = route.forward;
  const host = fwd === null ? target.host : fwd.host.kind === 'ip' ? fwd.host.address : fwd.host.host;
  const resolved = await resolveFor(route, host, deps.resolve, deps.resolveTimeoutMs);
  if (!resolved.ok) return refused({ ...resolved, route });
  const upstream: Upstream = { scheme: fwd?.scheme ?? target.scheme, host, port: fwd?.port ?? target.port, address: resolved.address };
  let credential: Credential | null = null;
  const cred = fwd?.credential ?? null;
  if (cred !== null) {
    const secret = lookupSecret(deps.secrets, cred.secret);
    if (secret === undefined) {
      return refused(denied('SECRET_UNAVAILABLE', 'SECRET_UNAVAILABLE', `route "${route.name}" needs secret "${cred.secret}", which the host did not supply: add it to the gateway's secrets`, route));
    }
    credential = { name: cred.secret, header: cred.header, value: `${cred.prefix}${secret}${cred.suffix}`, secret };
  }
  // Admitted: what it answers reaches the run, whose label rises with it (private when credentialed).
  ctx.authority?.received({ scheme: target.scheme, host: target.host, port: target.port, path: target.path }, credential === null ? 'public' : 'credentialed');
  return { ok: true, route, upstream, credential };
}

function lookupSecret(source: SecretSource, name: string): string | undefined {
  try {
    return source.get(name);
  } catch {
    return undefined; // a source that throws fails closed, as if the secret were absent
  }
}
