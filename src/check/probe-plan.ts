/**
 * Where a probe knocks: the host's home, root and secret files, the canary, granted paths, the
 * host's loopback bait, the metadata address, a public address, DNS, each granted route, an
 * un-granted host. The same plan serves both tiers; each tier's probe tries what its sandbox can.
 */
import { join } from 'node:path';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { CompiledRoute } from '../policy/network.ts';
import { policySchema } from '../policy/schema.ts';
import type { Bait } from './bait.ts';
import type { HostFacts } from './policy-answers.ts';

export interface ProbePlan {
  readonly paths: readonly { readonly label: string; readonly path: string }[];
  readonly tcp: readonly { readonly label: string; readonly host: string; readonly port: number }[];
  readonly udp: readonly { readonly label: string; readonly host: string; readonly port: number }[];
  readonly dns: readonly string[];
  readonly http: readonly { readonly label: string; readonly method: string; readonly url: string; readonly granted: boolean }[];
  /** Mark files: a second tenant plants `plant` wherever it can write; the probed sandbox looks for `name*`. */
  readonly mark: { readonly name: string; readonly plant: string | null };
}

/** A URL the route grants: its first method and path, a name under a wildcard. */
export function routeUrl(r: CompiledRoute): { method: string; url: string } {
  const host = r.host.kind === 'exact' ? r.host.host : r.host.kind === 'ip' ? (r.host.address.includes(':') ? `[${r.host.address}]` : r.host.address) : `probe${r.host.suffix}`;
  const port = r.port === (r.scheme === 'https' ? 443 : 80) ? '' : `:${r.port}`;
  const method = r.methods === null ? 'GET' : ([...r.methods][0] ?? 'GET');
  return { method, url: `${r.scheme}://${host}${port}${r.paths?.[0] ?? '/'}` };
}

export const MARK_NAME = 'airlock-check-mark';

/** The plan for one probed sandbox. `other` names the second tenant's workspace on the host. */
export function probePlan(bait: Bait, facts: HostFacts, policy: CompiledPolicy, other: { readonly workspace: string | null }): ProbePlan {
  const doc = policySchema.parse(policy.document);
  const granted = (doc.files ?? []).map((f) => ({ label: 'granted path', path: f.at ?? f.path }));
  const paths = [
      { label: 'host home', path: facts.home },
      { label: 'host /root', path: '/root' },
      { label: 'host /etc/shadow', path: '/etc/shadow' },
      { label: 'host canary file', path: bait.file },
      { label: 'audit log', path: join(facts.airlockHome, 'audit.db') },
      { label: 'sandboxes dir', path: join(facts.runDir, 'sandboxes') },
      { label: 'host working dir', path: process.cwd() },
      ...(other.workspace === null ? [] : [{ label: "tenant B's workspace", path: other.workspace }]),
      ...granted,
  ].filter((p, i, all) => all.findIndex((q) => q.path === p.path) === i);
  return {
    paths,
    tcp: [
      { label: 'host loopback', host: bait.http.host, port: bait.http.port },
      { label: 'metadata', host: '169.254.169.254', port: 80 },
      { label: 'public address', host: '1.1.1.1', port: 443 },
    ],
    udp: [{ label: 'host loopback UDP', host: bait.udp.host, port: bait.udp.port }],
    dns: ['example.com'],
    http: [
      ...policy.routes.map((r) => ({ label: `route ${r.name}`, ...routeUrl(r), granted: true })),
      { label: 'un-granted host', method: 'GET', url: 'http://example.com/', granted: false },
      { label: 'metadata', method: 'GET', url: 'http://169.254.169.254/latest/meta-data/', granted: false },
      { label: 'host loopback', method: 'GET', url: `http://127.0.0.1:${bait.http.port}/via-http`, granted: false },
    ],
    mark: { name: MARK_NAME, plant: null },
  };
}
