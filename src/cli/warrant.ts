/**
 * `airlock warrant keygen | issue | attenuate | inspect | verify | revoke | prove`: make, narrow,
 * read and check warrants (docs/warrant-format.md) from the command line. Keys, trusted keys and
 * the revocation list live under $AIRLOCK_HOME/warrants (src/cli/warrant-files.ts).
 *
 * @example
 *   airlock warrant keygen --trust                      # a root key, trusted here
 *   airlock warrant issue --key k_… --tenant acme --ttl 1h --grants '[{"tool":"mail.*","ops":["read"]}]' > t
 *   airlock warrant verify --tenant acme t && echo valid
 */
import { createHash, randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { z } from 'zod';
import { decodeToken } from '../authority/envelope.ts';
import { generateSigningKey, type PublicKeyRef } from '../authority/keys.ts';
import { attenuateWarrant, mintWarrant } from '../authority/mint.ts';
import { flowSchema, grantSchema, problemsOf, type FlowDoc, type GrantDoc } from '../authority/payload.ts';
import { proveHolder, type HolderProof } from '../authority/proof.ts';
import { verifyWarrant, type VerifiedWarrant, type VerifyOptions } from '../authority/verify.ts';
import { AirlockError } from '../core/errors.ts';
import { readDocument, readPublicKey, readSigningKey, readToken, revoke, revokedIds, trustedKeys, trustKey, warrantDirs, writeKeyPair, type WarrantDirs } from './warrant-files.ts';

/** Where the command reads its settings and the clock, and writes its output (tests may pass their own). */
export interface WarrantCliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => number;
  readonly write: (text: string) => void;
}

const processIo: WarrantCliIo = { env: process.env, now: () => Date.now(), write: (text) => process.stdout.write(text) };

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function ttl(text: string): number {
  const m = /^(\d{1,9})(ms|s|m|h|d)$/.exec(text);
  if (m === null) throw new AirlockError('INVALID_REQUEST', `--ttl ${JSON.stringify(text)} is not a duration such as 90s, 15m, 1h or 7d`);
  return Number(m[1]) * (UNITS[m[2] ?? 'ms'] ?? 1);
}

function grantsFrom(source: string): GrantDoc[] {
  const parsed = z.array(grantSchema).max(64).safeParse(readDocument(source, '--grants'));
  if (!parsed.success) throw new AirlockError('INVALID_REQUEST', `--grants is not a list of grants: ${problemsOf(parsed.error)}`);
  return parsed.data;
}

function flowFrom(source: string): FlowDoc {
  const parsed = flowSchema.safeParse(readDocument(source, '--flow'));
  if (!parsed.success) throw new AirlockError('INVALID_REQUEST', `--flow is not a flow document: ${problemsOf(parsed.error)}`);
  return parsed.data;
}

