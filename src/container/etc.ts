/**
 * The synthetic /etc every sandbox sees: written once per run directory, read-only, shared by all
 * sandboxes (it holds nothing per tenant). The host's passwd, shadow, hosts, machine-id and
 * ssl/private never appear; ld.so.cache is copied because it is only an index of /usr's libraries.
 * ssl/certs/ca-certificates.crt is an empty mount point for the trust bundle (trust.ts).
 *
 * Its directory is named by a hash of what airlock writes into it, so a host that writes more
 * (a new mount point) makes a new one beside the old instead of reusing an older layout.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SYNTHETIC_ETC } from './mounts.ts';

/** Empty files other mounts land on: the synthetic /etc is read-only, so they must exist in it. */
const MOUNT_POINTS = ['ssl/certs/ca-certificates.crt'];

/** Makes `<runDir>/etc-<hash>` if it is not there yet, atomically (two hosts may race). */
export async function ensureSyntheticEtc(runDir: string): Promise<string> {
  const files: Record<string, string> = { ...SYNTHETIC_ETC, ...Object.fromEntries(MOUNT_POINTS.map((p) => [p, ''])) };
  const hash = createHash('sha256').update(JSON.stringify(Object.entries(files).sort())).digest('hex').slice(0, 12);
  const dir = `${runDir}/etc-${hash}`;
  if (await stat(`${dir}/passwd`).then(() => true, () => false)) return dir;
  await mkdir(runDir, { recursive: true, mode: 0o711 });
  const tmp = `${dir}.${process.pid}.${Date.now()}`;
  await mkdir(tmp, { mode: 0o755 });
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(`${tmp}/${name}`), { recursive: true, mode: 0o755 });
    await writeFile(`${tmp}/${name}`, text, { mode: 0o644 });
  }
  await copyFile('/etc/ld.so.cache', `${tmp}/ld.so.cache`).catch(() => undefined);
  try {
    await rename(tmp, dir);
  } catch {
    // Someone else made it first: theirs is identical.
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}
