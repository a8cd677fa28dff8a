/**
 * What a sandbox may read of procfs. Its /proc is a fresh instance for its own pid namespace, but
 * most entries outside /proc/<pid> describe the whole host: its hardware (interrupts, iomem,
 * ioports, dma, bus/pci, irq), its kernel build and layout (config.gz, kallsyms, modules), its
 * boot command line, its disks and swap (diskstats, partitions, swaps, fs/), allocator state that
 * side channels feed on (buddyinfo, zoneinfo, slabinfo, pagetypeinfo, pressure/), and other
 * tenants' activity (interrupts, softirqs, locks). OCI runtimes mask a fixed list of these
 * (runc/moby: acpi asound interrupts kcore keys latency_stats sched_debug scsi timer_list
 * timer_stats, /sys/firmware, /sys/devices/virtual/powercap), and each kernel release may add
 * entries no list names yet. So the rule here is an allowlist: every top-level entry of this
 * kernel's /proc that is not a process directory and not in KEPT_PROC_ENTRIES is masked — a file
 * by a read-only /dev/null over it, a directory by an empty read-only tmpfs.
 *
 * Files that only root can read (mode without the "other" read bit: kmsg, kpageflags, timer_list,
 * slabinfo, …) are not masked: a sandbox's processes run as its own unprivileged host uid with no
 * capability in the host's user namespace, so the kernel refuses them already, while every mask
 * costs each launch a bind, a remount and bubblewrap's re-read of the whole mount table (about
 * 0.2–0.4 ms here, more on a host with many mounts).
 *
 * What is kept still shows host-wide figures (cpuinfo, meminfo, stat, loadavg: the CPU model, the
 * memory, the load): common tools need them, and they say what machine this is, not what runs on
 * it or where its memory and devices are.
 *
 * /sys is never mounted in a sandbox at all (src/container/mounts.ts), so nothing under it needs
 * masking. /proc/sys stays readable and read-only (bubblewrap makes it so; the OCI driver lists it
 * in readonlyPaths): programs read their limits there, and sysctls the kernel namespaces
 * (net.*, kernel.hostname) show the sandbox's own.
 */
import { lstat, readdir } from 'node:fs/promises';

/**
 * Top-level /proc entries a sandbox keeps: the links to its own process's views (self,
 * thread-self, mounts, net), what ps/top/free, Python's os and Node's os read (cpuinfo, meminfo,
 * stat, loadavg, uptime, vmstat, version — uname(2) tells the same), sysvipc (its own IPC
 * namespace), tty (ps names terminals by it), and static lists of what the kernel supports
 * (filesystems, cgroups, crypto, devices, misc, consoles, execdomains) that describe the kernel's
 * features, not the host's state.
 */
export const KEPT_PROC_ENTRIES: ReadonlySet<string> = new Set([
  'self', 'thread-self', 'mounts', 'net',
  'cpuinfo', 'meminfo', 'stat', 'loadavg', 'uptime', 'vmstat', 'version',
  'sys', 'sysvipc', 'tty',
  'filesystems', 'cgroups', 'crypto', 'devices', 'misc', 'consoles', 'execdomains',
]);

/** Paths the OCI driver makes read-only (bubblewrap does the same for /proc/sys by itself). */
export const READONLY_PROC_PATHS: readonly string[] = ['/proc/sys'];

export interface ProcMask {
  /** Absolute path inside the sandbox, under /proc. */
  readonly path: string;
  readonly kind: 'file' | 'dir';
}

/**
 * The masks for this kernel, read from the host's own /proc (its global entries are the ones a
 * new procfs instance shows). Found once per host object.
 *
 * @example
 *   const masks = await procMasks(); // [{ path: '/proc/interrupts', kind: 'file' }, { path: '/proc/bus', kind: 'dir' }, …]
 */
export async function procMasks(procDir = '/proc'): Promise<readonly ProcMask[]> {
  const names = (await readdir(procDir)).filter((n) => !/^\d+$/.test(n) && !KEPT_PROC_ENTRIES.has(n)).sort();
  const stats = await Promise.all(names.map((n) => lstat(`${procDir}/${n}`).catch(() => undefined)));
  const masks: ProcMask[] = [];
  names.forEach((name, i) => {
    const st = stats[i];
    // Gone since the listing (nothing to mask), or a link (procfs' own links are all kept above).
    if (st === undefined || st.isSymbolicLink()) return;
    if (st.isDirectory()) masks.push({ path: `/proc/${name}`, kind: 'dir' });
    else if ((st.mode & 0o004) !== 0) masks.push({ path: `/proc/${name}`, kind: 'file' });
  });
  return masks;
}
