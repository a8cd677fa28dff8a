/**
 * `airlock keys create|list|revoke --tenant T`: the HTTP API's keys, one tenant each, stored hashed
 * in $AIRLOCK_HOME/keys.db. `create` prints the key once; nothing can show it again.
 *
 * @example
 *   // KEY=$(airlock keys create --tenant acme)
 *   // airlock keys list --tenant acme
 *   // airlock keys revoke --tenant acme 3f2a…
 */
import { Command } from 'commander';
import { tenantId } from '../audit/store.ts';
import { airlockHome } from '../runtime/home.ts';
import { KeyStore } from '../server/keys.ts';

function withKeys<T>(fn: (keys: KeyStore) => T): T {
  const keys = KeyStore.open(airlockHome());
  try {
    return fn(keys);
  } finally {
    keys.close();
  }
}

export function keysCommand(): Command {
  const keys = new Command('keys').description("the HTTP API's keys: each acts within one tenant");
  keys
    .command('create')
    .description('make a key for a tenant and print it (only this once)')
    .requiredOption('--tenant <id>', 'the tenant the key acts within')
    .option('--json', 'print { id, tenant, key }')
    .action((flags: { tenant: string; json?: boolean }) => {
      const made = withKeys((k) => k.create(tenantId(flags.tenant)));
      process.stdout.write(flags.json === true ? `${JSON.stringify(made)}\n` : `${made.key}\n`);
      if (flags.json !== true) process.stderr.write(`airlock: key ${made.id} for tenant ${made.tenant}: store it now, it is not shown again\n`);
    });
  keys
    .command('list')
    .description("list a tenant's keys (ids and dates, never the keys)")
    .requiredOption('--tenant <id>', 'the tenant')
    .option('--json', 'print one JSON array')
    .action((flags: { tenant: string; json?: boolean }) => {
      const list = withKeys((k) => k.list(tenantId(flags.tenant)));
      process.stdout.write(flags.json === true ? `${JSON.stringify(list)}\n` : list.map((k) => `${k.id}\t${k.createdAt}\t${k.revokedAt === null ? 'live' : `revoked ${k.revokedAt}`}\n`).join(''));
    });
  keys
    .command('revoke')
    .description('revoke a key by its id: requests with it are refused from then on')
    .requiredOption('--tenant <id>', 'the tenant the key belongs to')
    .argument('<id>', 'the key id (from `keys list`)')
    .action((id: string, flags: { tenant: string }) => {
      withKeys((k) => k.revoke(tenantId(flags.tenant), id));
      process.stderr.write(`airlock: key ${id} revoked\n`);
    });
  return keys;
}
