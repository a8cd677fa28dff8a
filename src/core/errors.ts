/**
 * Every error code airlock can report, listed once, with what each front end makes of it.
 * Branch on `.code`, never on message text. Messages say what to change.
 *
 * @example
 *   throw new AirlockError('TOOL_NOT_GRANTED', 'tool "sendMail" is not granted: add it to policy.tools');
 */
import type { RunStatus } from './status.ts';

interface CodeInfo {
  /** The run status a run ends with when this code stops it. */
  readonly status: RunStatus;
  /** Exit code of `airlock run`. */
  readonly exit: number;
  /** HTTP status of the server front end. */
  readonly http: number;
  /** JSON-RPC error code of the MCP front end. */
  readonly rpc: number;
  /** What a user should do about it, in one line. */
  readonly hint: string;
}

// Exit codes: 0 ok, 1 guest error, 2 invalid input, 3 denied, 4 timeout, 5 memory, 6 killed,
// 69 the sandbox could not be built here (EX_UNAVAILABLE), 70 airlock's own fault (EX_SOFTWARE).
// 65 the audit log is damaged or does not verify (EX_DATAERR), 74 it can't be written (EX_IOERR),
// 77 the checkpoint key or witness sits where others could change it (EX_NOPERM).
export const ERROR_CODES = {
  INVALID_REQUEST: { status: 'invalid', exit: 2, http: 400, rpc: -32602, hint: 'fix the request fields named in the message' },
  INVALID_POLICY: { status: 'invalid', exit: 2, http: 400, rpc: -32602, hint: 'fix the policy fields named in the message' },
  CODE_TOO_LARGE: { status: 'invalid', exit: 2, http: 413, rpc: -32602, hint: 'send less code, or raise limits.codeBytes' },
  CODE_NOT_UTF8: { status: 'invalid', exit: 2, http: 400, rpc: -32602, hint: 'send the code as UTF-8 text' },
  SYNTAX_ERROR: { status: 'invalid', exit: 2, http: 400, rpc: -32602, hint: 'fix the syntax error at the line and column given' },
  IMPORT_NOT_AVAILABLE: { status: 'invalid', exit: 2, http: 400, rpc: -32602, hint: 'remove the import: a sandboxed module has no imports; use the granted tools' },
  UNSUPPORTED_LANGUAGE: { status: 'invalid', exit: 2, http: 400, rpc: -32602, hint: 'ask for the tier the message names (js, ts, wasm: isolate; python, sh, js: container), or leave the tier out and airlock chooses' },
  WASM_IMPORTS_NOT_GRANTED: { status: 'invalid', exit: 2, http: 400, rpc: -32602, hint: 'build the module without imports; the isolate tier grants none' },
  TOOL_NOT_GRANTED: { status: 'denied', exit: 3, http: 403, rpc: -32001, hint: 'grant the tool by name in policy.tools' },
  TOOL_ARGS_INVALID: { status: 'denied', exit: 3, http: 403, rpc: -32001, hint: "call the tool with arguments that match its schema" },
  LIMIT_TOOL_CALLS: { status: 'denied', exit: 3, http: 429, rpc: -32001, hint: 'make fewer tool calls, or raise limits.toolCalls' },
  LIMIT_DENIALS: { status: 'denied', exit: 3, http: 429, rpc: -32001, hint: 'ask only for what the policy grants (each denial is recorded), or raise limits.denials' },
  LIMIT_TOOL_ARG_BYTES: { status: 'denied', exit: 3, http: 429, rpc: -32001, hint: 'send the host less data in tool arguments, or raise limits.toolArgBytes' },
  TOOL_FAILED: { status: 'error', exit: 1, http: 502, rpc: -32003, hint: "the host's tool handler failed; see the message" },
  TOOL_TIMEOUT: { status: 'error', exit: 1, http: 504, rpc: -32003, hint: 'the tool handler did not answer in time; raise limits.toolMs or fix the handler' },
  GUEST_ERROR: { status: 'error', exit: 1, http: 422, rpc: -32004, hint: 'the code threw; see the message' },
  RESULT_NOT_PLAIN: { status: 'error', exit: 1, http: 422, rpc: -32004, hint: 'return plain JSON data: no functions, cycles, BigInt or host objects' },
  RESULT_TOO_LARGE: { status: 'error', exit: 1, http: 422, rpc: -32004, hint: 'return less data, or raise limits.resultBytes' },
  RESULT_SCHEMA_MISMATCH: { status: 'error', exit: 1, http: 422, rpc: -32004, hint: 'return data that matches request.resultSchema' },
  WALL_TIMEOUT: { status: 'timeout', exit: 4, http: 408, rpc: -32005, hint: 'make the code finish sooner, or raise limits.wallMs' },
  CPU_TIMEOUT: { status: 'timeout', exit: 4, http: 408, rpc: -32005, hint: 'use less CPU, or raise limits.cpuMs' },
  MEMORY_LIMIT: { status: 'memory', exit: 5, http: 507, rpc: -32006, hint: 'use less memory, or raise limits.memoryMiB' },
  OUTPUT_LIMIT: { status: 'killed', exit: 6, http: 413, rpc: -32007, hint: 'print less, or raise limits.outputBytes' },
  WORKER_CRASHED: { status: 'killed', exit: 6, http: 500, rpc: -32007, hint: 'the sandbox worker died; the run was stopped and the worker replaced' },
  SANDBOX_UNAVAILABLE: { status: 'error', exit: 69, http: 503, rpc: -32002, hint: 'this host lacks a mechanism the sandbox needs; the message names the fix' },
  UID_RANGE_IN_USE: { status: 'error', exit: 69, http: 503, rpc: -32002, hint: "the sandbox uid range overlaps ids the host's account files (passwd, group, subuid, subgid) give to someone: set AIRLOCK_UIDS to the free range the message names" },
  SANDBOX_CLOSED: { status: 'error', exit: 70, http: 409, rpc: -32008, hint: 'create a new sandbox: this one was destroyed' },
  AUDIT_CORRUPT: { status: 'error', exit: 65, http: 500, rpc: -32020, hint: 'the audit database is damaged and was left untouched: restore it from a backup, or move it aside to start a new log' },
  AUDIT_UNAVAILABLE: { status: 'error', exit: 74, http: 503, rpc: -32021, hint: 'the audit log could not be read or written (disk full, permissions, database down): fix that and retry' },
  AUDIT_CHAIN_BROKEN: { status: 'error', exit: 65, http: 500, rpc: -32022, hint: 'the audit log was edited, deleted or reordered at the seq given: restore it from a backup and investigate' },
  AUDIT_TRUNCATED: { status: 'error', exit: 65, http: 500, rpc: -32023, hint: 'the audit log ends before a signed checkpoint says it reached: records were deleted from its tail; restore it from a backup and investigate' },
  AUDIT_CHECKPOINT_INVALID: { status: 'error', exit: 65, http: 500, rpc: -32024, hint: 'a checkpoint is malformed, signed by an unknown key or its signature does not verify: check the witness and the key (--public-key) and investigate' },
  AUDIT_KEY_UNSAFE: { status: 'error', exit: 77, http: 500, rpc: -32025, hint: 'the checkpoint key or witness file must be a regular file owned by root (or you), mode 0600 (key) or not group/world-writable (witness), in directories only its owner can change, outside AIRLOCK_HOME' },
  AUDIT_NOT_FOUND: { status: 'invalid', exit: 2, http: 404, rpc: -32602, hint: 'name an audit record by its seq, run id or sandbox id, within your tenant' },
  EGRESS_NOT_GRANTED: { status: 'denied', exit: 3, http: 403, rpc: -32001, hint: 'grant the host, port, method and path as a route in policy.network.routes' },
  EGRESS_ADDRESS_REFUSED: { status: 'denied', exit: 3, http: 403, rpc: -32001, hint: 'the name resolved to a loopback, private, link-local, multicast or metadata address: name that exact address in the route if it is meant' },
  EGRESS_BAD_REQUEST: { status: 'denied', exit: 3, http: 400, rpc: -32001, hint: 'send an absolute-form http URL (or CONNECT host:port) with a matching Host header and a canonical host and path' },
  EGRESS_TOO_LARGE: { status: 'denied', exit: 3, http: 413, rpc: -32001, hint: "send smaller headers or bodies: the gateway's size limits are named in the message" },
  EGRESS_TIMEOUT: { status: 'denied', exit: 3, http: 408, rpc: -32001, hint: 'send the whole request promptly: idle and slow connections are closed' },
  EGRESS_QUOTA: { status: 'denied', exit: 3, http: 429, rpc: -32001, hint: "make fewer or smaller requests, or raise the route's quota" },
  EGRESS_UPSTREAM_FAILED: { status: 'error', exit: 1, http: 502, rpc: -32003, hint: 'the granted upstream could not be reached or answered badly; see the message' },
  SECRET_UNAVAILABLE: { status: 'error', exit: 70, http: 500, rpc: -32003, hint: "the host did not supply the secret the route names: give the gateway's SecretSource that name" },
  LABEL_CONFIDENTIALITY: { status: 'denied', exit: 3, http: 403, rpc: -32001, hint: "send the data only to its readers (the message names them), or have the warrant declassify the source named to that audience" },
  LABEL_INTEGRITY: { status: 'denied', exit: 3, http: 403, rpc: -32001, hint: 'the run read untrusted data before choosing a control argument: have the warrant endorse that value or waive the argument, or choose it before reading untrusted data' },
  PATH_OUTSIDE_WORKSPACE: { status: 'denied', exit: 3, http: 403, rpc: -32001, hint: 'name a path inside the workspace: no absolute paths, no "..", no symlinks on the way' },
  FILE_TOO_LARGE: { status: 'invalid', exit: 2, http: 413, rpc: -32602, hint: 'write or read less, or raise limits.workspaceMiB / limits.fileBytes' },
  COMMAND_NOT_FOUND: { status: 'invalid', exit: 2, http: 400, rpc: -32602, hint: 'run a program the sandbox has (python3, node, sh), or grant its directory in policy.files' },
  QUOTA_SANDBOXES: { status: 'denied', exit: 3, http: 429, rpc: -32001, hint: "destroy one of the tenant's live sandboxes first, or raise quotas.sandboxes" },
  QUOTA_RUNS: { status: 'denied', exit: 3, http: 429, rpc: -32001, hint: 'wait for the rate to recover (the message says how long), or raise quotas.runsPerMinute' },
  MCP_SESSIONS: { status: 'denied', exit: 3, http: 429, rpc: -32001, hint: 'end an MCP session you no longer use (DELETE /mcp with its Mcp-Session-Id), or wait for idle ones to be closed' },
  QUOTA_MEMORY: { status: 'denied', exit: 3, http: 429, rpc: -32001, hint: "ask for less (limits.memoryMiB), destroy one of the tenant's sandboxes, or raise quotas.memoryMiB" },
  STOPPED_BY_HOST: { status: 'killed', exit: 6, http: 409, rpc: -32007, hint: 'the host stopped this run: its sandbox was destroyed or reached its lifetime, or airlock was closed (SIGTERM or SIGINT to the CLI); it was recorded as stopped: run it again' },
  HOST_CRASHED: { status: 'killed', exit: 6, http: 500, rpc: -32007, hint: 'the host died while this ran; the reaper recorded it at the next start: run it again' },
  CHECK_INCONSISTENT: { status: 'error', exit: 7, http: 409, rpc: -32030, hint: 'the policy and the live probe disagree: the report shows the worse answer; fix the host or the policy until they agree' },
  AUTH_REQUIRED: { status: 'denied', exit: 3, http: 401, rpc: -32001, hint: 'send a live API key as "Authorization: Bearer KEY" (airlock keys create --tenant T prints one)' },
  RATE_LIMITED: { status: 'denied', exit: 3, http: 429, rpc: -32001, hint: "wait the Retry-After seconds, or raise the server's per-key rate (airlock serve --rate)" },
  REQUEST_TOO_LARGE: { status: 'invalid', exit: 2, http: 413, rpc: -32602, hint: "send a smaller request body, or raise the server's limit (airlock serve --max-body)" },
  HOST_NOT_ALLOWED: { status: 'denied', exit: 3, http: 403, rpc: -32001, hint: 'call the server by a Host it serves, from no browser Origin or a listed one (airlock serve --allow-host, --allow-origin)' },
  NOT_FOUND: { status: 'invalid', exit: 2, http: 404, rpc: -32602, hint: 'name a route, sandbox or command that exists within your tenant' },
  WARRANT_INVALID: { status: 'invalid', exit: 2, http: 401, rpc: -32040, hint: 'the warrant does not verify (bad encoding, signature or chain): use the token as it was issued or attenuated, unchanged' },
  WARRANT_KEY_UNTRUSTED: { status: 'invalid', exit: 2, http: 401, rpc: -32041, hint: "the warrant's root key id is not among the trusted keys: trust that key, or mint the warrant with a trusted one" },
  WARRANT_EXPIRED: { status: 'denied', exit: 3, http: 401, rpc: -32042, hint: 'the warrant (or a link of its chain) has expired: get a new one' },
  WARRANT_REVOKED: { status: 'denied', exit: 3, http: 403, rpc: -32043, hint: 'a link of the warrant was revoked by id: get a new one' },
  WARRANT_DENIED: { status: 'denied', exit: 3, http: 403, rpc: -32044, hint: 'the warrant does not grant this call at the level named: ask the level that issued it for a grant that covers it' },
  WARRANT_WIDENING: { status: 'invalid', exit: 2, http: 400, rpc: -32045, hint: 'an attenuation may only narrow: ask for no more than the parent grants (tools, ops, resources, where, expiry, depth)' },
  WARRANT_PROOF_REQUIRED: { status: 'denied', exit: 3, http: 401, rpc: -32046, hint: "this warrant is bound to its holder: present a proof signed by the leaf holder's key over the challenge" },
  SUBRUN_DENIED: { status: 'denied', exit: 3, http: 403, rpc: -32001, hint: "a sub-run needs policy.limits.subruns above the number started, nesting within the warrant's depth (or 4 without one), and a warrant to attenuate (a bearer one: the host signs the child link)" },
  INTERNAL: { status: 'error', exit: 70, http: 500, rpc: -32603, hint: 'an airlock bug: please report it with the run id' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

export function codeInfo(code: ErrorCode): CodeInfo {
  return ERROR_CODES[code];
}

/** The one error type airlock throws across its API. */
export class AirlockError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, details?: Readonly<Record<string, unknown>>) {
    super(message);
    this.name = 'AirlockError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Turns anything thrown into an AirlockError, keeping codes that are already there. */
export function toAirlockError(error: unknown, fallback: ErrorCode = 'INTERNAL'): AirlockError {
  if (error instanceof AirlockError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AirlockError(fallback, message);
}
