/**
 * Messages between the host and an isolate worker. The host validates everything a worker sends
 * (zod): a worker runs untrusted code, so after a V8 escape it could say anything.
 */
import { z } from 'zod';
import { unpackText } from './packed-text.ts';

export interface RunJob {
  readonly t: 'run';
  readonly run: string;
  /** Whose run it is: a cordon's worker serves several tenants, and keeps their code caches apart. */
  readonly tenant: string;
  /** A script evaluating to the guest's async main function (prepare.ts), or base64 WebAssembly. */
  readonly code: string;
  readonly kind: 'module' | 'wasm';
  readonly input: unknown;
  readonly tools: readonly string[];
  /** Whether the guest gets a `fetch` (the policy grants routes); the host still decides each request. */
  readonly network: 'granted' | 'none';
  /** Whether the guest gets `subrun` and `unwrap` (policy.limits.subruns > 0); the host still decides each. */
  readonly delegation: 'granted' | 'none';
  readonly limits: {
    readonly wallMs: number;
    readonly cpuMs: number;
    readonly memoryMiB: number;
    readonly outputBytes: number;
    readonly resultBytes: number;
  };
}

export interface ToolReply {
  readonly t: 'tool-reply';
  readonly run: string;
  readonly call: number;
  /** JSON text of the handler's value, or a coded error. */
  readonly ok: boolean;
  readonly json?: string | null;
  readonly code?: string;
  readonly message?: string;
}

/** The host ends a run from outside: it went on calling past its tool-call limit. */
export interface StopJob {
  readonly t: 'stop';
  readonly run: string;
}

export type HostToWorker = RunJob | ToolReply | StopJob;

export const STOP_REASONS = ['wall', 'cpu', 'memory', 'output', 'calls', 'denials'] as const;

/** Text as a worker sends it (packed-text.ts), read back as a string. */
const text = z.union([z.string(), z.strictObject({ b64: z.string() })]).transform(unpackText);

const usage = z.strictObject({ wallMs: z.number().nonnegative(), cpuMs: z.number().nonnegative(), memoryBytes: z.number().nonnegative() });

export const workerMessageSchema = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('ready'), pid: z.number().int() }),
  z.strictObject({ t: z.literal('tool'), run: z.string(), call: z.number().int().nonnegative(), name: z.string(), args: z.string() }),
  z.strictObject({
    t: z.literal('done'),
    run: z.string(),
    stdout: text,
    stderr: text,
    usage,
    outcome: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('ok'), json: text.nullable() }),
      z.strictObject({ kind: z.literal('threw'), message: z.string(), code: z.string().nullable() }),
      z.strictObject({ kind: z.literal('stopped'), reason: z.enum(STOP_REASONS) }),
      z.strictObject({ kind: z.literal('invalid'), code: z.string(), message: z.string() }),
      z.strictObject({ kind: z.literal('result-too-large'), bytes: z.number() }),
      z.strictObject({ kind: z.literal('result-not-plain'), message: z.string() }),
    ]),
  }),
]);

export type WorkerMessage = z.infer<typeof workerMessageSchema>;
export type DoneMessage = Extract<WorkerMessage, { t: 'done' }>;
export type Outcome = DoneMessage['outcome'];
