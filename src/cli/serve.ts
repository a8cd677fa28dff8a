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
import { readCordons } from './cordons-file.ts';
import { revokedIds, trustedKeys, warrantDirs } from './warrant-files.ts';

interface ServeFlags {
  readonly host: string;
  readonly port: string;
  readonly allowHost: string[];
  readonly allowOrigin: string[];
  readonly maxBody: string;
  readonly rate: string;
  readonly drainMs: string;
  readonly cordons?: string;
  readonly maxWorkers?: string;
}

function count(flag: string, value: string, min: number, max: number): number {
  const n = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new AirlockError('INVALID_REQUEST', `${flag} ${JSON.stringify(value)} must be a whole number from ${min} to ${max}`);
  return n;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve the HTTP API (OpenAPI 3.1 at /openapi.json); API keys come from `airlock keys create`')
    .option('--host <address>', 'address to listen on', SERVE_DEFAULTS.hostname)
    .option('--port <n>', 'port to listen on (0: any free one)', String(SERVE_DEFAULTS.port))
    .option('--allow-host <host:port>', 'also serve this Host header (repeatable); 127.0.0.1:PORT and localhost:PORT always are', collect, [])
    .option('--allow-origin <origin>', 'let browser pages from this Origin call (repeatable); default none', collect, [])
    .option('--max-body <bytes>', 'largest request body', String(SERVE_DEFAULTS.maxBodyBytes))
    .option('--rate <n>', 'requests per minute per API key', String(SERVE_DEFAULTS.ratePerMinute))
    .option('--cordons <file>', 'trust cordons, JSON { "<cordon>": ["<tenant>", …] }: tenants of one cordon share isolate worker processes (README, "Tenants on one host")')
    .option('--max-workers <n>', 'isolate worker processes of the whole host (default 16 per core)')
    .option('--drain-ms <ms>', 'on SIGTERM, how long requests in flight may go on before they are stopped', String(SERVE_DEFAULTS.drainMs))
    .action(async (flags: ServeFlags) => {
      // Loaded when serving only: the other commands start without the HTTP stack.
      const { startServer } = await import('../server/serve.ts');
      // A run's warrant chains to the root keys trusted under $AIRLOCK_HOME/warrants (airlock warrant keygen --trust).
      const dirs = warrantDirs(process.env);
      const server = await startServer({
        warrants: { trustedKeys: () => trustedKeys(dirs, []), revoked: () => revokedIds(dirs) },
        hostname: flags.host,
        port: count('--port', flags.port, 0, 65_535),
        allowHosts: flags.allowHost,
        allowOrigins: flags.allowOrigin,
        maxBodyBytes: count('--max-body', flags.maxBody, 1, 1 << 30),
        ratePerMinute: count('--rate', flags.rate, 1, 10_000_000),
        drainMs: count('--drain-ms', flags.drainMs, 0, 3_600_000),
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
