// `npm run fuzz [-- --inputs N] [-- --seed S]`: the warrant parser under mutated tokens. Every input
// goes through verifyWarrant() (and, when it verifies, authorize() and authorizeFlow()); anything
// but a coded WARRANT_* refusal is a crash. The loop runs in a worker that bumps a shared counter
// per input; the main thread calls it a hang when the counter stands still for HANG_MS. Input i of
// seed S is reproducible on its own: `--seed S --only i`.
//
// Mutations, each a share of the inputs:
//   text     1–4 byte edits of a valid token's text (replace, insert, delete, truncate, duplicate)
//   bytes    edits of the decoded envelope (bit flips, counts and lengths set to edge values), re-encoded
//   payload  a link's payload mutated (JSON values swapped for odd ones, keys added, dropped or
//            doubled, raw byte edits) and then SIGNED with the right key, so the parser and the chain
//            checks behind the signature are reached too
//   splice   links of different valid tokens combined, proofs swapped, random garbage
import { createHash } from 'node:crypto';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { authorize, authorizeFlow } from '../src/authority/authorize.ts';
import { decodeToken, encodeToken, makeLink, signingPreimage, type RawLink, type TokenProof } from '../src/authority/envelope.ts';
import { generateSigningKey, seedOf, type SigningKey } from '../src/authority/keys.ts';
import { attenuateWarrant, mintWarrant } from '../src/authority/mint.ts';
import { verifyWarrant, type VerifyOptions } from '../src/authority/verify.ts';
import { proveHolder } from '../src/authority/proof.ts';
import { AirlockError } from '../src/core/errors.ts';
import { sign } from 'node:crypto';
import { prng } from '../test/support/prng.ts';

const HANG_MS = 10_000;
const NOW = Date.UTC(2026, 11, 6, 8, 0, 0);

export interface FuzzReport {
  readonly seed: number;
  readonly inputs: number;
  readonly verified: number;
  readonly refused: Record<string, number>;
  readonly byMutation: Record<string, number>;
  readonly crashes: readonly { readonly index: number; readonly error: string }[];
  readonly slowestMs: number;
}

interface Corpus {
  readonly options: VerifyOptions;
  /** Valid tokens, with the signer of each link and the holder key of each link (for re-signing). */
  readonly chains: readonly { readonly token: string; readonly links: readonly RawLink[]; readonly signers: readonly SigningKey[]; readonly holders: readonly SigningKey[] }[];
  readonly boundHolder: SigningKey;
}

function corpus(): Corpus {
  const root = generateSigningKey();
  const keys = Array.from({ length: 4 }, () => generateSigningKey());
  const options: VerifyOptions = { trustedKeys: new Map([[root.kid, root.publicKey]]), now: NOW, revoked: new Set(['wr_AAAAAAAAAAAAAAAAAAAAAA']), tenant: 'acme' };
  const grants = [
    { tool: 'mail.*', ops: ['read'], resources: ['mail:thread/*', 'mail:to/*@x.com'], where: { folder: { in: ['inbox', 'archive'] }, amount: { lte: 10, gte: 1 } } },
    { tool: 'pay.send', ops: ['pay'], where: { 'to[]': { glob: '*@x.com' }, memo: { contains: 'ok', ne: 'no' }, flag: { eq: true } } },
    { tool: '**', ops: ['*'] },
  ];
  const flow = { declassify: [{ from: ['mail:thread/*'], to: ['mail:to/*'] }], endorse: [{ arg: 'pay.to', values: ['a', 1, true, null] }], waive: ['cal.*'] };
  const bearer = (links: readonly RawLink[], holder: SigningKey): string => encodeToken(links, { kind: 'bearer', seed: seedOf(holder) });
  const k = (i: number): SigningKey => keys[i] as SigningKey;
  const t0 = mintWarrant({ signer: root, holder: k(0).publicKey, tenant: 'acme', now: NOW, expiresAt: NOW + 3_600_000, grants, flow, maxDepth: 3 });
  const l0 = decodeToken(t0).links;
  const v0 = verifyWarrant(bearer(l0, k(0)), options);
  const t1 = attenuateWarrant(v0, { signer: k(0), holder: k(1).publicKey, now: NOW, expiresAt: NOW + 1_800_000, grants: [grants[0] as (typeof grants)[0]], flow: { waive: ['cal.create'] } });
  const l1 = decodeToken(t1).links;
  const v1 = verifyWarrant(bearer(l1, k(1)), options);
  const t2 = attenuateWarrant(v1, { signer: k(1), holder: k(2).publicKey, now: NOW, expiresAt: NOW + 900_000 });
  const l2 = decodeToken(t2).links;
  return {
    options,
    boundHolder: k(3),
    chains: [
      { token: bearer(l0, k(0)), links: l0, signers: [root], holders: [k(0)] },
      { token: bearer(l1, k(1)), links: l1, signers: [root, k(0)], holders: [k(0), k(1)] },
      { token: bearer(l2, k(2)), links: l2, signers: [root, k(0), k(1)], holders: [k(0), k(1), k(2)] },
    ],
  };
}

