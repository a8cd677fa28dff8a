/** What every route file shares: the server's parts, and the pieces each OpenAPI route repeats. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AuditStore } from '../../audit/store.ts';
import type { Airlock } from '../../runtime/airlock.ts';
import { errorSchema } from '../schemas.ts';
import type { ServerEnv } from '../guard.ts';
import type { AuditFeed } from '../audit-feed.ts';
import type { PolicyStore } from '../policy-store.ts';
import type { SandboxTable } from '../sandboxes.ts';
import type { StreamSlots } from '../stream-slots.ts';
import type { WarrantKeys } from '../warrant-keys.ts';

export interface RouteParts {
  readonly airlock: Airlock;
  /** The audit log's store, for the tenant's own queries (the airlock writes through its sink). */
  readonly audit: AuditStore;
  /** The same store, heard live: what the event streams follow. */
  readonly feed: AuditFeed;
  /** Event streams open per API key. */
  readonly streams: StreamSlots;
  /** The warrant keys the server trusts and holds. */
  readonly warrants: WarrantKeys;
  readonly sandboxes: SandboxTable;
  /** The tenants' stored policies. */
  readonly policies: PolicyStore;
  readonly home: string;
}

export type App = OpenAPIHono<ServerEnv>;

/** Every /v1 route needs a key. */
export const SECURITY = [{ apiKey: [] }];

/** The coded failures a route may answer with, documented once. */
export const ERRORS = {
  default: { description: 'A coded error: its status comes from the error table', content: { 'application/json': { schema: errorSchema } } },
} as const;

export function json<T>(schema: T): { 'application/json': { schema: T } } {
  return { 'application/json': { schema } };
}
