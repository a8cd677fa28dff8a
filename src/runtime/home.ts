import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** AIRLOCK_HOME (default ~/.airlock), created private to its owner. */
export function airlockHome(explicit?: string): string {
  const home = resolve(explicit ?? process.env['AIRLOCK_HOME'] ?? join(homedir(), '.airlock'));
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return home;
}
