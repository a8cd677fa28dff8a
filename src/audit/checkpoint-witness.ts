/**
 * Witnesses: somewhere a signed checkpoint is kept that an attacker of the audit database does not
 * also own. The interface is two calls; an operator points airlock at any witness (a remote
 * service, a transparency log, another host) by implementing it and passing it to createAirlock's
 * `checkpoint.witnesses`.
 *
 * The default is FileWitness: one append-only file per log, under a root-owned directory outside
 * AIRLOCK_HOME (default /var/lib/airlock/checkpoints/), one checkpoint per line. Each publish is one
 * O_APPEND write of a whole line, not fsynced: the log's records are durable before their head is
 * signed, so a power loss can only lose the newest checkpoints (the older ones still hold), never
 * leave one the log contradicts. `latest` is the last whole line. The PostgreSQL database is deliberately not a witness: whoever
 * owns the log's database would own the witness too.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { constants, open } from 'node:fs/promises';
import { AirlockError } from '../core/errors.ts';
import { parseCheckpoint, type Checkpoint } from './checkpoint.ts';
import { checkOwnedFile, NOFOLLOW, ownedDir, within } from './owned-path.ts';

/**
 * Where checkpoints go and where the latest one is read back.
 *
 * @example
 *   const remote: CheckpointWitness = {
 *     name: 'https://witness.example/airlock',
 *     publish: async (cp) => void (await fetch(url, { method: 'POST', body: JSON.stringify(cp) })),
 *     latest: async (log) => { const r = await fetch(`${url}?log=${encodeURIComponent(log)}`); return r.status === 404 ? null : parseCheckpoint(await r.json(), url); },
 *   };
 */
export interface CheckpointWitness {
  /** Where it is, for messages ("file /var/lib/airlock/checkpoints/….jsonl"). */
  readonly name: string;
  /** Keeps `cp`; resolves once it is kept. */
  publish(cp: Checkpoint): Promise<void>;
  /** The last checkpoint kept for log `log`, or null when none was. Not checked: verify checks it. */
  latest(log: string): Promise<Checkpoint | null>;
}

/** The longest line latest() reads back (a checkpoint is about 300 bytes plus its log id). */
const MAX_LINE = 8192;

/**
 * The default witness: <dir>/checkpoints/<sha256(log id)>.jsonl.
 *
 * @example const witness = new FileWitness({ dir: '/var/lib/airlock', home: '/root/.airlock' });
 */
export class FileWitness implements CheckpointWitness {
  readonly name: string;
  readonly #dir: string;
  readonly #home: string | undefined;

  constructor(options: { dir: string; home: string | undefined }) {
    this.#dir = `${options.dir}/checkpoints`;
    this.#home = options.home;
    this.name = `files under ${this.#dir}`;
  }

  /** The file holding log `log`'s checkpoints (its directory created and checked). */
  fileOf(log: string): string {
    return within(ownedDir(this.#dir, this.#home), `${createHash('sha256').update(log).digest('hex').slice(0, 32)}.jsonl`);
  }

  async publish(cp: Checkpoint): Promise<void> {
    const path = this.fileOf(cp.log);
    try {
      const fh = await open(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | NOFOLLOW, 0o644);
      try {
        const st = await fh.stat();
        checkOwnedFile(path, st, 'readable');
        // A line cut short by a power loss is ended first, so this one stays whole.
        const lastByte = Buffer.alloc(1);
        if (st.size > 0) await fh.read(lastByte, 0, 1, st.size - 1);
        const torn = st.size > 0 && lastByte[0] !== 0x0a;
        await fh.write(`${torn ? '\n' : ''}${JSON.stringify(cp)}\n`);
      } finally {
        await fh.close();
      }
    } catch (error) {
      throw witnessError(error, path, 'writing');
    }
  }

  async latest(log: string): Promise<Checkpoint | null> {
    // Reading never makes the directory: none means no checkpoint was ever kept here.
    if (!existsSync(this.#dir)) return null;
    const path = this.fileOf(log);
    let text: string;
    let cut: boolean;
    try {
      const fh = await open(path, constants.O_RDONLY | NOFOLLOW).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      });
      if (fh === null) return null;
      try {
        const st = await fh.stat();
        checkOwnedFile(path, st, 'readable');
        const length = Math.min(st.size, MAX_LINE);
        cut = st.size > length;
        const buf = Buffer.alloc(length);
        await fh.read(buf, 0, length, st.size - length);
        text = buf.toString('utf8');
      } finally {
        await fh.close();
      }
    } catch (error) {
      throw witnessError(error, path, 'reading');
    }
    // Whole lines only: what follows the last newline was cut short (a power loss mid-write; the
    // file is not fsynced, see above) and the line before it is the latest whole checkpoint.
    const lines = text.split('\n').slice(0, -1);
    if (cut) lines.shift();
    const last = lines.filter((l) => l !== '').at(-1);
    if (last === undefined) {
      if (cut) throw new AirlockError('AUDIT_CHECKPOINT_INVALID', `the end of the witness file ${path} holds no whole line within ${MAX_LINE} bytes: it is not a checkpoint file; inspect it`, { path });
      return null;
    }
    let value: unknown;
    try {
      value = JSON.parse(last);
    } catch {
      throw new AirlockError('AUDIT_CHECKPOINT_INVALID', `the last line of the witness file ${path} is not JSON: inspect it`, { path });
    }
    return parseCheckpoint(value, path);
  }
}

function witnessError(error: unknown, path: string, doing: string): AirlockError {
  if (error instanceof AirlockError) return error;
  if ((error as NodeJS.ErrnoException).code === 'ELOOP') return new AirlockError('AUDIT_KEY_UNSAFE', `the witness file ${path} is a symbolic link: it must be a regular file`, { path });
  return new AirlockError('AUDIT_UNAVAILABLE', `the checkpoint witness file ${path} failed while ${doing} (${(error as Error).message}): fix its disk or permissions`, { path });
}
