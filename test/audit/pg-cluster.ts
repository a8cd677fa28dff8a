/**
 * A throwaway PostgreSQL cluster for tests: initdb into a temp dir, postgres listening only on a
 * unix socket in that dir (no TCP), stopped and deleted by stop(). Uses Debian's server binaries
 * (/usr/lib/postgresql/N/bin); as root it runs them as the `postgres` user, since the server
 * refuses to run as root.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgCluster {
  /** The socket directory: pass as `host` to node-postgres. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  /** Runs SQL through psql on the `postgres` database. */
  psql(sql: string): string;
  /** Stops the server as a crash would (immediate: no checkpoint), then starts it again. */
  crashAndRestart(): void;
  stop(): void;
}

/** The newest Debian PostgreSQL server's bin directory, or null when none is installed. */
export function pgBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? null : join(root, versions[0], 'bin');
}

function idOf(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const fields = line?.split(':');
  if (fields === undefined) throw new Error(`no ${name} user: install the Debian postgresql package (apt-get install -y postgresql)`);
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** Starts a cluster, or throws saying what to install. */
export function startPgCluster(): PgCluster {
  const bin = pgBinDir();
  if (bin === null) throw new Error('PostgreSQL server binaries are missing: apt-get install -y postgresql (scripts/setup.sh does this)');
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? idOf('postgres') : null;
  const dir = mkdtempSync(join(tmpdir(), 'airlock-pg-'));
  if (owner !== null) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const port = 5432;
  const user = 'airlock';
  const opts: SpawnSyncOptions = { encoding: 'utf8', cwd: dir, timeout: 60_000, ...(owner ?? {}) };
  const run = (tool: string, args: string[]): string => {
    const r = spawnSync(join(bin, tool), args, opts);
    if (r.status !== 0) throw new Error(`${tool} failed (${String(r.status ?? r.signal)}): ${String(r.stderr)}${String(r.stdout)}`);
    return String(r.stdout);
  };
  const stop = (): void => {
    if (!existsSync(join(data, 'postmaster.pid'))) {
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    spawnSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], opts);
    rmSync(dir, { recursive: true, force: true });
  };
  const server = `-c listen_addresses='' -c unix_socket_directories='${dir}' -c port=${port}`;
  const start = (): void => void run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', server, '-w', '-t', '60', 'start']);
  try {
    run('initdb', ['-D', data, '-U', user, '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
    start();
  } catch (error) {
    stop();
    throw error;
  }
  const psql = (sql: string): string => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', user, '-d', 'postgres', '-At', '-c', sql]);
  // A crashed test process must not leave a server behind.
  process.once('exit', stop);
  return {
    host: dir,
    port,
    user,
    database: 'postgres',
    psql,
    crashAndRestart: () => {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      start();
    },
    stop: () => {
      process.off('exit', stop);
      stop();
    },
  };
}
