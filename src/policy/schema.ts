/**
 * The policy document, version 1: default deny. A door that is not named here is closed.
 * Unknown keys are errors everywhere, so a grant this version does not understand is refused
 * instead of being silently ignored.
 */
import { z } from 'zod';
import { networkSchema, SECRET_NAME, secretGrantSchema } from './network.ts';

/**
 * What a tool does to the world, from an open vocabulary the host chooses: a lowercase verb
 * (read, write, delete, send, share, pay, book, fetch, admin, compute…). Warrants grant by it.
 */
export const TOOL_OPERATION = /^[a-z][a-z0-9_-]{0,31}$/;
export type ToolOperation = string;

/** A JSON Schema object; checked for validity by compile(), not here. */
const jsonSchema = z.record(z.string(), z.unknown());

export const toolGrantSchema = z.strictObject({
  /** What the tool does to the world; warrants and labels reason about it. */
  operation: z.string().regex(TOOL_OPERATION, 'an operation is a lowercase verb: a-z, digits, _ or -, up to 32 (read, write, send, pay…)'),
  /** JSON Schema of the tool's one argument, checked on the host at every call. */
  args: jsonSchema,
  description: z.string().max(1000).optional(),
});

/** Upper bounds a policy may ask for: a policy can't lift a sandbox out of its limits. */
export const LIMIT_CEILINGS = {
  wallMs: 600_000,
  cpuMs: 600_000,
  memoryMiB: 4096,
  // What a run's worker can carry back: output and result both travel in its one answer frame.
  outputBytes: 16 * 1024 * 1024,
  toolCalls: 100_000,
  // Bytes of tool-call frames a run may send the host (arguments, as JSON, escaped once more in
  // the frame): checked on each frame's length before the host parses it.
  toolArgBytes: 64 * 1024 * 1024,
  toolMs: 600_000,
  // Denied knocks on any door (src/policy/denials.ts); each is an audit event.
  denials: 10_000,
  resultBytes: 16 * 1024 * 1024,
  codeBytes: 16 * 1024 * 1024,
  // Container tier: processes, open files, one file's size, the workspace's size.
  pids: 4096,
  openFiles: 65_536,
  fileBytes: 4 * 1024 * 1024 * 1024,
  workspaceMiB: 16_384,
  // Files, directories and links the workspace may hold (its tmpfs's nr_inodes): each costs host
  // kernel memory that the workspace's byte size does not count.
  workspaceFiles: 1_000_000,
  // Lifecycle (src/runtime/lifecycle.ts): a sandbox with no activity for idleMs, or older than
  // lifetimeMs, is destroyed. A run already in flight then ends under its own wallMs.
  idleMs: 3_600_000,
  lifetimeMs: 86_400_000,
  // Sub-runs a run may start from inside the guest (`subrun`), each in a fresh isolate.
  subruns: 64,
} as const;

/** What a sandbox gets when the policy says nothing: small. */
export const LIMIT_DEFAULTS = {
  wallMs: 5_000,
  cpuMs: 2_000,
  memoryMiB: 64,
  outputBytes: 64 * 1024,
  toolCalls: 100,
  toolArgBytes: 4 * 1024 * 1024,
  toolMs: 10_000,
  denials: 100,
  resultBytes: 1024 * 1024,
  codeBytes: 1024 * 1024,
  pids: 64,
  openFiles: 256,
  fileBytes: 16 * 1024 * 1024,
  workspaceMiB: 32,
  workspaceFiles: 16_384,
  idleMs: 60_000,
  lifetimeMs: 600_000,
  // Closed unless granted: a guest gets `subrun` and `unwrap` only under limits.subruns > 0.
  subruns: 0,
} as const;

const limit = (max: number, min = 1) => z.number().int().min(min).max(max);

