/**
 * The host end of a guest's tool call: parse, decide, audit, run the handler with a deadline,
 * copy the answer back as JSON. Handlers run only here, on the host; the guest only ever sees
 * the JSON text of a result or a coded error.
 */
import type { AuditSink } from '../audit/event.ts';
import { AirlockError, type ErrorCode } from '../core/errors.ts';
import type { Violation } from '../core/result.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { decide } from '../policy/decide.ts';
import type { ToolReply } from './protocol.ts';

/** Context every tool handler receives; `signal` aborts when the call's deadline passes. */
export interface ToolContext {
  readonly tenant: string;
  readonly sandbox: string;
  readonly run: string;
  readonly signal: AbortSignal;
}

export type ToolHandler = (args: unknown, context: ToolContext) => unknown;

export type ToolAnswer = Omit<ToolReply, 't' | 'run' | 'call'>;

export interface BridgeScope {
  readonly tenant: string;
  readonly sandbox: string;
  readonly run: string;
  readonly policy: CompiledPolicy;
  readonly handlers: Readonly<Record<string, ToolHandler>>;
  readonly audit: AuditSink;
}

export class ToolBridgeHost {
  readonly violations: Violation[] = [];
  readonly #scope: BridgeScope;
  #calls = 0;

  constructor(scope: BridgeScope) {
    this.#scope = scope;
  }

  get calls(): number {
    return this.#calls;
  }

  async call(name: string, argsJson: string): Promise<ToolAnswer> {
    const { policy, audit, tenant, sandbox, run } = this.#scope;
    let args: unknown;
    try {
      args = JSON.parse(argsJson);
    } catch {
      return this.#deny(name, 'TOOL_ARGS_INVALID', `arguments to "${name}" are not JSON`);
    }
    const decision = decide(policy, { door: 'tool', name, args, callsSoFar: this.#calls });
    this.#calls++;
    if (!decision.allow) return this.#deny(name, decision.code, decision.reason);
    audit.append({ kind: 'decision', tenant, sandbox, run, door: 'tool', subject: name, allow: true, reason: decision.reason });
    const handler = this.#scope.handlers[name];
    if (handler === undefined) return this.#fail('TOOL_FAILED', `the host has no handler for "${name}"`);
    const controller = new AbortController();
    const ms = policy.limits.toolMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new AirlockError('TOOL_TIMEOUT', `tool "${name}" did not answer within ${ms} ms`));
      }, ms);
    });
    try {
      const value: unknown = await Promise.race([Promise.resolve(handler(args, { tenant, sandbox, run, signal: controller.signal })), deadline]);
      // JSON.stringify answers undefined for functions, symbols and undefined itself.
      const json = value === undefined ? null : (JSON.stringify(value) as string | undefined);
      if (json === undefined) return this.#fail('TOOL_FAILED', `tool "${name}" returned something that is not JSON data`);
      return { ok: true, json };
    } catch (error) {
      if (error instanceof AirlockError && error.code === 'TOOL_TIMEOUT') return this.#fail('TOOL_TIMEOUT', error.message);
      // The handler's message only: never a host stack trace or path into the guest.
      const message = error instanceof Error ? error.message : String(error);
      return this.#fail('TOOL_FAILED', `tool "${name}" failed: ${message.slice(0, 1000)}`);
    } finally {
      clearTimeout(timer);
    }
  }

  #deny(name: string, code: ErrorCode, reason: string): ToolAnswer {
    const { audit, tenant, sandbox, run } = this.#scope;
    audit.append({ kind: 'decision', tenant, sandbox, run, door: 'tool', subject: name, allow: false, reason: code, detail: { message: reason } });
    this.violations.push({ door: code === 'LIMIT_TOOL_CALLS' ? 'limit' : 'tool', detail: reason, code });
    return { ok: false, code, message: reason };
  }

  #fail(code: ErrorCode, message: string): ToolAnswer {
    return { ok: false, code, message };
  }
}
