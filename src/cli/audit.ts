/**
 * `airlock audit`: list, show, verify and export the audit log.
 *
 * The log is $AIRLOCK_HOME/audit.db, or the PostgreSQL database named by AIRLOCK_AUDIT_URL
 * (postgres://… or postgresql://…). Errors are thrown as AirlockErrors for the main program to map
 * to exit codes; `verify` throws AUDIT_CHAIN_BROKEN, AUDIT_TRUNCATED or AUDIT_CHECKPOINT_INVALID (exit 65)
 * after printing where the log breaks and which checkpoint it was checked against.
 *
 * @example
 *   program.addCommand(auditCommand());
 *   // airlock audit list --tenant acme --decision deny
 *   // airlock audit verify && echo "the log holds"
 */
import { Command } from 'commander';
import type { AuditRecord } from '../audit/chain.ts';
import { SqliteAuditStore } from '../audit/sqlite-store.ts';
import { QUERY_PAGE, isoTime, tenantId, type AuditQuery, type AuditStore } from '../audit/store.ts';
import { verifyChain } from '../audit/verify.ts';
import { checkpointSource, verifyReport, type VerifyFlags } from './audit-verify.ts';
import { assertNever } from '../core/assert.ts';
import { AirlockError } from '../core/errors.ts';
import { RUN_STATUSES, type RunStatus } from '../core/result.ts';

/** Where the command reads its settings and writes its output (tests pass their own). */
export interface AuditCliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly write: (text: string) => Promise<void>;
}

const processIo: AuditCliIo = {
  env: process.env,
  write: (text) =>
    new Promise((resolve, reject) => {
      process.stdout.write(text, (error) => (error ? reject(error) : resolve()));
    }),
};

interface FilterFlags {
  tenant?: string;
  sandbox?: string;
  run?: string;
  status?: string;
  decision?: string;
  since?: string;
  until?: string;
  json?: boolean;
}

