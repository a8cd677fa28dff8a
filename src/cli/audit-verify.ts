/**
 * What `airlock audit verify` checks the log against: the latest signed checkpoint (from the file
 * witness under $AIRLOCK_CHECKPOINT_DIR, default /var/lib/airlock, or a file given with
 * --checkpoint, e.g. fetched from a remote witness) and the keys trusted to sign it (the host's
 * key, or --public-key files), and how the outcome is printed.
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCheckpoint, type Checkpoint } from '../audit/checkpoint.ts';
import { checkpointVerifier } from '../audit/checkpoint-config.ts';
import { readPublicKey } from '../audit/checkpoint-key.ts';
import { airlockHome } from '../audit/sqlite-store.ts';
import type { AuditStore } from '../audit/store.ts';
import type { VerifyOptions, VerifyResult } from '../audit/verify.ts';
import { AirlockError } from '../core/errors.ts';

export interface VerifyFlags {
  expect?: string;
  checkpoint?: string;
  publicKey?: string[];
  json?: boolean;
}

/** Where the checkpoint came from, for the report; null when there was none. */
export interface CheckpointSource {
  readonly options: VerifyOptions['checkpoint'];
  readonly from: string | null;
  /** Where verify looked when it found none. */
  readonly looked: string;
}

function readCheckpointFile(path: string): Checkpoint {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AirlockError('INVALID_REQUEST', `--checkpoint ${path} can't be read (${(error as Error).message})`, { path });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AirlockError('AUDIT_CHECKPOINT_INVALID', `--checkpoint ${path} is not JSON: give one checkpoint object as a witness keeps it`, { path });
  }
  return parseCheckpoint(value, path);
}

/** The checkpoint and trusted keys for `store`, from the flags or the defaults. */
export async function checkpointSource(store: AuditStore, env: NodeJS.ProcessEnv, flags: VerifyFlags): Promise<CheckpointSource> {
  const home = airlockHome(env);
  const given = (flags.publicKey ?? []).map(readPublicKey);
  // The host key is read only when no key was named: a verifier without it passes --public-key.
  const verifier = checkpointVerifier({ home, env, key: given.length > 0 ? 'skip' : 'read' });
  const trusted: KeyObject[] = given.length > 0 ? given : verifier.publicKey === null ? [] : [verifier.publicKey];
  if (flags.checkpoint !== undefined) return { options: { checkpoint: readCheckpointFile(flags.checkpoint), trusted }, from: flags.checkpoint, looked: flags.checkpoint };
  const latest = await verifier.witness.latest(store.logId);
  if (latest === null) return { options: undefined, from: null, looked: verifier.witness.name };
  return { options: { checkpoint: latest, trusted }, from: verifier.witness.fileOf(store.logId), looked: verifier.witness.name };
}

/** The human report of a verify. */
export function verifyReport(result: VerifyResult, source: CheckpointSource): string {
  const cp = result.checkpoint;
  const against =
    cp === null
      ? `no signed checkpoint for this log in ${source.looked}: only the chain was checked (a deleted tail would not show)`
      : `checked against the checkpoint at seq ${cp.seq} signed at ${cp.at} by key ${cp.key} (from ${source.from ?? source.looked})`;
  if (result.ok) return `audit chain holds: ${result.count} records; head ${result.head.seq}:${result.head.hash}; ${against}\n`;
  return `audit chain BROKEN at seq ${result.brokenAt}: ${result.reason} (${result.count} records before it hold); ${against}\n`;
}
