// Warrant figures, with the raw Ed25519 costs they rest on measured in the same run:
//   warrant_mint_p50_us             mint a root bound to a given holder (payload, sign, encode)
//   warrant_mint_bearer_p50_us      the same, making the fresh holder key a bearer token carries
//   warrant_attenuate_p50_us        append a link to a verified chain (widening check, sign, encode)
//   warrant_verify_depth2_p50_us    verify, uncached, a chain of 2 links (root + 1 attenuation)
//   warrant_verify_depth4_p50_us    the same with 4 links
//   warrant_authorize_p50_us        one call on a cached chain: cache lookup (SHA-256 of the token),
//                                   standing checks (key, tenant, expiry, revocation), and the match
//   warrant_match_p50_us            authorize() alone on a verified chain of 4 links
//   ed25519_sign_p50_us / ed25519_verify_p50_us   baselines: node:crypto alone
// Medians of samples; the sub-microsecond ones time 100 calls per sample. Run alone: node bench/warrant.ts
import { sign, verify } from 'node:crypto';
import { authorize } from '../src/authority/authorize.ts';
import { WarrantCache } from '../src/authority/cache.ts';
import { generateSigningKey } from '../src/authority/keys.ts';
import { attenuateWarrant, mintWarrant } from '../src/authority/mint.ts';
import type { GrantDoc } from '../src/authority/payload.ts';
import { verifyWarrant, type VerifiedWarrant, type VerifyOptions } from '../src/authority/verify.ts';
import { median, round } from './stats.ts';

const SAMPLES = 1500;
const BATCH = 100;

function perCallUs(samples: number, batch: number, fn: () => unknown): number {
  for (let i = 0; i < 200; i++) fn();
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t = performance.now();
    for (let i = 0; i < batch; i++) fn();
    out.push(((performance.now() - t) * 1000) / batch);
  }
  return round(median(out), 2);
}

export function benchWarrant(): Promise<Record<string, number>> {
  const root = generateSigningKey();
  const holder = generateSigningKey();
  const now = Date.now();
  const options: VerifyOptions = { trustedKeys: new Map([[root.kid, root.publicKey]]), now, revoked: new Set(['wr_AAAAAAAAAAAAAAAAAAAAAA']), tenant: 'acme' };
  const grants: GrantDoc[] = [
    { tool: 'mail.*', ops: ['read'], resources: ['mail:thread/*', 'mail:to/*@example.com'], where: { folder: { in: ['inbox', 'archive'] } } },
    { tool: 'cal.read', ops: ['read'], resources: ['cal:day/*'] },
  ];
  const mint = (): string => mintWarrant({ signer: root, tenant: 'acme', now, expiresAt: now + 3_600_000, grants });
  const chains: string[] = [mint()];
  let leaf: VerifiedWarrant = verifyWarrant(chains[0], options);
  for (let depth = 1; depth < 4; depth++) {
    const token = attenuateWarrant(leaf, { now, expiresAt: now + 3_600_000 - depth, grants: [{ tool: 'mail.read', ops: ['read'], resources: ['mail:thread/*'], where: { folder: { in: ['inbox'] } } }] });
    chains.push(token);
    leaf = verifyWarrant(token, options);
  }
  const cache = new WarrantCache();
  const deepest = chains[3] as string;
  cache.verify(deepest, options);
  const call = { tool: 'mail.read', op: 'read', resources: ['mail:thread/7'], args: { folder: 'inbox', threadId: '7' } };
  const message = Buffer.alloc(600, 7);
  const signature = sign(null, message, root.privateKey);
  const figures = {
    ed25519_sign_p50_us: perCallUs(SAMPLES, 1, () => sign(null, message, root.privateKey)),
    ed25519_verify_p50_us: perCallUs(SAMPLES, 1, () => verify(null, message, root.publicKey, signature)),
    warrant_mint_p50_us: perCallUs(SAMPLES, 1, () => mintWarrant({ signer: root, holder: holder.publicKey, tenant: 'acme', now, expiresAt: now + 3_600_000, grants })),
    warrant_mint_bearer_p50_us: perCallUs(SAMPLES, 1, mint),
    warrant_attenuate_p50_us: perCallUs(SAMPLES, 1, () => attenuateWarrant(leaf, { holder: holder.publicKey, now, expiresAt: now + 60_000, grants: [{ tool: 'mail.read', ops: ['read'], resources: ['mail:thread/7'], where: { folder: { eq: 'inbox' } } }] })),
    warrant_verify_depth2_p50_us: perCallUs(SAMPLES, 1, () => verifyWarrant(chains[1], options)),
    warrant_verify_depth4_p50_us: perCallUs(SAMPLES, 1, () => verifyWarrant(deepest, options)),
    warrant_authorize_p50_us: perCallUs(SAMPLES, BATCH, () => authorize(cache.verify(deepest, options), call)),
    warrant_match_p50_us: perCallUs(SAMPLES, BATCH, () => authorize(leaf, call)),
  };
  if (!authorize(cache.verify(deepest, options), call).allow) throw new Error('bench: the call measured must be allowed');
  return Promise.resolve(figures);
}

if (import.meta.main) process.stdout.write(`${JSON.stringify(await benchWarrant())}\n`);
