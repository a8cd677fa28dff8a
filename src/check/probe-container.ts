/**
 * The container tier's probe: a Python script run inside a real container sandbox with the policy
 * under check. It tries every door it is told of and reports what happened, as one JSON line on
 * stdout. It is told where to knock (host paths, the host's loopback bait, route URLs), never the
 * canary values: the host looks for those in its report.
 */
import type { ProbePlan } from './probe-plan.ts';

export const CONTAINER_PROBE = String.raw`
import errno, json, os, socket, sys, urllib.request, urllib.error
plan = json.load(sys.stdin)
out = {"uid": os.getuid(), "env": {}, "procs": [], "paths": [], "tcp": [], "udp": [], "dns": [], "http": [],
       "net": {}, "mounts": [], "files": [], "marks": [], "planted": [], "walked": 0}

def why(e):
    n = getattr(e, "errno", None)
    return type(e).__name__ + (":" + errno.errorcode.get(n, str(n)) if isinstance(n, int) else "")

for k, v in os.environ.items():
    out["env"][k] = v[:200]
for pid in sorted(p for p in os.listdir("/proc") if p.isdigit()):
    entry = {"pid": int(pid)}
    try:
        entry["cmd"] = open("/proc/%s/cmdline" % pid, "rb").read().replace(b"\0", b" ").decode("utf8", "replace")[:120]
        entry["env"] = [x.decode("utf8", "replace")[:240] for x in open("/proc/%s/environ" % pid, "rb").read().split(b"\0") if x]
    except OSError as e:
        entry["error"] = why(e)
    out["procs"].append(entry)
try:
    out["mounts"] = sorted({line.split()[4] for line in open("/proc/self/mountinfo")})
except OSError as e:
    out["mounts"] = ["? " + why(e)]
try:
    out["net"]["ifaces"] = [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]]
    out["net"]["routes"] = len(open("/proc/net/route").read().splitlines()) - 1
except OSError as e:
    out["net"]["error"] = why(e)

for t in plan["paths"]:
    r = {"label": t["label"], "path": t["path"]}
    try:
        if os.path.isdir(t["path"]):
            r["kind"] = "dir"
            r["sample"] = sorted(os.listdir(t["path"]))[:12]
        else:
            r["kind"] = "file"
            r["sample"] = open(t["path"], "rb").read(256).decode("utf8", "replace")
        r["ok"] = True
    except OSError as e:
        r["ok"] = False
        r["error"] = why(e)
    out["paths"].append(r)

for t in plan["tcp"]:
    r = {"label": t["label"], "target": "%s:%d" % (t["host"], t["port"])}
    try:
        s = socket.create_connection((t["host"], t["port"]), 1.5)
        s.sendall(b"GET /direct-socket HTTP/1.0\r\n\r\n")
        s.close()
        r["ok"] = True
    except OSError as e:
        r["ok"] = False
        r["error"] = why(e)
    out["tcp"].append(r)

for t in plan["udp"]:
    r = {"label": t["label"], "target": "%s:%d" % (t["host"], t["port"])}
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01", (t["host"], t["port"]))
        s.close()
        r["sent"] = True
    except OSError as e:
        r["sent"] = False
        r["error"] = why(e)
    out["udp"].append(r)

for name in plan["dns"]:
    try:
        out["dns"].append({"name": name, "ok": True, "addrs": sorted({a[4][0] for a in socket.getaddrinfo(name, 80)})[:4]})
    except OSError as e:
        out["dns"].append({"name": name, "ok": False, "error": why(e)})

for t in plan["http"]:
    r = {"label": t["label"], "url": t["url"], "via": "proxy" if os.environ.get("HTTP_PROXY") else "direct"}
    try:
        with urllib.request.urlopen(urllib.request.Request(t["url"], method=t["method"]), timeout=3) as res:
            r["status"] = res.status
            r["body"] = res.read(200).decode("utf8", "replace")
    except urllib.error.HTTPError as e:
        r["status"] = e.code
        body = e.read(2000).decode("utf8", "replace")
        try:
            r["code"] = json.loads(body)["error"]["code"]
        except Exception:
            r["body"] = body[:200]
    except Exception as e:
        r["error"] = why(getattr(e, "reason", e)) if not isinstance(getattr(e, "reason", None), str) else e.reason
    out["http"].append(r)

SKIP = {"/proc", "/sys", "/dev", "/usr", "/bin", "/sbin", "/lib", "/lib64"}
mark = plan["mark"]
stack = ["/"]
while stack and out["walked"] < 3000:
    d = stack.pop()
    try:
        names = sorted(os.listdir(d))
    except OSError:
        continue
    if mark["plant"] is not None and len(out["planted"]) < 40 and os.access(d, os.W_OK):
        p = os.path.join(d, "%s-%d" % (mark["name"], len(out["planted"])))
        try:
            with open(p, "w") as f:
                f.write(mark["plant"])
            out["planted"].append(p)
        except OSError:
            pass
    for n in names:
        p = os.path.join(d, n)
        out["walked"] += 1
        if p in SKIP or os.path.islink(p):
            continue
        if os.path.isdir(p):
            stack.append(p)
        elif n.startswith(mark["name"]) and p not in out["planted"]:
            try:
                out["marks"].append({"path": p, "content": open(p).read(200)})
            except OSError as e:
                out["marks"].append({"path": p, "error": why(e)})
        elif len(out["files"]) < 200 and os.access(p, os.R_OK):
            out["files"].append(p)
sys.stdout.write(json.dumps(out) + "\n")
sys.stdout.flush()
if mark.get("hold"):
    sys.stdin.close()
    import time
    time.sleep(mark["hold"])
`;

/** The report the container probe prints. */
export interface ContainerReport {
  readonly uid: number;
  readonly env: Readonly<Record<string, string>>;
  readonly procs: readonly { readonly pid: number; readonly cmd?: string; readonly env?: readonly string[]; readonly error?: string }[];
  readonly paths: readonly { readonly label: string; readonly path: string; readonly ok: boolean; readonly kind?: string; readonly sample?: string | readonly string[]; readonly error?: string }[];
  readonly tcp: readonly { readonly label: string; readonly target: string; readonly ok: boolean; readonly error?: string }[];
  readonly udp: readonly { readonly label: string; readonly target: string; readonly sent: boolean; readonly error?: string }[];
  readonly dns: readonly { readonly name: string; readonly ok: boolean; readonly addrs?: readonly string[]; readonly error?: string }[];
  readonly http: readonly { readonly label: string; readonly url: string; readonly via: string; readonly status?: number; readonly code?: string; readonly body?: string; readonly error?: string }[];
  readonly net: { readonly ifaces?: readonly string[]; readonly routes?: number; readonly error?: string };
  readonly mounts: readonly string[];
  readonly files: readonly string[];
  readonly marks: readonly { readonly path: string; readonly content?: string; readonly error?: string }[];
  readonly planted: readonly string[];
  readonly walked: number;
}

/** The probe's stdin: the plan, plus how long to stay alive after reporting (for a second tenant). */
export function containerInput(plan: ProbePlan, holdSeconds = 0): string {
  return JSON.stringify({ ...plan, mark: { ...plan.mark, hold: holdSeconds } });
}
