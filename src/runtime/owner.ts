/**
 * Who owns a registry row or a uid lock: a process, named by its pid and its start time (clock
 * ticks since boot, field 22 of /proc/<pid>/stat), so a recycled pid is never mistaken for the
 * owner. The uid locks of src/os/uids.ts hold the same "pid start" text.
 */
import { readFileSync } from 'node:fs';

export interface Owner {
  readonly pid: number;
  readonly start: string;
}

/** The start time of a process, or undefined when no such process exists. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Counted after the parenthesised command name, which may itself hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** This process. */
export function selfOwner(): Owner {
  return { pid: process.pid, start: startTimeOf(process.pid) ?? '0' };
}

/** True while the process that `owner` names still runs (same pid, same start time). */
export function ownerAlive(owner: Owner): boolean {
  return startTimeOf(owner.pid) === owner.start;
}

/** Reads the "pid start" text of a uid lock; undefined when it is empty or malformed. */
export function parseOwner(text: string): Owner | undefined {
  const [pid, start] = text.trim().split(' ');
  if (pid === undefined || start === undefined || !/^\d+$/.test(pid) || !/^\d+$/.test(start)) return undefined;
  return { pid: Number(pid), start };
}
