/**
 * Name resolution happens here, on the host, once per request: the gateway connects to the very
 * address it checked (no second lookup, so a rebinding DNS answer can't swap it). A sandbox has no
 * resolver of its own.
 */
import { lookup } from 'node:dns/promises';
import { AirlockError } from '../core/errors.ts';
import { canonicalIp, type CompiledRoute } from '../policy/network.ts';
import { addressPermitted, type AddressClass } from './address.ts';

/** Returns the addresses a name resolves to. Tests pass a real function of their own. */
export type Resolver = (host: string) => Promise<readonly string[]>;

/** The host's resolver (getaddrinfo through node:dns), all answers, in the resolver's order. */
export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, order: 'verbatim' })).map((a) => a.address);

export type Resolved = { readonly ok: true; readonly address: string } | { readonly ok: false; readonly why: string; readonly error: AirlockError };

/**
 * Resolves `host` for `route` and picks the first address the route may reach. IP literals are
 * not resolved. A resolver that fails, hangs past `timeoutMs` or answers with non-addresses denies.
 */
export async function resolveFor(route: CompiledRoute, host: string, resolver: Resolver, timeoutMs: number): Promise<Resolved> {
  const literal = canonicalIp(host);
  let answers: readonly string[];
  if (literal !== null) {
    answers = [literal];
  } else {
    try {
      answers = await withTimeout(resolver(host), timeoutMs);
    } catch (error) {
      const message = `could not resolve ${host}: ${error instanceof Error ? error.message : String(error)}`;
      return { ok: false, why: 'DNS_FAILED', error: new AirlockError('EGRESS_UPSTREAM_FAILED', message) };
    }
  }
  const refused: AddressClass[] = [];
  for (const answer of answers) {
    const verdict = addressPermitted(route.addresses, answer);
    if (verdict.ok) return { ok: true, address: verdict.address };
    refused.push(verdict.class);
  }
  const cls = refused[0] ?? 'reserved';
  const fix = cls === 'unspecified' ? "an unspecified address reaches this machine itself, never another host: name the host's real address" : `name the exact address in route "${route.name}".addresses if it is meant`;
  const message = `${host} resolves to ${answers.length === 0 ? 'nothing' : answers.join(', ')} (${refused.join(', ') || 'no answer'}): egress to ${cls} addresses is refused; ${fix}`;
  return { ok: false, why: `ADDRESS_${cls.toUpperCase().replace('-', '_')}`, error: new AirlockError('EGRESS_ADDRESS_REFUSED', message) };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => { clearTimeout(timer); resolve(v); },
      (e: unknown) => { clearTimeout(timer); reject(e instanceof Error ? e : new Error(String(e))); },
    );
  });
}