function depth(text: string): number {
  if (!/^\d$/.test(text)) throw new AirlockError('INVALID_REQUEST', '--max-depth is a whole number from 0 to 8');
  return Number(text);
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The leaf link's hash of a token, for proofs (the token is not verified here). */
function chainHashOf(token: string): string {
  const leaf = decodeToken(token).links.at(-1);
  if (leaf === undefined) throw new AirlockError('WARRANT_INVALID', 'the token holds no links');
  return createHash('sha256').update(leaf.bytes).digest('hex');
}

interface VerifyFlags {
  tenant?: string;
  trust: string[];
  challenge?: string;
  proof?: string;
  holderKey?: string;
}

/** The verify options from the flags: trusted keys, revoked ids, the clock, the proof for a bound token. */
function verifyOptions(io: WarrantCliIo, dirs: WarrantDirs, token: string, tenant: string, flags: VerifyFlags): VerifyOptions {
  let proof: HolderProof | undefined;
  if (flags.holderKey !== undefined) proof = proveHolder(chainHashOf(token), readSigningKey(dirs, flags.holderKey), `cli-${randomBytes(16).toString('base64url')}`);
  else if (flags.proof !== undefined || flags.challenge !== undefined) {
    if (flags.proof === undefined || flags.challenge === undefined) throw new AirlockError('INVALID_REQUEST', '--proof and --challenge go together');
    proof = { challenge: flags.challenge, signature: flags.proof };
  }
  return { trustedKeys: trustedKeys(dirs, flags.trust), now: io.now(), revoked: revokedIds(dirs), tenant, ...(proof !== undefined && { proof }) };
}

function summary(w: VerifiedWarrant): Record<string, unknown> {
  return {
    valid: true,
    tenant: w.tenant,
    id: w.id,
    ids: w.ids,
    depth: w.depth,
    maxDepth: w.maxDepth,
    expiresAt: new Date(w.expiresAt).toISOString(),
    chainHash: w.chainHash,
    rootKid: w.rootKid,
    holder: w.holder.kid,
    kind: w.bearer === null ? 'bound' : 'bearer',
  };
}

function trustFlags(cmd: Command): Command {
  return cmd
    .option('--trust <file>', 'also trust this root public key (repeatable)', collect, [])
    .option('--challenge <text>', 'the challenge a bound token was proven over')
    .option('--proof <signature>', "the holder's proof for a bound token (airlock warrant prove)")
    .option('--holder-key <key>', "prove a bound token here with the holder's private key");
}

/** `airlock warrant …`. Pass `io` to run it against other settings or capture its output. */
export function warrantCommand(io: WarrantCliIo = processIo): Command {
  const warrant = new Command('warrant').description('task-scoped capabilities that only narrow when delegated (docs/warrant-format.md)').exitOverride();
  const dirs = (): WarrantDirs => warrantDirs(io.env);
  const out = (json: boolean | undefined, object: Record<string, unknown>, text: string): void => io.write(json === true ? `${JSON.stringify(object)}\n` : `${text}\n`);

  warrant
    .command('keygen')
    .description('make an Ed25519 key pair (private key file mode 0600)')
    .option('--out <path>', 'write PATH.key and PATH.pub instead of $AIRLOCK_HOME/warrants/keys/<kid>.*')
    .option('--trust', 'also trust it as a root key here')
    .option('--json', 'print one JSON object')
    .exitOverride()
    .action((flags: { out?: string; trust?: boolean; json?: boolean }) => {
      const key = generateSigningKey();
      const d = dirs();
      const paths = writeKeyPair(d, key, flags.out);
      const trusted = flags.trust === true ? trustKey(d, key.kid, key.publicKey) : null;
      out(flags.json, { kid: key.kid, privateKey: paths.privatePath, publicKey: paths.publicPath, trusted }, `${key.kid}\n  private ${paths.privatePath}\n  public  ${paths.publicPath}${trusted === null ? '' : `\n  trusted ${trusted}`}`);
    });

  warrant
    .command('issue')
    .description('mint a root warrant, signed by a root key')
    .requiredOption('--key <key>', 'the root private key: a kid under $AIRLOCK_HOME/warrants/keys, or a .key file')
    .requiredOption('--tenant <id>', 'the tenant it is for')
    .requiredOption('--grants <json|file>', 'a JSON list of grants: [{"tool":"mail.*","ops":["read"],"resources":["mail:thread/*"]}]')
    .requiredOption('--ttl <duration>', 'how long it lives: 90s, 15m, 1h, 7d')
    .option('--holder <key>', "bind it to this holder's public key (the presenter must prove possession); default: a bearer token")
    .option('--flow <json|file>', 'data-flow rules (declassify, endorse, waive)')
    .option('--max-depth <n>', 'how deep it may be delegated (0-8, default 4)')
    .option('--json', 'print one JSON object')
    .exitOverride()
    .action((flags: { key: string; tenant: string; grants: string; ttl: string; holder?: string; flow?: string; maxDepth?: string; json?: boolean }) => {
      const d = dirs();
      const now = io.now();
      const holder: PublicKeyRef | undefined = flags.holder === undefined ? undefined : readPublicKey(d, flags.holder);
      const token = mintWarrant({
        signer: readSigningKey(d, flags.key),
        tenant: flags.tenant,
        grants: grantsFrom(flags.grants),
        now,
        expiresAt: now + ttl(flags.ttl),
        ...(holder !== undefined && { holder }),
        ...(flags.flow !== undefined && { flow: flowFrom(flags.flow) }),
        ...(flags.maxDepth !== undefined && { maxDepth: depth(flags.maxDepth) }),
      });
      out(flags.json, { token, chainHash: chainHashOf(token), kind: holder === undefined ? 'bearer' : 'bound' }, token);
    });

  trustFlags(
    warrant
      .command('attenuate')
      .description('append a narrower link: fewer grants, sooner expiry, less depth')
      .argument('<token>', 'the token, a file holding it, or - for stdin')
      .option('--grants <json|file>', "the child's grants (omitted: it keeps its parent's)")
      .option('--flow <json|file>', "the child's data-flow rules")
      .option('--ttl <duration>', "how long it lives (default: as long as its parent); never past the parent's expiry")
      .option('--holder <key>', 'bind the child to this holder public key; default: a bearer token')
      .option('--key <key>', "the parent holder's private key (for a bound parent; a bearer parent carries its own)")
      .option('--max-depth <n>', 'lower the depth limit'),
  )
    .option('--json', 'print one JSON object')
    .exitOverride()
    .action((source: string, flags: VerifyFlags & { grants?: string; flow?: string; ttl?: string; holder?: string; key?: string; maxDepth?: string; json?: boolean }) => {
      const d = dirs();
      const token = readToken(source);
      const tenant = inspectLinks(token)[0]?.['tenant'];
      if (typeof tenant !== 'string') throw new AirlockError('WARRANT_INVALID', 'the token has no root tenant');
      const signer = flags.key === undefined ? undefined : readSigningKey(d, flags.key);
      const parent = verifyWarrant(token, verifyOptions(io, d, token, tenant, { ...flags, ...(signer !== undefined && flags.holderKey === undefined && { holderKey: flags.key }) }));
      const now = io.now();
      const holder = flags.holder === undefined ? undefined : readPublicKey(d, flags.holder);
      const child = attenuateWarrant(parent, {
        now,
        expiresAt: flags.ttl === undefined ? parent.expiresAt : now + ttl(flags.ttl),
        ...(signer !== undefined && { signer }),
        ...(holder !== undefined && { holder }),
        ...(flags.grants !== undefined && { grants: grantsFrom(flags.grants) }),
        ...(flags.flow !== undefined && { flow: flowFrom(flags.flow) }),
        ...(flags.maxDepth !== undefined && { maxDepth: depth(flags.maxDepth) }),
      });
      out(flags.json, { token: child, chainHash: chainHashOf(child), kind: holder === undefined ? 'bearer' : 'bound' }, child);
    });

  warrant
    .command('inspect')
    .description('print the links of a token, NOT verified (use verify for that)')
    .argument('<token>', 'the token, a file holding it, or - for stdin')
    .option('--json', 'print one JSON object')
    .exitOverride()
    .action((source: string, flags: { json?: boolean }) => {
      const token = readToken(source);
      const { proof } = decodeToken(token);
      const links = inspectLinks(token);
      out(flags.json, { verified: false, kind: proof.kind, chainHash: chainHashOf(token), links }, `UNVERIFIED ${proof.kind} token, ${links.length} link(s)\n${links.map((l, i) => `link ${i}: ${JSON.stringify(l, null, 2)}`).join('\n')}`);
    });

  trustFlags(
    warrant
      .command('verify')
      .description('verify a token: signatures, chain, expiry, revocation, tenant; exit 0 only when it holds')
      .argument('<token>', 'the token, a file holding it, or - for stdin')
      .requiredOption('--tenant <id>', 'the tenant it must be for'),
  )
    .option('--json', 'print one JSON object')
    .exitOverride()
    .action((source: string, flags: VerifyFlags & { tenant: string; json?: boolean }) => {
      const d = dirs();
      const token = readToken(source);
      const w = verifyWarrant(token, verifyOptions(io, d, token, flags.tenant, flags));
      out(flags.json, summary(w), `valid: ${w.bearer === null ? 'bound' : 'bearer'} warrant ${w.id} for tenant ${w.tenant}, depth ${w.depth}, expires ${new Date(w.expiresAt).toISOString()}`);
    });

  warrant
    .command('prove')
    .description("sign a verifier's challenge as the holder of a bound token")
    .argument('<token>', 'the token, a file holding it, or - for stdin')
    .requiredOption('--key <key>', "the holder's private key")
    .requiredOption('--challenge <text>', "the verifier's challenge")
    .option('--json', 'print one JSON object')
    .exitOverride()
    .action((source: string, flags: { key: string; challenge: string; json?: boolean }) => {
      const proof = proveHolder(chainHashOf(readToken(source)), readSigningKey(dirs(), flags.key), flags.challenge);
      out(flags.json, { ...proof }, proof.signature);
    });

  warrant
    .command('revoke')
    .description('revoke a warrant id (any link): every chain holding it is refused here')
    .argument('<id>', 'the warrant id (wr_…)')
    .option('--json', 'print one JSON object')
    .exitOverride()
    .action((id: string, flags: { json?: boolean }) => {
      const d = dirs();
      revoke(d, id);
      out(flags.json, { revoked: id, list: d.revoked }, `revoked ${id} (${d.revoked})`);
    });

  return warrant;
}

/** The payloads of a token's links, parsed as JSON but not verified: for reading only. */
function inspectLinks(token: string): Record<string, unknown>[] {
  return decodeToken(token).links.map((link, i) => {
    try {
      return JSON.parse(link.payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new AirlockError('WARRANT_INVALID', `link ${i}'s payload is not JSON`);
    }
  });
}
