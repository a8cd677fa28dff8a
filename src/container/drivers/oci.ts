/**
 * The `oci` driver: writes the SandboxSpec as an OCI bundle (config.json + an empty read-only
 * rootfs holding only mount points and the /usr links) and runs it with an OCI runtime: runc
 * (default) or runsc (gVisor, its own kernel in user space). The runtime must start as root; the
 * launcher has already put it in the sandbox's cgroup, with the rlimits, and runc puts the
 * container in a child cgroup of it (oci-config.ts says how the spec maps).
 *
 * Each exec is its own bundle and container, removed by cleanup(): `runc delete --force` when
 * the runtime was killed before it could remove its own state, then the bundle directory.
 */
import { execFile } from 'node:child_process';
import { constants as fsc, readFileSync } from 'node:fs';
import { access, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { AirlockError } from '../../core/errors.ts';
import type { SandboxSpec } from '../spec.ts';
import type { Driver, DriverCommand, DriverStatus } from './driver.ts';
import { ociConfig, OCI_STATUS_FD } from './oci-config.ts';

const run = promisify(execFile);

export interface OciOptions {
  /** runc (default) or runsc. */
  readonly runtime?: 'runc' | 'runsc';
  readonly runtimePath?: string;
  /** The runtime's state directory (its --root). */
  readonly stateDir?: string;
  /** Where sysctls are read (tests point it at a fake /proc/sys). */
  readonly procSys?: string;
}

const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,100}$/;

/**
 * The marker the container's first process writes once the runtime's set-up is done, and the
 * host pid of the container's pid 1 from the runtime's pid file: killing it on a timeout ends
 * the pid namespace while the runtime stays alive to reap it (no zombie left to the host's init).
 */
export function readOciStatus(text: string, pidFile: string): DriverStatus {
  let pid: number | undefined;
  try {
    const n = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isSafeInteger(n) && n > 1) pid = n;
  } catch {
    // Not written yet: the container does not exist yet.
  }
  return { started: text.includes('"started":true'), ...(pid === undefined ? {} : { childPid: pid }) };
}

/** Makes `<bundle>/rootfs` with the links and an empty mount point for every mount. */
async function makeRootfs(spec: SandboxSpec, rootfs: string): Promise<void> {
  await mkdir(rootfs, { recursive: true, mode: 0o755 });
  for (const l of spec.airlock.links) await symlink(l.target, `${rootfs}${l.path}`);
  for (const m of spec.mounts) {
    const at = `${rootfs}${m.destination}`;
    const source = m.type === 'bind' ? await stat(m.source).catch(() => undefined) : undefined;
    if (source !== undefined && !source.isDirectory()) {
      // A file is bound onto a file.
      await mkdir(dirname(at), { recursive: true, mode: 0o755 });
      await writeFile(at, '', { flag: 'a', mode: 0o644 });
    } else {
      await mkdir(at, { recursive: true, mode: 0o755 });
    }
  }
}

/**
 * @example
 *   const driver = ociDriver();            // runc
 *   await createContainerSandbox({ …, driver });
 */
export function ociDriver(options: OciOptions = {}): Driver {
  const runtime = options.runtime ?? 'runc';
  const binary = options.runtimePath ?? `/usr/bin/${runtime}`;
  const stateDir = options.stateDir ?? `/run/airlock/${runtime}`;
  const procSys = options.procSys ?? '/proc/sys';
  const global = [binary, '--root', stateDir, ...(runtime === 'runsc' ? ['--platform=ptrace', '--network=none', '--ignore-cgroups'] : [])];
  return {
    name: 'oci',
    async preflight() {
      if (!(await access(binary, fsc.X_OK).then(() => true, () => false))) {
        throw new AirlockError('SANDBOX_UNAVAILABLE', `the OCI runtime ${runtime} is not installed at ${binary}: apt-get install -y ${runtime}`);
      }
      const max = Number((await readFile(`${procSys}/user/max_user_namespaces`, 'utf8').catch(() => '0')).trim());
      if (!(max > 0)) {
        throw new AirlockError('SANDBOX_UNAVAILABLE', 'user namespaces are disabled (user.max_user_namespaces is 0): sysctl -w user.max_user_namespaces=15000');
      }
    },
    async command(spec: SandboxSpec, id: string): Promise<DriverCommand> {
      const cid = `airlock-${id}`;
      if (!CONTAINER_ID.test(cid)) throw new AirlockError('INTERNAL', `bad container id ${JSON.stringify(cid)}`);
      // The bundle lives in the sandbox's own directory, so whatever removes the sandbox removes it.
      const bundle = `${dirname(spec.airlock.workspace.hostPath)}/oci-${id}`;
      await mkdir(bundle, { mode: 0o711 });
      const cleanup = async () => {
        if (await stat(`${stateDir}/${cid}`).then(() => true, () => false)) {
          await run(binary, [...global.slice(1), 'delete', '--force', cid]).catch(() => undefined);
        }
        await rm(bundle, { recursive: true, force: true });
      };
      try {
        await makeRootfs(spec, `${bundle}/rootfs`);
        await writeFile(`${bundle}/config.json`, JSON.stringify(ociConfig(spec, `oci-${id}`, runtime === 'runc' ? 'fd' : 'host')), { mode: 0o600 });
        await mkdir(stateDir, { recursive: true, mode: 0o700 });
      } catch (error) {
        await cleanup();
        throw error;
      }
      // The runtime sets the container up as the sandbox's uid, which can't enter the sandbox's
      // directory: the launch sees the bundle and the workspace on views beside each other.
      const viewPath = spec.airlock.workspace.viewPath;
      const views = viewPath === null ? [] : [{ source: spec.airlock.workspace.hostPath, target: viewPath }, { source: bundle, target: `${dirname(viewPath)}/bundle` }];
      const seenBundle = viewPath === null ? bundle : `${dirname(viewPath)}/bundle`;
      // runsc can't pass fd 3 in: a root shell on the host writes the marker once runsc wrote the
      // pid file, i.e. once the container's process exists.
      const argv = runtime === 'runc'
        ? [...global, 'run', '--bundle', seenBundle, '--preserve-fds', '1', '--pid-file', `${bundle}/pid`, cid]
        : ['/bin/sh', '-c', `"$@"; rc=$?; [ -s ${bundle}/pid ] && printf '{"started":true}' >&${OCI_STATUS_FD}; exit $rc`, 'airlock-runsc', ...global, 'run', '--bundle', seenBundle, '--pid-file', `${bundle}/pid`, cid];
      return {
        argv,
        fileFds: [],
        argsPipe: null,
        views,
        statusFd: OCI_STATUS_FD,
        readStatus: (text) => readOciStatus(text, `${bundle}/pid`),
        // runc: both (the launcher's bound runc too; runc sets them again in the container).
        rlimits: runtime === 'runc' ? 'launcher' : 'runtime',
        runAs: 'root',
        cleanup,
      };
    },
  };
}
