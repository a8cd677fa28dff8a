/** airlock's public API. A test pins this list (STYLE.md §16). */
export { createAirlock, type Airlock, type AirlockOptions, type SandboxOptions, type ContainerSandboxOptions } from './runtime/airlock.ts';
export type { ContainerSandbox, ExecOptions, ExecResult, FileEntry } from './container/index.ts';
export { Sandbox, type SandboxRunOptions } from './runtime/sandbox.ts';
export { AirlockError, ERROR_CODES, type ErrorCode } from './core/errors.ts';
export type { RunResult, RunStatus, Usage, Violation, Tier } from './core/result.ts';
export type { RunRequest } from './policy/request.ts';
export type { PolicyDocument } from './policy/schema.ts';
export { compilePolicy, type CompiledPolicy } from './policy/compile.ts';
export type { ToolHandler, ToolContext } from './isolate/tool-bridge.ts';
export type { ToolDeclaration, ToolEntry } from './runtime/tool-catalog.ts';
export type { AuditEvent, AuditSink } from './audit/event.ts';
export type { Checkpoint } from './audit/checkpoint.ts';
export type { CheckpointWitness } from './audit/checkpoint-witness.ts';
export type { CheckpointSettings } from './audit/checkpoint-config.ts';
export type { AuditDurability, AuditDurabilitySettings } from './audit/wal-sync.ts';
export { MemoryAuditSink } from './audit/memory-sink.ts';
