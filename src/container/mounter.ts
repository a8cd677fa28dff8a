/**
 * Workspace mounts without spawning mount(8)/umount(8) each time (each costs ~4 ms here, mostly
 * libmount parsing the mount table). One long-lived root helper per pool — Debian's python3 with
 * ctypes calling mount(2)/umount2(2) — takes one JSON request per line on a pipe only this process
 * holds. It refuses any directory that is not `<runDir>/sandboxes/<id>/workspace` and never
 * follows a symlink when unmounting, so even a confused caller can't mount over or unmount
 * anything else. The tmpfs is the same as the one-shot path makes: capped in bytes and inodes, mode 0700, owned
 * by the sandbox's uid, nosuid and nodev.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { AirlockError } from '../core/errors.ts';

const PYTHON = '/usr/bin/python3';

// The helper's whole program. argv[1] is the sandboxes directory it may touch.
const HELPER = String.raw`
import ctypes, json, os, re, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
MS_NOSUID, MS_NODEV, UMOUNT_NOFOLLOW = 2, 4, 8
allowed = re.compile(re.escape(sys.argv[1]) + r'/[A-Za-z0-9_-]{1,100}/workspace')
def handle(req):
    path = req['dir']
    if not isinstance(path, str) or not allowed.fullmatch(path) or os.path.realpath(path) != path:
        return 1
    if req['op'] == 'mount':
        opts = 'size=%d,nr_inodes=%d,mode=0700,uid=%d,gid=%d' % (int(req['bytes']), int(req['inodes']), int(req['uid']), int(req['gid']))
        return 0 if libc.mount(b'airlock-ws', path.encode(), b'tmpfs', MS_NOSUID | MS_NODEV, opts.encode()) == 0 else ctypes.get_errno()
    if req['op'] == 'umount':
        return 0 if libc.umount2(path.encode(), UMOUNT_NOFOLLOW) == 0 else ctypes.get_errno()
    return 22
# A request it can't read or carry out fails alone (EINVAL); the helper serves every sandbox.
for line in sys.stdin:
    try:
        req = json.loads(line)
        rid = req['id']
    except Exception:
        continue
    try:
        err = handle(req)
    except Exception:
        err = 22
    sys.stdout.write(json.dumps({'id': rid, 'errno': err, 'error': os.strerror(err) if err else ''}) + '\n')
    sys.stdout.flush()
`;

const EINVAL = 22;
const ENOENT = 2;

type Reply = { readonly errno: number; readonly error: string };
type Pending = { readonly resolve: (r: Reply) => void; readonly reject: (e: Error) => void };
type Helper = ChildProcessByStdio<Writable, Readable, null>;

/**
 * @example
 *   const m = new Mounter('/run/airlock/sandboxes');
 *   await m.mountTmpfs(dir, { bytes: 64 << 20, inodes: 16384, uid, gid }); … await m.unmount(dir); m.close();
 */
export class Mounter {
  readonly #sandboxesDir: string;
  #helper: Helper | undefined;
  readonly #pending = new Map<number, Pending>();
  #next = 1;

  constructor(sandboxesDir: string) {
    this.#sandboxesDir = sandboxesDir;
  }

  #start(): Helper {
    // -I -S: no user site, no environment variables, no site-packages; nothing from the host steers it.
    const child = spawn(PYTHON, ['-I', '-S', '-c', HELPER, this.#sandboxesDir], { stdio: ['pipe', 'pipe', 'ignore'], env: {} });
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const reply = JSON.parse(buffered.slice(0, nl)) as Reply & { id: number };
        buffered = buffered.slice(nl + 1);
        this.#pending.get(reply.id)?.resolve(reply);
        this.#pending.delete(reply.id);
      }
      this.#idle();
    });
    const fail = () => {
      if (this.#helper === child) this.#helper = undefined;
      for (const p of this.#pending.values()) p.reject(new AirlockError('SANDBOX_UNAVAILABLE', `the workspace mount helper (${PYTHON}) stopped: check that python3 is installed and airlock runs as root`));
      this.#pending.clear();
    };
    child.on('error', fail);
    child.on('close', fail);
    child.stdin.on('error', () => undefined);
    return child;
  }

  /** The helper must not keep the host process alive on its own, only while a request is out. */
  #idle(): void {
    const h = this.#helper;
    if (h === undefined) return;
    const busy = this.#pending.size > 0;
    // Child stdio pipes are sockets, which can be (un)referenced like any handle.
    for (const s of [h.stdout, h.stdin] as unknown as Socket[]) {
      if (busy) s.ref();
      else s.unref();
    }
    if (busy) h.ref();
    else h.unref();
  }

  #call(request: Record<string, string | number>): Promise<Reply> {
    this.#helper ??= this.#start();
    const id = this.#next++;
    const helper = this.#helper;
    return new Promise<Reply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#idle();
      helper.stdin.write(`${JSON.stringify({ ...request, id })}\n`);
    });
  }

  /** Mounts a tmpfs capped in bytes and inodes at `dir`, owned by uid:gid with mode 0700. */
  async mountTmpfs(dir: string, options: { readonly bytes: number; readonly inodes: number; readonly uid: number; readonly gid: number }): Promise<void> {
    const r = await this.#call({ op: 'mount', dir, bytes: options.bytes, inodes: options.inodes, uid: options.uid, gid: options.gid });
    if (r.errno !== 0) throw new AirlockError('SANDBOX_UNAVAILABLE', `can't mount the workspace tmpfs at ${dir} (${r.error}): run airlock as root`);
  }

  /** Unmounts `dir`; a directory that is not (or no longer) mounted counts as done. */
  async unmount(dir: string): Promise<void> {
    const r = await this.#call({ op: 'umount', dir });
    if (r.errno !== 0 && r.errno !== EINVAL && r.errno !== ENOENT) {
      throw new AirlockError('INTERNAL', `can't unmount the workspace at ${dir} (${r.error}): something still uses it`);
    }
  }

  /** Stops the helper; a later request starts a new one. */
  close(): void {
    this.#helper?.stdin.end();
    this.#helper = undefined;
  }
}
