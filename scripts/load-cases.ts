/**
 * The hostile tenth of `npm run load`: bombs and escape attempts as runs, and reads of another
 * tenant's run and sandbox through the API. Each reports what happened and whether anything of
 * the other tenant (or of the host) got through: `leaked` is judged on what came back, never on
 * an error message alone.
 */
export interface Probe {
  readonly runId: string;
  /** Null when the machine could not make the victim's container sandbox. */
  readonly sandboxId: string | null;
}

export type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: unknown }>;

export interface HostileCase {
  readonly name: string;
  readonly run: (call: Call, victim: Probe) => Promise<{ verdict: string; leaked: boolean }>;
}

const VICTIM_SECRET = 'victim secret 7f3a';

function codeOf(json: unknown): string {
  const error = (json as { error?: { code?: string } } | null)?.error;
  return error?.code ?? 'ok';
}

/** A guest program; `leaks` says, from its result, whether it reached what it must not. */
function guest(name: string, code: string, leaks: (result: unknown) => boolean): HostileCase {
  return {
    name,
    run: async (call) => {
      const res = await call('POST', '/v1/runs', { code });
      const result = (res.json as { result?: unknown } | null)?.result;
      return { verdict: codeOf(res.json), leaked: res.status === 200 && leaks(result) };
    },
  };
}

/** A read of the victim's objects: anything but 404, or any of the victim's data, is a leak. */
function read(name: string, request: (victim: Probe) => [method: string, path: string, body?: unknown] | null): HostileCase {
  return {
    name,
    run: async (call, victim) => {
      const req = request(victim);
      if (req === null) return { verdict: 'skipped (no victim sandbox)', leaked: false };
      const res = await call(...req);
      const body = JSON.stringify(res.json);
      const empty = /"records":\[\]/.test(body);
      return { verdict: `HTTP ${res.status}`, leaked: (res.status !== 404 && !(res.status === 200 && empty)) || body.includes(VICTIM_SECRET) };
    },
  };
}

export const HOSTILE: readonly HostileCase[] = [
  guest('cpu bomb', 'while (true) {}', () => false),
  guest('memory bomb', 'const a = []; while (true) a.push(new Array(1e6).fill(1));', () => false),
  guest('constructor escape', "export default this.constructor.constructor('return typeof process')()", (r) => r !== 'undefined'),
  guest('host module import', "const fs = await import('node:fs'); export default fs.readFileSync('/etc/passwd', 'utf8')", (r) => typeof r === 'string' && r.includes('root:')),
  guest('prototype walk to host', "export default Object.getOwnPropertyNames(globalThis).filter((k) => /^(process|require|Buffer|module|global)$/.test(k))", (r) => Array.isArray(r) && r.length > 0),
  read("another tenant's run records", (v) => ['GET', `/v1/audit/${v.runId}`]),
  read("another tenant's records by filter", (v) => ['GET', `/v1/audit?run=${encodeURIComponent(v.runId)}`]),
  read("another tenant's sandbox", (v) => (v.sandboxId === null ? null : ['GET', `/v1/sandboxes/${v.sandboxId}`])),
  read("another tenant's sandbox files", (v) => (v.sandboxId === null ? null : ['GET', `/v1/sandboxes/${v.sandboxId}/files`])),
  read("a command in another tenant's sandbox", (v) => (v.sandboxId === null ? null : ['POST', `/v1/sandboxes/${v.sandboxId}/commands`, { argv: ['cat', '/etc/hostname'] }])),
  read("destroying another tenant's sandbox", (v) => (v.sandboxId === null ? null : ['DELETE', `/v1/sandboxes/${v.sandboxId}`])),
];
