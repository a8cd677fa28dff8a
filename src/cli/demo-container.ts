/**
 * The container part of `airlock demo`: a Python script that works in its workspace and is denied
 * /etc/shadow, the host's home and the network, each shown by what the sandbox itself observed.
 *
 * @example
 *   await demoContainer((line) => console.log(line));
 */
import { homedir } from 'node:os';
import type { PolicyDocument } from '../policy/schema.ts';
import type { Airlock } from '../runtime/airlock.ts';

const SCRIPT = `
import json, os, socket
report = {}
with open("notes.txt", "w") as f:
    f.write("written inside the sandbox\\n")
report["workspace"] = "wrote and read back: " + open("notes.txt").read().strip()
def denied(what, probe):
    try:
        probe()
        report[what] = "REACHED (this would be a bug)"
    except OSError as e:
        report[what] = "denied: " + (e.strerror or type(e).__name__)
denied("/etc/shadow", lambda: open("/etc/shadow").read())
denied("host home " + os.environ.get("HOST_HOME", "/root"), lambda: os.listdir(os.environ.get("HOST_HOME", "/root")))
denied("network 1.1.1.1:443", lambda: socket.create_connection(("1.1.1.1", 443), 2))
denied("metadata 169.254.169.254:80", lambda: socket.create_connection(("169.254.169.254", 80), 2))
print(json.dumps(report))
`;

/** The policy sets one variable: the path of the host's home, so the script knows what to try. */
export const CONTAINER_DEMO_POLICY: PolicyDocument = { version: 1, env: { HOST_HOME: homedir() } };

export async function demoContainer(out: (line: string) => void, airlock: Airlock): Promise<void> {
  await using sbx = await airlock.sandbox({ tier: 'container', tenant: 'demo', policy: CONTAINER_DEMO_POLICY });
  await sbx.writeFile('main.py', SCRIPT);
  const r = await sbx.exec(['python3', 'main.py']);
  out(`container: python3 main.py → ${r.status} in ${r.usage.wallMs} ms (its own uid, workspace and empty network)`);
  if (r.status !== 'ok') {
    out(`container: the script failed: ${r.error?.message ?? ''} ${r.stderr.trim()}`);
    return;
  }
  const report = JSON.parse(r.stdout) as Record<string, string>;
  for (const [what, seen] of Object.entries(report)) out(`container:   ${what}: ${seen}`);
  out(`container: the host read back notes.txt: ${(await sbx.readFile('notes.txt')).toString().trim()}`);
}
