/**
 * A run's violations from the decisions recorded for its sandbox. The egress gateway and the
 * container tier decide at their own doors and record each decision in the host's log; this sink
 * sits in front of that log, passes every event on unchanged, and keeps the denials of the
 * sandboxes being watched, so a container run's result lists every door it was refused at.
 *
 * @example
 *   const tap = new DenialTap(audit);            // given to the gateway and the container tier
 *   const watch = tap.watch(sandboxId);
 *   ...run...
 *   const violations = watch.stop();
 */
import type { AuditEventBody, AuditSink } from '../audit/event.ts';
import { isErrorCode, type ErrorCode } from '../core/errors.ts';
import type { Violation } from '../core/result.ts';

type Decision = Extract<AuditEventBody, { kind: 'decision' }>;

/**
 * How many denials one watch keeps: a guest can be refused without end (a loop of denied
 * requests), and the host's memory must not grow with it. The log keeps every one.
 */
export const MAX_KEPT = 1000;

/** The code a denial is reported with: the recorded error code where the door gave one. */
const FALLBACK: Readonly<Record<Decision['door'], ErrorCode>> = {
  tool: 'TOOL_NOT_GRANTED',
  network: 'EGRESS_NOT_GRANTED',
  file: 'PATH_OUTSIDE_WORKSPACE',
  limit: 'INTERNAL',
};

function violationOf(e: Decision): Violation {
  const detail = e.detail ?? {};
  const given = detail['code'];
  const code = isErrorCode(given) ? given : isErrorCode(e.reason) ? e.reason : FALLBACK[e.door];
  const message = typeof detail['message'] === 'string' ? detail['message'] : `${e.reason}: ${e.subject}`;
  return { door: e.door, detail: message, code };
}

export interface DenialWatch {
  /** Stops watching; the denials recorded for the sandbox meanwhile, in order. */
  stop(): Violation[];
}

export class DenialTap implements AuditSink {
  readonly #inner: AuditSink;
  readonly #watched = new Map<string, Violation[]>();

  constructor(inner: AuditSink) {
    this.#inner = inner;
  }

  /**
   * Keeps the denials recorded for `sandbox` at the doors a run knocks on (tool, network, file).
   * A limit that stopped the run is its status and error, not a violation, as on the isolate tier.
   */
  watch(sandbox: string): DenialWatch {
    const seen: Violation[] = [];
    this.#watched.set(sandbox, seen);
    return {
      stop: () => {
        if (this.#watched.get(sandbox) === seen) this.#watched.delete(sandbox);
        return [...seen];
      },
    };
  }

  append(event: AuditEventBody): void {
    if (event.kind === 'decision' && !event.allow && event.door !== 'limit') {
      const seen = this.#watched.get(event.sandbox);
      if (seen !== undefined && seen.length < MAX_KEPT) seen.push(violationOf(event));
    }
    this.#inner.append(event);
  }

  flush(): Promise<void> {
    return this.#inner.flush();
  }

  /** The log is the airlock's to close, after everything writing through this tap is done. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
