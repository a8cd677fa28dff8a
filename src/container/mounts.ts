/**
 * What a sandbox sees of the file system: read-only /usr (python3, node, sh and their libraries), a
 * synthetic minimal /etc (with the host's public CA bundle: trust.ts), a fresh /proc of its own pid
 * namespace (its host entries masked: procfs.ts), a minimal /dev, a size-capped /tmp and /dev/shm,
 * its private workspace, and read-only host paths only where the policy grants them. No /home,
 * /root, /sys, /run or host socket is ever mounted. The root itself is read-only.
 */
import { AirlockError } from '../core/errors.ts';

export const WORKSPACE = '/workspace';

export type Mount =
  | { readonly type: 'bind'; readonly source: string; readonly destination: string; readonly options: readonly ['ro'] | readonly ['rw'] }
  | { readonly type: 'tmpfs'; readonly destination: string; readonly sizeBytes: number }
  | { readonly type: 'proc'; readonly destination: '/proc' }
  | { readonly type: 'dev'; readonly destination: '/dev' };

export interface Symlink {
  readonly target: string;
  readonly path: string;
}

/** Debian's merged /usr: the top-level program and library directories are links into it. */
export const SYSTEM_LINKS: readonly Symlink[] = [
  { target: 'usr/bin', path: '/bin' },
  { target: 'usr/sbin', path: '/sbin' },
  { target: 'usr/lib', path: '/lib' },
  { target: 'usr/lib64', path: '/lib64' },
];

/** The fixed part of every sandbox's view. */
export function systemMounts(etcHostPath: string, tmpBytes: number): Mount[] {
  return [
    { type: 'bind', source: '/usr', destination: '/usr', options: ['ro'] },
    { type: 'bind', source: etcHostPath, destination: '/etc', options: ['ro'] },
    { type: 'proc', destination: '/proc' },
    { type: 'dev', destination: '/dev' },
    // bwrap's /dev is a tmpfs of no size: its writable /dev/shm gets its own, capped like /tmp.
    { type: 'tmpfs', destination: '/dev/shm', sizeBytes: tmpBytes },
    { type: 'tmpfs', destination: '/tmp', sizeBytes: tmpBytes },
  ];
}

export function workspaceMount(hostPath: string): Mount {
  return { type: 'bind', source: hostPath, destination: WORKSPACE, options: ['rw'] };
}

// A grant may add to the view, never replace the parts airlock relies on.
const RESERVED = ['/', '/usr', '/etc', '/proc', '/dev', '/tmp', WORKSPACE, '/bin', '/sbin', '/lib', '/lib64'];

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);
}

/** policy.files → read-only binds. A grant that would cover a reserved directory is refused. */
export function grantMounts(files: readonly { readonly path: string; readonly at?: string | undefined }[]): Mount[] {
  const problems: string[] = [];
  const mounts: Mount[] = [];
  files.forEach((grant, i) => {
    const destination = grant.at ?? grant.path;
    const clash = RESERVED.find((r) => destination === r || (r !== '/' && under(destination, r)) || (r !== '/' && under(r, destination)));
    if (clash !== undefined) {
      problems.push(`files.${i}: ${destination} would cover ${clash}, which airlock provides; mount it elsewhere with "at"`);
      return;
    }
    mounts.push({ type: 'bind', source: grant.path, destination, options: ['ro'] });
  });
  if (problems.length > 0) throw new AirlockError('INVALID_POLICY', `the policy has ${problems.length} problem(s): ${problems.join('; ')}`);
  return mounts;
}

/**
 * Maps a path as the sandbox sees it to the host path behind it, for the pre-launch check that a
 * program exists. Only binds are followed; anything else has no host path.
 */
export function hostPathOf(mounts: readonly Mount[], links: readonly Symlink[], path: string): string | undefined {
  let p = path;
  for (const link of links) if (under(p, link.path)) p = `/${link.target}${p.slice(link.path.length)}`;
  const binds = mounts.filter((m) => m.type === 'bind').sort((a, b) => b.destination.length - a.destination.length);
  for (const m of binds) {
    if (under(p, m.destination)) return `${m.source}${p.slice(m.destination.length)}`;
  }
  return undefined;
}

/** The synthetic /etc: a sandbox user, localhost, and nothing of the host (no shadow, hosts, machine-id). */
export const SYNTHETIC_ETC: Readonly<Record<string, string>> = {
  passwd: 'root:x:0:0:root:/nonexistent:/usr/sbin/nologin\nsandbox:x:1000:1000:sandbox:/workspace:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  group: 'root:x:0:\nsandbox:x:1000:\nnogroup:x:65534:\n',
  hosts: '127.0.0.1 localhost\n::1 localhost\n',
  hostname: 'sandbox\n',
  'nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files\n',
  'resolv.conf': '',
};
