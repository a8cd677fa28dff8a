/**
 * Bubblewrap runs as the worker's own unprivileged uid, so it can bind only paths that uid may
 * reach. A checkout in a private directory (under /root, or from `mktemp -d`) is not: then the
 * parts of the worker view it holds are mirrored, read-only to everyone, under
 * /var/lib/airlock/views/<content key>/ (hard links where the file system allows, else copies),
 * and bound from there to the same paths inside the sandbox. Nothing is widened on the host's
 * own directories.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const VIEWS_DIR = '/var/lib/airlock/views';

/** Whether a user with no relation to the path's owners can reach it (search on every ancestor). */
export function reachableByOthers(path: string): boolean {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dir === '/') return true;
  }
}

function filesOf(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function keyOf(sources: readonly string[]): string {
  const hash = createHash('sha256');
  for (const source of sources) {
    for (const file of filesOf(source)) {
      const st = statSync(file);
      hash.update(`${file}\0${st.size}\0${st.mtimeMs}\0`);
    }
  }
  return hash.digest('hex').slice(0, 32);
}

function place(source: string, target: string): void {
  mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
  if (statSync(source).isDirectory()) {
    cpSync(source, target, { recursive: true, preserveTimestamps: true });
    return;
  }
  try {
    linkSync(source, target);
  } catch {
    copyFileSync(source, target);
    chmodSync(target, statSync(source).mode & 0o755);
  }
}

/** Where each source is reachable from: itself, or its mirror. Built once per content key. */
export function mirrored(sources: readonly string[]): ReadonlyMap<string, string> {
  const hidden = sources.filter((s) => !reachableByOthers(s));
  const out = new Map(sources.map((s) => [s, s]));
  if (hidden.length === 0) return out;
  const dir = join(VIEWS_DIR, keyOf(hidden));
  if (!existsSync(dir)) {
    const building = `${dir}.${process.pid}.tmp`;
    rmSync(building, { recursive: true, force: true });
    mkdirSync(building, { recursive: true, mode: 0o755 });
    for (const s of hidden) place(s, join(building, s));
    for (let d = dirname(VIEWS_DIR); d !== '/'; d = dirname(d)) chmodSync(d, statSync(d).mode | 0o755);
    chmodSync(VIEWS_DIR, 0o755);
    try {
      renameSync(building, dir);
    } catch {
      // Another host process built the same view first: use that one.
      rmSync(building, { recursive: true, force: true });
    }
  }
  for (const s of hidden) out.set(s, join(dir, s));
  return out;
}