const ODD_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 47 + 1, 9, '', 'x'.repeat(600), '\u0000', '\ud800', '*', '**', 'k_', 'wr_', [], [[]], {}, { a: 1 }, [1, 2, 3], 'acme', 'globex', '__proto__'];

function mutateJson(value: unknown, r: () => number, depth: number): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;
  if (depth > 6 || r() < 0.15) return pick(ODD_VALUES);
  if (Array.isArray(value)) {
    const out = (value as unknown[]).map((v) => (r() < 0.3 ? mutateJson(v, r, depth + 1) : v));
    if (r() < 0.2) out.push(pick(ODD_VALUES));
    if (r() < 0.1) out.splice(0, 1);
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (r() < 0.08) continue;
      out[r() < 0.05 ? `${k}x` : k] = r() < 0.3 ? mutateJson(v, r, depth + 1) : v;
    }
    if (r() < 0.1) out[pick(['pop', 'extra', 'tenant', 'grants', 'flow', 'v'])] = pick(ODD_VALUES);
    return out;
  }
  return r() < 0.5 ? pick(ODD_VALUES) : value;
}

function editBytes(bytes: Buffer, r: () => number, count: number): Buffer {
  let out = Buffer.from(bytes);
  for (let i = 0; i < count; i++) {
    const at = Math.floor(r() * (out.length + 1));
    const op = Math.floor(r() * 6);
    if (op === 0 && out.length > 0) out[Math.min(at, out.length - 1)] = Math.floor(r() * 256);
    else if (op === 1) out = Buffer.concat([out.subarray(0, at), Buffer.of(Math.floor(r() * 256)), out.subarray(at)]);
    else if (op === 2) out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + Math.floor(r() * 8))]);
    else if (op === 3) out = out.subarray(0, at);
    else if (op === 4) out = Buffer.concat([out.subarray(0, at), out.subarray(Math.floor(r() * out.length), Math.floor(r() * out.length) + 16), out.subarray(at)]);
    else if (out.length > 0) out[Math.min(at, out.length - 1)] = (out[Math.min(at, out.length - 1)] ?? 0) ^ (1 << Math.floor(r() * 8));
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Input `index` of `seed`: a mutated token and the name of its mutation. */
function input(c: Corpus, seed: number, index: number): { text: string; mutation: string; proofFor: SigningKey | null } {
  const r = prng(seed ^ Math.imul(index + 1, 0x9e3779b1));
  const chain = c.chains[Math.floor(r() * c.chains.length)] as Corpus['chains'][number];
  const share = r();
  if (share < 0.35) {
    let text = chain.token;
    const edits = 1 + Math.floor(r() * 4);
    for (let i = 0; i < edits; i++) {
      const at = Math.floor(r() * text.length);
      const ch = r() < 0.7 ? B64.charAt(Math.floor(r() * 64)) : String.fromCharCode(Math.floor(r() * 256));
      const op = Math.floor(r() * 4);
      text = op === 0 ? text.slice(0, at) + ch + text.slice(at + 1) : op === 1 ? text.slice(0, at) + ch + text.slice(at) : op === 2 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at);
    }
    return { text, mutation: 'text', proofFor: null };
  }
  if (share < 0.55) {
    const bytes = Buffer.from(chain.token.slice(4), 'base64url');
    const edgeOnly = r() < 0.5;
    const edited = edgeOnly ? Buffer.from(bytes) : editBytes(bytes, r, 1 + Math.floor(r() * 3));
    if (edgeOnly && edited.length > 32) {
      // Length and count fields set to edge values.
      const where = Math.floor(r() * 4);
      if (where === 0) edited[1] = [0, 1, 9, 10, 255][Math.floor(r() * 5)] ?? 0;
      else if (where === 1) edited[2] = [0, 23, 25, 255][Math.floor(r() * 4)] ?? 0;
      else edited.writeUInt32BE([0, 1, 16_384, 16_385, 0xffffffff][Math.floor(r() * 5)] ?? 0, 27);
    }
    return { text: `aw1.${edited.toString('base64url')}`, mutation: 'bytes', proofFor: null };
  }
  if (share < 0.85) {
    const j = Math.floor(r() * chain.links.length);
    const link = chain.links[j] as RawLink;
    let payload: Buffer;
    if (r() < 0.7) {
      const doc = JSON.parse(link.payload.toString('utf8')) as unknown;
      let text = JSON.stringify(mutateJson(doc, r, 0));
      if (r() < 0.1) text = text.replace(/^\{/, '{"v":1,');
      payload = Buffer.from(text, 'utf8');
    } else payload = editBytes(link.payload, r, 1 + Math.floor(r() * 4));
    if (payload.length > 16_384) payload = payload.subarray(0, 16_384);
    const signer = chain.signers[j] as SigningKey;
    const resigned = makeLink(signer.kid, payload, sign(null, signingPreimage(signer.kid, payload), signer.privateKey));
    const holder = chain.holders[j] as SigningKey;
    const bound = r() < 0.2;
    const proof: TokenProof = bound ? { kind: 'bound' } : { kind: 'bearer', seed: seedOf(holder) };
    return { text: encodeToken([...chain.links.slice(0, j), resigned], proof), mutation: 'payload', proofFor: bound ? holder : null };
  }
  const other = c.chains[Math.floor(r() * c.chains.length)] as Corpus['chains'][number];
  const kind = Math.floor(r() * 3);
  if (kind === 0) {
    const links = [...chain.links.slice(0, 1 + Math.floor(r() * chain.links.length)), ...other.links.slice(Math.floor(r() * other.links.length))].slice(0, 9);
    return { text: encodeToken(links, { kind: 'bearer', seed: seedOf((r() < 0.5 ? chain : other).holders.at(-1) as SigningKey) }), mutation: 'splice', proofFor: null };
  }
  if (kind === 1) return { text: encodeToken(chain.links, { kind: 'bound' }), mutation: 'splice', proofFor: r() < 0.5 ? c.boundHolder : (chain.holders.at(-1) ?? null) };
  const garbage = Buffer.from(Array.from({ length: Math.floor(r() * 2048) }, () => Math.floor(r() * 256)));
  return { text: r() < 0.5 ? `aw1.${garbage.toString('base64url')}` : garbage.toString('latin1'), mutation: 'splice', proofFor: null };
}