/** Opens the configured store: PostgreSQL when AIRLOCK_AUDIT_URL is set, else the embedded SQLite log. */
async function openStore(env: NodeJS.ProcessEnv): Promise<AuditStore> {
  const url = env['AIRLOCK_AUDIT_URL'];
  if (url === undefined || url === '') return SqliteAuditStore.open({ env });
  if (!/^postgres(ql)?:\/\//.test(url)) throw new AirlockError('INVALID_REQUEST', 'AIRLOCK_AUDIT_URL must be a postgres:// or postgresql:// URL; unset it to use $AIRLOCK_HOME/audit.db');
  // Loaded only when asked for, so the embedded default never loads the PostgreSQL driver.
  const { PostgresAuditStore } = await import('../audit/postgres-store.ts');
  return PostgresAuditStore.open({ connectionString: url });
}

async function withStore<T>(io: AuditCliIo, fn: (store: AuditStore) => Promise<T>): Promise<T> {
  const store = await openStore(io.env);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function choice<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new AirlockError('INVALID_REQUEST', `${flag} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
}

function queryFrom(flags: FilterFlags): AuditQuery {
  return {
    ...(flags.tenant !== undefined && { tenant: tenantId(flags.tenant) }),
    ...(flags.sandbox !== undefined && { sandbox: flags.sandbox }),
    ...(flags.run !== undefined && { run: flags.run }),
    ...(flags.status !== undefined && { status: choice<RunStatus>(flags.status, RUN_STATUSES, '--status') }),
    ...(flags.decision !== undefined && { decision: choice(flags.decision, ['allow', 'deny'] as const, '--decision') }),
    ...(flags.since !== undefined && { since: isoTime(flags.since, '--since') }),
    ...(flags.until !== undefined && { until: isoTime(flags.until, '--until') }),
  };
}

/** Every matching record, page by page, in seq order. */
async function eachRecord(store: AuditStore, query: AuditQuery, fn: (record: AuditRecord) => Promise<void>): Promise<number> {
  let count = 0;
  for (let afterSeq = 0; ; ) {
    const page = await store.query({ ...query, afterSeq, limit: QUERY_PAGE });
    for (const record of page) await fn(record);
    count += page.length;
    const last = page[page.length - 1];
    if (last === undefined || page.length < QUERY_PAGE) return count;
    afterSeq = last.seq;
  }
}

/** One line per record: seq, time, tenant, sandbox, kind, and what happened (or that it can't be read). */
function line(r: AuditRecord): string {
  try {
    return describeRecord(r);
  } catch {
    return `${r.seq}\t${r.at}\t(an event airlock does not write: run \`airlock audit verify\`)\n`;
  }
}

function describeRecord(r: AuditRecord): string {
  const e = r.event;
  const what = ((): string => {
    switch (e.kind) {
      case 'sandbox.created':
        return `tier=${e.tier} policy=${e.policyHash}`;
      case 'sandbox.destroyed':
        return `reason=${e.reason}`;
      case 'run.started':
        return `${e.run ?? '-'} ${e.language} code=${e.codeHash}`;
      case 'run.ended':
        return `${e.run ?? '-'} status=${e.status}${e.errorCode === null ? '' : ` error=${e.errorCode}`} wallMs=${e.usage.wallMs}`;
      case 'decision':
        return `${e.door} ${JSON.stringify(e.subject)} ${e.allow ? 'allow' : 'deny'} ${e.reason}`;
      case 'warrant.issued':
        return `${e.op} ${e.warrant.id} depth=${e.warrant.depth} root=${e.warrant.rootKid} expires=${e.warrant.expiresAt}`;
      default:
        return assertNever(e, 'audit event kind');
    }
  })();
  return `${r.seq}\t${r.at}\t${e.tenant}\t${e.sandbox}\t${e.kind}\t${what}\n`;
}

function filterOptions(cmd: Command): Command {
  return cmd
    .option('--tenant <id>', "only this tenant's records")
    .option('--sandbox <id>', 'only this sandbox')
    .option('--run <id>', 'only this run')
    .option('--status <status>', `only runs that ended so (${RUN_STATUSES.join('|')})`)
    .option('--decision <allow|deny>', 'only decisions that allowed or denied')
    .option('--since <iso>', 'at or after this time (the recording host\'s clock)')
    .option('--until <iso>', 'before this time');
}

function parseExpect(value: string): { seq: number; hash: string } {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(value);
  if (m === null) throw new AirlockError('INVALID_REQUEST', `--expect ${JSON.stringify(value)} must be SEQ:HASH as printed by an earlier \`airlock audit verify\``);
  return { seq: Number(m[1]), hash: String(m[2]) };
}

/** `airlock audit …`. Pass `io` to run it against other settings or capture its output. */
export function auditCommand(io: AuditCliIo = processIo): Command {
  const audit = new Command('audit').description('read and check the audit log (hash-chained, append-only)').exitOverride();

  filterOptions(audit.command('list').description('list audit records, oldest first').exitOverride())
    .option('--json', 'print one JSON array of records')
    .action(async (flags: FilterFlags) => {
      const query = queryFrom(flags);
      await withStore(io, async (store) => {
        if (flags.json !== true) {
          await eachRecord(store, query, (r) => io.write(line(r)));
          return;
        }
        // Streamed page by page, so a long log is never held in memory as one string.
        const sep = { next: '[\n' };
        const n = await eachRecord(store, query, (r) => {
          const text = `${sep.next}${JSON.stringify(r)}`;
          sep.next = ',\n';
          return io.write(text);
        });
        await io.write(n === 0 ? '[]\n' : '\n]\n');
      });
    });

  audit
    .command('show')
    .description('show one record by seq, or every record of a run (run_…) or sandbox (sbx_…)')
    .argument('<id>', 'a seq number, run id or sandbox id')
    .option('--tenant <id>', "look only among this tenant's records")
    .option('--json', 'print one JSON array of records')
    .exitOverride()
    .action(async (id: string, flags: { tenant?: string; json?: boolean }) => {
      const base: AuditQuery = flags.tenant === undefined ? {} : { tenant: tenantId(flags.tenant) };
      const query: AuditQuery = /^\d{1,15}$/.test(id)
        ? { ...base, seq: Number(id) }
        : id.startsWith('run_')
          ? { ...base, run: id }
          : id.startsWith('sbx_')
            ? { ...base, sandbox: id }
            : (() => {
                throw new AirlockError('INVALID_REQUEST', `${JSON.stringify(id)} is not a record id: give a seq number, a run id (run_…) or a sandbox id (sbx_…)`);
              })();
      await withStore(io, async (store) => {
        const found: AuditRecord[] = [];
        await eachRecord(store, query, (r) => Promise.resolve(void found.push(r)));
        if (found.length === 0) throw new AirlockError('AUDIT_NOT_FOUND', `no audit record ${id}${flags.tenant === undefined ? '' : ` for tenant ${flags.tenant}`}`);
        await io.write(flags.json === true ? `${JSON.stringify(found)}\n` : found.map((r) => `${line(r)}${JSON.stringify(r.event, null, 2)}\n`).join(''));
      });
    });

  audit
    .command('verify')
    .description('walk the whole chain and check it against the latest signed checkpoint; exit 0 only when both hold')
    .option('--expect <seq:hash>', 'also require this head, recorded earlier, to still be in the chain')
    .option('--checkpoint <file>', 'check against this signed checkpoint (one JSON object, e.g. from a remote witness) instead of the file witness')
    .option('--public-key <file>', 'trust checkpoints signed by this Ed25519 public key (PEM; repeatable) instead of the host key', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--json', 'print the result as JSON')
    .exitOverride()
    .action(async (flags: VerifyFlags) => {
      const expect = flags.expect === undefined ? undefined : parseExpect(flags.expect);
      const { result, source } = await withStore(io, async (store) => {
        const source = await checkpointSource(store, io.env, flags);
        const options = { ...(expect === undefined ? {} : { expect }), ...(source.options === undefined ? {} : { checkpoint: source.options }) };
        return { result: await verifyChain(store, options), source };
      });
      if (flags.json === true) await io.write(`${JSON.stringify({ ...result, checkpointFrom: source.from })}\n`);
      else await io.write(verifyReport(result, source));
      // With --json the result above is the one object printed (`printed`): the error sets the exit code only.
      if (!result.ok) throw new AirlockError(result.code, `the audit log does not verify at seq ${result.brokenAt}: ${result.reason}`, { seq: result.brokenAt, reason: result.reason, printed: flags.json === true });
    });

  filterOptions(audit.command('export').description('print records as JSON Lines, oldest first').exitOverride()).action(async (flags: FilterFlags) => {
    const query = queryFrom(flags);
    await withStore(io, (store) => eachRecord(store, query, (r) => io.write(`${JSON.stringify(r)}\n`)));
  });

  return audit;
}
