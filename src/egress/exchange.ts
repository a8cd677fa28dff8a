/**
 * One plain-http exchange through the gateway, shared by both tiers: the container tier's proxy
 * (bodies stream) and the isolate tier's fetch (bodies are bytes). Admission first; then the
 * guest's headers minus hop-by-hop ones, the credential set by the host (a guest-sent header of
 * the same name is dropped), the body (already read whole and bounded by the caller), and the response
 * returned for the caller to relay (redacted when a secret was used).
 */
import type { IncomingMessage } from 'node:http';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { AirlockError } from '../core/errors.ts';
import { admit, type AdmitDeps, type Credential, type EgressContext } from './admit.ts';
import type { EgressRecord } from './audit.ts';
import { forwardHeaders, sendPinned, type Pools } from './connect.ts';
import { meter } from './quota.ts';
import { redactAcross, redactBytes } from './secrets.ts';
import type { Target } from './target.ts';
import type { GatewayLimits } from './limits.ts';

export { DEFAULT_LIMITS, type GatewayLimits } from './limits.ts';

export interface ExchangeDeps extends AdmitDeps {
  readonly pools: Pools;
  readonly limits: GatewayLimits;
}

export type Exchanged =
  | { readonly ok: true; readonly response: IncomingMessage; readonly credential: Credential | null; readonly body: (stream: IncomingMessage) => Readable }
  | { readonly ok: false; readonly error: AirlockError };

/**
 * Admits and sends one request; `record` is filled in as it goes. The caller reads the response
 * through `body(response)`, which meters it against the size limit and the route's quota.
 */
export async function exchange(
  deps: ExchangeDeps,
  ctx: EgressContext,
  record: EgressRecord,
  target: Target,
  headers: readonly (readonly [string, string])[],
  body: Uint8Array | undefined,
  signal?: AbortSignal,
): Promise<Exchanged> {
  const adm = await admit(deps, ctx, 'request', record.method, target, body?.byteLength ?? 0);
  record.route = adm.route?.name ?? null;
  if (!adm.ok) {
    Object.assign(record, { reason: adm.why, code: adm.error.code, message: adm.error.message });
    return { ok: false, error: adm.error };
  }
  const { route, upstream, credential } = adm;
  Object.assign(record, { allow: true, reason: 'ROUTE_GRANTED', address: upstream.address, secret: credential?.name ?? null });
  // The gateway frames the request itself (sendPinned sets the length of the body it really sends).
  // A credentialed response is searched for the secret before the guest sees it, so it must come
  // whole and uncompressed: the guest's Accept-Encoding and Range headers are replaced or dropped,
  // and an encoded or partial answer is withheld below.
  const drop = credential === null ? FRAMING : new Set([...FRAMING, ...WHOLE_ANSWER, credential.header]);
  const out = forwardHeaders(headers, drop);
  if (credential !== null) out.push([credential.header, credential.value], ['accept-encoding', 'identity']);
  const charge = (n: number): number => deps.ledger.addBytes(ctx, route, n);
  // admit() charged the whole body to the quota when it admitted the request.
  const sent = body === undefined || body.byteLength === 0 ? undefined : body;
  record.bytesOut = sent?.byteLength ?? 0;
  try {
    const response = await sendPinned(deps.pools.of({ tenant: ctx.tenant, sandbox: ctx.sandbox, run: ctx.run, route: route.name, credential: credential?.name ?? null }), upstream, record.method, `${target.path}${target.search}`, out, sent, deps.limits.upstreamTimeoutMs, signal);
    record.status = response.statusCode ?? null;
    const unreadable = credential === null ? null : unsearchable(response);
    if (unreadable !== null) {
      response.destroy();
      const e = new AirlockError('EGRESS_UPSTREAM_FAILED', `the upstream answered a credentialed request with ${unreadable}, which the gateway can't search whole for the secret: the response was withheld`);
      record.ended = e.code;
      return { ok: false, error: e };
    }
    const responseMeter = (): Transform =>
      meter({ max: deps.limits.maxResponseBytes, what: 'response body', charge, onBytes: (n) => (record.bytesIn += n) });
    // pipeline, not pipe: an upstream cut mid-body (an abort, a reset) ends the reader with an
    // error instead of leaving it waiting for an end that never comes, and a meter that stops the
    // body closes the upstream.
    const readThrough = (stream: Readable): Readable => {
      const metered = responseMeter();
      pipeline(stream, metered, () => undefined);
      return metered;
    };
    return { ok: true, response, credential, body: readThrough };
  } catch (error) {
    const e = error instanceof AirlockError ? error : new AirlockError('EGRESS_UPSTREAM_FAILED', String(error));
    record.ended = e.code;
    return { ok: false, error: e };
  }
}

/** Request headers the guest never sets: framing is the gateway's. */
const FRAMING: ReadonlySet<string> = new Set(['content-length']);
/** Dropped on credentialed routes: they would let an echo come back compressed or in slices. */
const WHOLE_ANSWER = ['accept-encoding', 'range', 'if-range'];

/**
 * Why a credentialed response can't be searched for the secret as it stands, or null: compressed
 * (a content or transfer coding other than identity and chunked), or a slice of a whole (206).
 * The answer names no header value: an upstream could put the secret there.
 */
function unsearchable(response: IncomingMessage): string | null {
  const codings = [response.headers['content-encoding'] ?? '', response.headers['transfer-encoding'] ?? '']
    .flatMap((v) => v.split(','))
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== '' && v !== 'identity' && v !== 'chunked');
  if (codings.length > 0) return 'a compressed or encoded body';
  if (response.statusCode === 206) return 'a partial body (206)';
  return null;
}

/** The response's headers as pairs, hop-by-hop ones removed and secrets redacted. */
export function responseHeaders(response: IncomingMessage, credential: Credential | null): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) pairs.push([response.rawHeaders[i] ?? '', response.rawHeaders[i + 1] ?? '']);
  const kept = forwardHeaders(pairs, new Set());
  if (credential === null) return kept;
  const secrets = [{ name: credential.name, value: Buffer.from(credential.secret).toString('latin1') }];
  // Searched across headers too, so a secret split over several values (or a name and its value)
  // is found: values in order first, then names and values interleaved.
  const values = redactAcross(kept.map(([, v]) => v), secrets);
  const flat = redactAcross(kept.flatMap(([k], i) => [k, values[i] ?? '']), secrets);
  // Header names reach the guest lower-cased: a name that held any part of the secret, in any
  // case, is dropped (a placeholder there would not be a valid name).
  return kept.flatMap(([k], i): [string, string][] => (flat[2 * i] === k ? [[k, flat[2 * i + 1] ?? '']] : []));
}

/** Reads a metered body to the end, bounded by the meter; redacts the secret if one was used. */
export async function readBody(stream: Readable, credential: Credential | null): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return credential === null ? body : Buffer.from(redactBytes(body, [{ name: credential.name, value: credential.secret }]));
}
