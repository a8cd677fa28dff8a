/**
 * `airlock serve`: the HTTP API (src/server/) on the embedded defaults. Prints its URL once it
 * listens; SIGTERM or SIGINT drains it (what is in flight ends and is recorded) and it exits 0.
 *
 * @example
 *   // airlock serve --port 7878
 *   // curl -H "Authorization: Bearer $KEY" http://127.0.0.1:7878/v1/runs -d '{"code":"export default 6*7"}'
 */
import { Command } from 'commander';
import { AirlockError } from '../core/errors.ts';
import { SERVE_DEFAULTS } from '../server/defaults.ts';
import { AUDIT_DURABILITIES, DEFAULT_FLUSH_MS, MAX_FLUSH_MS, type AuditDurabilitySettings } from '../audit/wal-sync.ts';
import { readCordons } from './cordons-file.ts';
import { heldKeyIds, readSigningKey, revokedIds, trustedKeys, warrantDirs } from './warrant-files.ts';

interface ServeFlags {
  readonly host: string;
  readonly port: string;
  readonly allowHost: string[];
  readonly allowOrigin: string[];
  readonly maxBody: string;
  readonly rate: string;
  readonly streams: string;
  readonly drainMs: string;
  readonly auditDurability: string;
  readonly auditFlushMs?: string;
  readonly cordons?: string;
  readonly maxWorkers?: string;
}

function count(flag: string, value: string, min: number, max: number): number {
  const n = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new AirlockError('INVALID_REQUEST', `${flag} ${JSON.stringify(value)} must be a whole number from ${min} to ${max}`);
  return n;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** --audit-durability and --audit-flush-ms, checked together: the window means something only when batched. */
function auditSettings(flags: ServeFlags): AuditDurabilitySettings {
  const durability = AUDIT_DURABILITIES.find((d) => d === flags.auditDurability);
  if (durability === undefined) {
    throw new AirlockError('INVALID_REQUEST', `--audit-durability ${JSON.stringify(flags.auditDurability)} must be durable (a run's answer waits for its events' fsync; the default) or batched (written before the answer, fsynced within --audit-flush-ms)`);
  }
  if (flags.auditFlushMs === undefined) return { durability };
  if (durability !== 'batched') throw new AirlockError('INVALID_REQUEST', '--audit-flush-ms applies to --audit-durability batched only: add --audit-durability batched, or drop --audit-flush-ms');
  return { durability, flushMs: count('--audit-flush-ms', flags.auditFlushMs, 1, MAX_FLUSH_MS) };
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the HTTP API (OpenAPI 3.1 at /openapi.json); API keys come from `airlock keys create`')
    .option('--host <address>', 'address to listen on', SERVE_DEFAULTS.hostname)
    .option('--port <n>', 'port to listen on (0: any free one)', String(SERVE_DEFAULTS.port))
    .option('--allow-host <host:port>', 'also serve this Host header (repeatable); 127.0.0.1:PORT and localhost:PORT always are', collect, [])
    .option('--allow-origin <origin>', 'let browser pages from this Origin call (repeatable); default none', collect, [])
    .option('--max-body <bytes>', 'largest request body', String(SERVE_DEFAULTS.maxBodyBytes))
    .option('--rate <n>', 'requests per minute per API key', String(SERVE_DEFAULTS.ratePerMinute))
    .option('--streams <n>', 'event streams (GET /v1/runs/events) one API key may hold open at once', String(SERVE_DEFAULTS.streamsPerKey))
    .option('--cordons <file>', 'trust cordons, JSON { "<cordon>": ["<tenant>", …] }: tenants of one cordon share isolate worker processes (README, "Tenants on one host")')
    .option('--max-workers <n>', 'isolate worker processes of the whole host (default 16 per core)')
    .option('--drain-ms <ms>', 'on SIGTERM, how long requests in flight may go on before they are stopped', String(SERVE_DEFAULTS.drainMs))
    .option('--audit-durability <mode>', "durable: a run's answer waits for its audit events' fsync; batched: they are written before the answer and fsynced within --audit-flush-ms (a power loss can lose that window)", 'durable')
    .option('--audit-flush-ms <ms>', `batched only: the longest an audit event waits for its fsync (1–${MAX_FLUSH_MS}, default ${DEFAULT_FLUSH_MS})`)
    .action(async (flags: ServeFlags) => {
      const audit = auditSettings(flags);
      // Loaded when serving only: the other commands start without the HTTP stack.
      const { startServer } = await import('../server/serve.ts');
      // A run's warrant chains to the root keys trusted under $AIRLOCK_HOME/warrants (airlock warrant keygen --trust).
      const dirs = warrantDirs(process.env);
      const server = await startServer({
        warrants: { trustedKeys: () => trustedKeys(dirs, []), revoked: () => revokedIds(dirs) },
        // POST /v1/warrants signs with the private keys kept there (by key id only, never a path).
        warrantSigning: { kids: () => heldKeyIds(dirs), key: (kid) => readSigningKey(dirs, kid) },
        hostname: flags.host,
        port: count('--port', flags.port, 0, 65_535),
        allowHosts: flags.allowHost,
        allowOrigins: flags.allowOrigin,
        maxBodyBytes: count('--max-body', flags.maxBody, 1, 1 << 30),
        ratePerMinute: count('--rate', flags.rate, 1, 10_000_000),
        streamsPerKey: count('--streams', flags.streams, 1, 10_000),
        drainMs: count('--drain-ms', flags.drainMs, 0, 3_600_000),
        audit,
        isolate: {
          ...(flags.cordons === undefined ? {} : { cordons: readCordons(flags.cordons) }),
          ...(flags.maxWorkers === undefined ? {} : { maxWorkers: count('--max-workers', flags.maxWorkers, 1, 100_000) }),
        },
      });
      process.stdout.write(`airlock serve: listening on ${server.url} (OpenAPI at ${server.url}/openapi.json)\n`);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGTERM', resolve);
        process.once('SIGINT', resolve);
      });
      process.stderr.write(`airlock serve: ${signal}: draining (no new connections; what runs ends and is recorded)\n`);
      await server.close();
      process.stderr.write('airlock serve: stopped\n');
    });
}
