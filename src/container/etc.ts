/**
 * The synthetic /etc every sandbox sees: written once per run directory, read-only, shared by all
 * sandboxes (it holds nothing per tenant). The host's passwd, shadow, hosts and machine-id never
 * appear; ld.so.cache is copied because it is only an index of /usr's libraries.
 */
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { SYNTHETIC_ETC } from './mounts.ts';

/** Makes `<runDir>/etc` if it is not there yet, atomically (two hosts may race). */
export async function ensureSyntheticEtc(runDir: string): Promise<string> {
  const dir = `${runDir}/etc`;
  if (await stat(`${dir}/passwd`).then(() => true, () => false)) return dir;
  await mkdir(runDir, { recursive: true, mode: 0o711 });
  const tmp = `${dir}.${process.pid}.${Date.now()}`;
  await mkdir(tmp, { mode: 0o755 });
  for (const [name, text] of Object.entries(SYNTHETIC_ETC)) await writeFile(`${tmp}/${name}`, text, { mode: 0o644 });
  await copyFile('/etc/ld.so.cache', `${tmp}/ld.so.cache`).catch(() => undefined);
  try {
    await rename(tmp, dir);
  } catch {
    // Someone else made it first: theirs is identical.
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}
