/**
 * The doors a policy document grants, summarised for reading: tools (name and operation), egress
 * routes, read-only host files, environment and secret names (never values), and the limits.
 * The document is parsed by the policy's own schema; one that does not parse gives null.
 *
 * @example
 *   policySummary(record.event.policyHash, record.event.policy) // { hash, tools: [{ name: 'lookup', operation: 'read' }], … }
 */
import type { z } from '@hono/zod-openapi';
import { LIMIT_DEFAULTS, policySchema } from '../policy/schema.ts';
import type { policySummarySchema } from './console-schemas.ts';

export type PolicySummary = z.infer<typeof policySummarySchema>;

export function policySummary(hash: string, document: unknown): PolicySummary | null {
  if (document === undefined) return null;
  const parsed = policySchema.safeParse(document);
  if (!parsed.success) return null;
  const doc = parsed.data;
  const given = Object.entries(doc.limits ?? {}).filter((entry): entry is [string, number] => entry[1] !== undefined);
  return {
    hash,
    tools: Object.entries(doc.tools ?? {}).map(([name, grant]) => ({ name, operation: grant.operation })),
    routes: (doc.network?.routes ?? []).map((r) => ({
      name: r.name ?? null,
      host: r.host,
      scheme: r.scheme ?? 'https',
      port: r.port ?? null,
      methods: r.methods === undefined ? null : [...r.methods],
      paths: r.paths === undefined ? null : [...r.paths],
      forwardTo: r.forward?.to ?? null,
      secret: r.forward?.credential?.secret ?? null,
    })),
    files: (doc.files ?? []).map((f) => ({ path: f.path, at: f.at ?? f.path })),
    env: Object.keys(doc.env ?? {}),
    secrets: Object.keys(doc.secrets ?? {}),
    limits: { ...LIMIT_DEFAULTS, ...Object.fromEntries(given) },
  };
}
