/**
 * The gateway's config file: the upstream MCP servers it wraps, and for each the only tools it
 * exposes, each with the declaration the host gives it — what a call does (`operation`), what it
 * touches (`resources`, templates over its arguments) and its information-flow `labels`. These
 * come from here, never from the upstream's own annotations (an upstream can call `send` read-only).
 * Strict: unknown keys are errors, every problem reported with its path (INVALID_REQUEST).
 *
 * @example
 *   {
 *     "version": 1,
 *     "policy": "policy.json",
 *     "upstreams": {
 *       "mail": { "command": "node", "args": ["mail-server.js"],
 *                 "tools": { "read": { "operation": "read", "resources": ["mail:thread/{threadId}"] } } }
 *     }
 *   }
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { AirlockError } from '../core/errors.ts';
import { parseStrictJson } from '../core/strict-json.ts';
import { TENANT_ID } from '../core/tenant.ts';
import { TOOL_OPERATION, type PolicyDocument } from '../policy/schema.ts';

/** Upstream and tool names are identifiers: `mail.read` is then `tools.mail.read` in code mode. */
const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const declarationSchema = z.strictObject({
  operation: z.string().regex(TOOL_OPERATION, 'an operation is a lowercase verb: a-z, digits, _ or -, up to 32 (read, write, send, pay…)'),
  resources: z.array(z.string().min(1).max(512)).max(32).optional(),
  labels: z.unknown().optional(),
});

const toolsSchema = z
  .record(z.string().regex(IDENT, 'a tool name is an identifier (A-Z a-z 0-9 _)'), declarationSchema)
  .refine((t) => Object.keys(t).length <= 256, 'at most 256 tools per upstream');

const stdioUpstream = z.strictObject({
  command: z.string().min(1).max(4096),
  args: z.array(z.string().max(64 * 1024)).max(256).optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/), z.string().max(64 * 1024)).optional(),
  cwd: z.string().min(1).max(4096).optional(),
  tools: toolsSchema,
});

const httpUpstream = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  tools: toolsSchema,
});

export const gatewayConfigSchema = z.strictObject({
  version: z.literal(1),
  /** A policy file (relative to the config) or the policy itself: it grants the exposed tools by name. */
  policy: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  tenant: z.string().regex(TENANT_ID, 'a tenant id is 1–63 of a-z 0-9 _ -').optional(),
  /** Offer `execute` and `typescript_api` (code mode) instead of the tools one by one. */
  codeMode: z.boolean().optional(),
  upstreams: z
    .record(z.string().regex(IDENT, 'an upstream name is an identifier (A-Z a-z 0-9 _)'), z.union([stdioUpstream, httpUpstream]))
    .refine((u) => Object.keys(u).length >= 1 && Object.keys(u).length <= 32, 'name 1 to 32 upstreams'),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
export type UpstreamConfig = GatewayConfig['upstreams'][string];
export type ToolDeclarationConfig = z.infer<typeof declarationSchema>;

/** Checks a parsed config whole; INVALID_REQUEST lists every problem with its path. */
export function parseGatewayConfig(value: unknown, where = 'the gateway config'): GatewayConfig {
  const parsed = gatewayConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const list = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
  throw new AirlockError('INVALID_REQUEST', `${where} is invalid: ${list}`, { issues: parsed.error.issues });
}

/** Parses config text (duplicate keys refused) read from `path`. */
export function gatewayConfigFromText(text: string, path: string): GatewayConfig {
  const json = parseStrictJson(text);
  if (!json.ok) throw new AirlockError('INVALID_REQUEST', `the gateway config ${path} must be JSON with each key written once: ${json.problem}`);
  return parseGatewayConfig(json.value, `the gateway config ${path}`);
}

/** A config's policy file is read relative to the config's own directory. */
export function policyPath(config: GatewayConfig, configPath: string): string | null {
  if (typeof config.policy !== 'string') return null;
  return isAbsolute(config.policy) ? config.policy : resolve(dirname(configPath), config.policy);
}

export function inlinePolicy(config: GatewayConfig): PolicyDocument | null {
  return typeof config.policy === 'string' ? null : (config.policy as PolicyDocument);
}
