import { randomUUID } from 'node:crypto';

/** A run, sandbox or worker id: a prefix that says what it names, then a random UUID. */
export function newId(prefix: 'run' | 'sbx' | 'wrk' | 'cmd'): string {
  return `${prefix}_${randomUUID()}`;
}