/** Runs inputs [from, to) of `seed`; `tick` is called after each one. */
export function fuzzWarrants(options: { readonly seed: number; readonly from?: number; readonly to: number; readonly tick?: (index: number) => void }): FuzzReport {
  const c = corpus();
  const refused: Record<string, number> = {};
  const byMutation: Record<string, number> = {};
  const crashes: { index: number; error: string }[] = [];
  let verified = 0;
  let slowestMs = 0;
  const call = { tool: 'mail.read', op: 'read', resources: ['mail:thread/1'], args: { folder: 'inbox', amount: 5, to: ['a@x.com'], memo: 'ok', flag: true } };
  for (let index = options.from ?? 0; index < options.to; index++) {
    const started = performance.now();
    const { text, mutation, proofFor } = input(c, options.seed, index);
    byMutation[mutation] = (byMutation[mutation] ?? 0) + 1;
    try {
      const verifyOptions: VerifyOptions = proofFor === null ? c.options : { ...c.options, proof: proveHolder(chainHashOf(text), proofFor, `challenge-${index}`) };
      const w = verifyWarrant(text, verifyOptions);
      verified++;
      authorize(w, call);
      authorizeFlow(w, { kind: 'declassify', source: 'mail:thread/1', principal: 'mail:to/a' });
      authorizeFlow(w, { kind: 'endorse', arg: 'pay.to', value: null });
    } catch (error) {
      if (error instanceof AirlockError && error.code.startsWith('WARRANT_')) refused[error.code] = (refused[error.code] ?? 0) + 1;
      else crashes.push({ index, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
    slowestMs = Math.max(slowestMs, performance.now() - started);
    options.tick?.(index);
  }
  return { seed: options.seed, inputs: options.to - (options.from ?? 0), verified, refused, byMutation, crashes, slowestMs };
}

/** The chain hash of a token's leaf, for proofs; empty when the token does not frame. */
function chainHashOf(text: string): string {
  try {
    const leaf = decodeToken(text).links.at(-1);
    return leaf === undefined ? '' : createHash('sha256').update(leaf.bytes).digest('hex');
  } catch {
    return createHash('sha256').update(text).digest('hex');
  }
}

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}

if (!isMainThread && (workerData as { fuzz?: boolean } | null)?.fuzz === true) {
  const { seed, from, to, counter } = workerData as { seed: number; from: number; to: number; counter: Int32Array };
  const report = fuzzWarrants({ seed, from, to, tick: (i) => Atomics.store(counter, 0, i + 1) });
  parentPort?.postMessage(report);
} else if (import.meta.main) {
  const seed = arg('--seed', Date.now() % 2 ** 31);
  const only = arg('--only', -1);
  const inputs = only >= 0 ? 1 : arg('--inputs', 1_000_000);
  const from = only >= 0 ? only : 0;
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL(import.meta.url), { workerData: { fuzz: true, seed, from, to: from + inputs, counter } });
  const started = performance.now();
  const report = await new Promise<FuzzReport>((resolve, reject) => {
    let last = -1;
    let still = performance.now();
    const watch = setInterval(() => {
      const done = Atomics.load(counter, 0);
      if (done !== last) {
        last = done;
        still = performance.now();
        process.stderr.write(`fuzz: ${done - from}/${inputs}\r`);
      } else if (performance.now() - still > HANG_MS) {
        clearInterval(watch);
        void worker.terminate();
        reject(new Error(`HANG: input ${done} of seed ${seed} ran over ${HANG_MS} ms (replay: --seed ${seed} --only ${done})`));
      }
    }, 1000);
    worker.once('message', (r: FuzzReport) => {
      clearInterval(watch);
      resolve(r);
    });
    worker.once('error', (e: Error) => {
      clearInterval(watch);
      reject(e);
    });
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`${JSON.stringify({ ...report, crashes: report.crashes.length, firstCrashes: report.crashes.slice(0, 3), seconds: Number(seconds), hangs: 0 }, null, 2)}\n`);
  if (report.crashes.length > 0) process.exitCode = 1;
}
