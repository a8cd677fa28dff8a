/**
 * The program of the process helper (src/container/spawner.ts), run as `python3 -I -S -c`.
 * One JSON request per line on stdin, one reply per line on stdout:
 *   {op: spawn, id, argv, uid, gid, files: [{fd, path}], pipes: [{fd, direction}], views: [{source, target}],
 *    join: [cgroup file], rlimits: [{type, soft, hard}]}
 *     → {id, pid, fds: {childFd: helperFd}}   (or {id, error})
 *   {op: release, id}  → closes the helper's ends of that process's pipes (no reply)
 * and, when a child exits, {exit: id, code, signal, signum}: `signal` is the name Python knows
 * or null (a real-time signal has none), `signum` the number either way.
 * The helper serves every tenant's processes, so nothing one request or one child does may end
 * it: a request it can't read or carry out is answered with an error for that id alone (a line
 * without a usable id is dropped), and an exit it can't name is reported by number.
 * Every fd the helper opens is close-on-exec (Python's default), so a child gets exactly the
 * fds it asked for. The child runs with an empty environment, in /, as uid:gid with no groups;
 * with views, in a mount namespace of its own where each `source` is bind-mounted on its `target`
 * (made while still root, private so that nothing propagates back to the host's namespace).
 * Then, still as root, it writes `0` to each `join` file (it is single-threaded, so that moves
 * all of it into the cgroup without the host-wide lock a cgroup.procs write takes) and sets each
 * rlimit; only then does it drop to uid:gid and exec. A set-up step that fails ends the child
 * with 125 before anything is exec'd.
 */
const SOURCE = String.raw`
import ctypes, errno, fcntl, json, os, resource, signal, sys

# Whatever the host process inherited and did not mark close-on-exec stays out of every child.
os.closerange(3, 1 << 16)
held = {}
children = {}

def reply(obj):
    os.write(1, (json.dumps(obj) + '\n').encode())

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
CLONE_NEWNS, MS_BIND, MS_REC, MS_PRIVATE = 0x20000, 0x1000, 0x4000, 0x40000

def private_views(views):
    ok = libc.unshare(CLONE_NEWNS) == 0 and libc.mount(b'none', b'/', None, MS_REC | MS_PRIVATE, None) == 0
    for v in views:
        ok = ok and libc.mount(os.fsencode(v['source']), os.fsencode(v['target']), None, MS_BIND, None) == 0
    if not ok:
        err = ctypes.get_errno()
        raise OSError(err, 'private view: ' + os.strerror(err))

LIMITS = {'RLIMIT_NOFILE': resource.RLIMIT_NOFILE, 'RLIMIT_FSIZE': resource.RLIMIT_FSIZE, 'RLIMIT_CPU': resource.RLIMIT_CPU, 'RLIMIT_CORE': resource.RLIMIT_CORE}

def set_up(req):
    for path in req.get('join') or []:
        fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            os.write(fd, b'0')
        finally:
            os.close(fd)
    for r in req.get('rlimits') or []:
        resource.setrlimit(LIMITS[r['type']], (int(r['soft']), int(r['hard'])))

def child(req, targets):
    try:
        moved = [(t, fcntl.fcntl(src, fcntl.F_DUPFD_CLOEXEC, 256)) for t, src in targets]
        for t, m in moved:
            os.dup2(m, t, inheritable=True)
        if req.get('views'):
            private_views(req['views'])
        try:
            set_up(req)
        except BaseException as e:
            try:
                os.write(2, ('airlock process helper: cgroup or rlimit: %s\n' % e).encode())
            except BaseException:
                pass
            os._exit(125)
        if req['gid'] is not None:
            os.setgroups([])
            os.setgid(req['gid'])
        if req['uid'] is not None:
            os.setuid(req['uid'])
        os.chdir('/')
        os.execve(req['argv'][0], req['argv'], {})
    except BaseException as e:
        try:
            os.write(2, ('airlock process helper: %s\n' % e).encode())
        except BaseException:
            pass
    os._exit(127)

def spawn(req):
    child_ends, parent_ends, opened = [], {}, []
    try:
        for p in req['pipes']:
            r, w = os.pipe()
            mine, theirs = (w, r) if p['direction'] == 'to-child' else (r, w)
            child_ends.append((p['fd'], theirs))
            parent_ends[str(p['fd'])] = mine
        for f in req['files']:
            fd = os.open(f['path'], os.O_RDONLY | os.O_CLOEXEC)
            opened.append(fd)
            child_ends.append((f['fd'], fd))
        pid = os.fork()
        if pid == 0:
            child(req, child_ends)
    except Exception as e:
        for fd in list(parent_ends.values()):
            os.close(fd)
        reply({'id': req['id'], 'error': str(e) if isinstance(e, OSError) else 'bad request: %s' % type(e).__name__})
        return
    finally:
        for _, fd in child_ends:
            os.close(fd)
    held[req['id']] = list(parent_ends.values())
    children[pid] = req['id']
    reply({'id': req['id'], 'pid': pid, 'fds': parent_ends})

def reap():
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        rid = children.pop(pid, None)
        if rid is None:
            continue
        if os.WIFSIGNALED(status):
            num = os.WTERMSIG(status)
            try:
                name = signal.Signals(num).name
            except ValueError:
                name = None
            reply({'exit': rid, 'code': None, 'signal': name, 'signum': num})
        else:
            reply({'exit': rid, 'code': os.WEXITSTATUS(status), 'signal': None, 'signum': None})

def handle(line):
    try:
        req = json.loads(line)
        rid = req['id']
    except Exception:
        return
    try:
        if req['op'] == 'spawn':
            spawn(req)
        elif req['op'] == 'release':
            for fd in held.pop(rid, []):
                os.close(fd)
        else:
            reply({'id': rid, 'error': 'unknown op'})
    except Exception as e:
        reply({'id': rid, 'error': 'bad request: %s' % type(e).__name__})

wake_r, wake_w = os.pipe()
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *_: None)
import select
poll = select.poll()
poll.register(0, select.POLLIN)
poll.register(wake_r, select.POLLIN)
buf = b''
while True:
    try:
        events = poll.poll()
    except InterruptedError:
        continue
    for fd, _ in events:
        if fd == wake_r:
            try:
                os.read(wake_r, 512)
            except BlockingIOError:
                pass
            reap()
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            sys.exit(0)
        buf += chunk
        while b'\n' in buf:
            line, buf = buf.split(b'\n', 1)
            handle(line)
`;

export function spawnerHelperSource(): string {
  return SOURCE;
}
