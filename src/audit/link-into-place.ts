/**
 * A file made whole under a temporary name, then hard-linked to its real name: the link fails
 * rather than replace a file someone else made first (theirs stands, and is checked like any
 * existing file), and the directory is flushed so the new name survives a power loss.
 */
import { closeSync, fsyncSync, linkSync, openSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';

export function linkIntoPlace(temp: string, path: string): void {
  try {
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temp);
  }
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
