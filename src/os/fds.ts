/**
 * File descriptors this process inherited without close-on-exec. Node opens everything with
 * O_CLOEXEC, but a parent (a test harness, a supervisor, a shell) may hand us fds that are not,
 * and every child we spawn would pass them into its sandbox. The launchers close them first.
 */
import { readdirSync, readFileSync } from 'node:fs';

const O_CLOEXEC = 0o2000000;

/** Inheritable fds numbered `from` and up (lower numbers are the child's own stdio). */
export function inheritableFds(from: number): number[] {
  const fds: number[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd < from) continue;
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // the fd readdir itself used, already closed
    }
    const flags = /^flags:\s*([0-7]+)/m.exec(info)?.[1];
    if (flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) === 0) fds.push(fd);
  }
  return fds;
}
