/**
 * Where checkpointing's parts come from by default: the key at <dir>/checkpoint.key and the file
 * witness under <dir>/checkpoints/, where <dir> is the option, else $AIRLOCK_CHECKPOINT_DIR, else
 * /var/lib/airlock. Both are refused inside AIRLOCK_HOME (owned-path.ts).
 */
import type { KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { KEY_FILE, loadCheckpointKey } from './checkpoint-key.ts';
import { FileWitness, type CheckpointWitness } from './checkpoint-witness.ts';
import type { CheckpointingOptions } from './checkpointed-store.ts';
import { checkpointDir } from './owned-path.ts';

/** What an operator may set (createAirlock's `checkpoint`). */
export interface CheckpointSettings {
  /** Directory of the key and the file witness; default $AIRLOCK_CHECKPOINT_DIR or /var/lib/airlock. */
  readonly dir?: string;
  /** More witnesses (a remote service…): each checkpoint goes to the file witness, then to these. */
  readonly witnesses?: readonly CheckpointWitness[];
  /** Sign after this many records (default 1000). */
  readonly everyRecords?: number;
  /** Sign this long after the first unsigned record (default 1000 ms). */
  readonly everyMs?: number;
}

/**
 * The signing side: loads (making on first use) the key and opens the file witness.
 * @example new CheckpointedStore(store, checkpointingFor({ home, env: process.env }))
 */
export function checkpointingFor(options: { home: string; env: NodeJS.ProcessEnv; settings?: CheckpointSettings }): CheckpointingOptions {
  const dir = options.settings?.dir ?? checkpointDir(options.env);
  const key = loadCheckpointKey({ path: join(dir, KEY_FILE), home: options.home, create: 'if-missing' });
  const s = options.settings;
  return {
    privateKey: key.privateKey,
    publicKey: key.publicKey,
    witnesses: [new FileWitness({ dir, home: options.home }), ...(s?.witnesses ?? [])],
    ...(s?.everyRecords === undefined ? {} : { everyRecords: s.everyRecords }),
    ...(s?.everyMs === undefined ? {} : { everyMs: s.everyMs }),
  };
}

/** The verifying side: the file witness and the public half of the key, if there is one (never made here). */
export function checkpointVerifier(options: { home: string; env: NodeJS.ProcessEnv; key: 'read' | 'skip' }): { witness: FileWitness; publicKey: KeyObject | null; keyPath: string } {
  const dir = checkpointDir(options.env);
  const keyPath = join(dir, KEY_FILE);
  const key = options.key === 'skip' ? null : loadCheckpointKey({ path: keyPath, home: options.home, create: 'never' });
  return { witness: new FileWitness({ dir, home: options.home }), publicKey: key?.publicKey ?? null, keyPath };
}