export const limitsSchema = z.strictObject({
  wallMs: limit(LIMIT_CEILINGS.wallMs).optional(),
  cpuMs: limit(LIMIT_CEILINGS.cpuMs).optional(),
  // isolated-vm refuses heaps under 8 MiB.
  memoryMiB: limit(LIMIT_CEILINGS.memoryMiB, 8).optional(),
  outputBytes: limit(LIMIT_CEILINGS.outputBytes, 0).optional(),
  toolCalls: limit(LIMIT_CEILINGS.toolCalls, 0).optional(),
  toolArgBytes: limit(LIMIT_CEILINGS.toolArgBytes, 0).optional(),
  toolMs: limit(LIMIT_CEILINGS.toolMs).optional(),
  denials: limit(LIMIT_CEILINGS.denials, 0).optional(),
  resultBytes: limit(LIMIT_CEILINGS.resultBytes).optional(),
  codeBytes: limit(LIMIT_CEILINGS.codeBytes).optional(),
  // A shell needs a few processes and a few fds of its own before the code runs.
  pids: limit(LIMIT_CEILINGS.pids, 4).optional(),
  openFiles: limit(LIMIT_CEILINGS.openFiles, 16).optional(),
  fileBytes: limit(LIMIT_CEILINGS.fileBytes).optional(),
  workspaceMiB: limit(LIMIT_CEILINGS.workspaceMiB).optional(),
  // The workspace's root directory is one of them.
  workspaceFiles: limit(LIMIT_CEILINGS.workspaceFiles, 2).optional(),
  idleMs: limit(LIMIT_CEILINGS.idleMs, 50).optional(),
  lifetimeMs: limit(LIMIT_CEILINGS.lifetimeMs, 50).optional(),
  subruns: limit(LIMIT_CEILINGS.subruns, 0).optional(),
});

/** An absolute, normalised path: no "..", ".", empty or NUL segments. */
const absolutePath = z
  .string()
  .max(4096)
  .refine((p) => p.startsWith('/') && (p === '/' || p.split('/').slice(1).every((seg) => seg !== '' && seg !== '.' && seg !== '..' && !seg.includes('\0'))), {
    error: 'an absolute, normalised path (no "..", "." or "//")',
  });

/** A host path made visible read-only inside a container sandbox (at the same path unless `at`). */
export const fileGrantSchema = z.strictObject({
  path: absolutePath,
  at: absolutePath.optional(),
});

/** Environment variable names a policy may set (the sandbox gets nothing else from the host). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * Tool names are identifiers, or up to 8 of them joined by dots (`mail.read`, called as
 * `tools.mail.read(...)`), so that a grant can name a namespace (`mail.*`) and no name can shadow
 * a built-in.
 */
export const TOOL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}(?:\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,7}$/;

export const policySchema = z.strictObject({
  version: z.literal(1),
  tools: z.record(z.string().regex(TOOL_NAME, 'a tool name is an identifier (letters, digits, _), or identifiers joined by dots: mail.read'), toolGrantSchema).optional(),
  limits: limitsSchema.optional(),
  /** Egress routes (src/policy/network.ts). Default none: no network at all. */
  network: networkSchema.optional(),
  /** Names of host-held secrets that credentialed routes may attach. Values never appear here. */
  secrets: z.record(z.string().regex(SECRET_NAME, 'a secret name is an identifier: letters, digits, _'), secretGrantSchema).optional(),
  /** Container tier: extra read-only host paths. Default none. */
  files: z.array(fileGrantSchema).max(64).optional(),
  /** Container tier: the environment, exactly (airlock adds only PATH, HOME, TMPDIR, LANG). Default none. */
  env: z.record(z.string().regex(ENV_NAME, 'an environment name is [A-Za-z_][A-Za-z0-9_]*'), z.string().max(32_768)).optional(),
});

export type PolicyDocument = z.infer<typeof policySchema>;
export type ToolGrant = z.infer<typeof toolGrantSchema>;
export type LimitsDocument = z.infer<typeof limitsSchema>;
export type FileGrant = z.infer<typeof fileGrantSchema>;
export type Limits = { readonly [K in keyof typeof LIMIT_DEFAULTS]: number };

/** The policy that grants nothing and sets the default limits. */
export const DENY_ALL: PolicyDocument = { version: 1 };
