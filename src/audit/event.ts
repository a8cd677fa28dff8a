/**
 * Audit events, version 1. Every door decision, every run start and end, every sandbox created and
 * destroyed is one event. Secrets never appear in an event: a credentialed route records the
 * secret's name, never its value.
 */
import type { ErrorCode } from '../core/errors.ts';
import type { LabelAtom, RunStatus, Tier, Usage } from '../core/result.ts';

interface Base {
  readonly tenant: string;
  readonly sandbox: string;
  readonly run?: string;
}

export type AuditEventBody =
  | (Base & { readonly kind: 'sandbox.created'; readonly tier: Tier; readonly policyHash: string })
  | (Base & { readonly kind: 'sandbox.destroyed'; readonly reason: string })
  | (Base & {
      readonly kind: 'run.started';
      readonly tier: Tier;
      readonly codeHash: string;
      readonly code: string;
      readonly language: string;
      readonly policyHash: string;
      /** Why this tier runs it (src/runtime/tier-choice.ts). */
      readonly tierReason?: string;
      /**
       * The policy the run holds, as compiled (the normalised document, limits filled in): its
       * canonical JSON is what policyHash hashes. Absent from records written before it was kept.
       */
      readonly policy?: unknown;
      /**
       * The warrant the run holds: its leaf id and the hash of its whole chain; its depth, the
       * leaf holder's key id and its expiry (ISO) where recorded.
       */
      readonly warrant?: { readonly id: string; readonly chainHash: string; readonly depth?: number; readonly holder?: string; readonly expiresAt?: string };
      /** A sub-run's: the run whose guest started it (runtime/subrun.ts). */
      readonly parent?: string;
    })
  | (Base & {
      readonly kind: 'run.ended';
      readonly status: RunStatus;
      readonly errorCode: ErrorCode | null;
      readonly usage: Usage;
      /** The run's information-flow label when it ended (docs/labels.md). */
      readonly label?: LabelAtom[];
      /** The error's message, bounded (audit/bounded.ts), when the run did not end ok. */
      readonly errorMessage?: string;
      /** What the run gave back, each part bounded (audit/bounded.ts): result as JSON text (null: none). */
      readonly output?: { readonly stdout: string; readonly stderr: string; readonly result: string | null };
    })
  | (Base & {
      /**
       * A warrant made over the HTTP API (POST /v1/warrants) with a key the server holds. `sandbox`
       * names no sandbox here but who asked: `api:<API key id>`.
       */
      readonly kind: 'warrant.issued';
      readonly op: 'issue' | 'attenuate';
      readonly warrant: { readonly id: string; readonly chainHash: string; readonly depth: number; readonly rootKid: string; readonly expiresAt: string };
      /** The chain hash of the warrant it narrows (attenuate). */
      readonly parent?: string;
      /** The grants the new link states (absent: it inherits its parent's). */
      readonly grants?: unknown[];
    })
  | (Base & {
      readonly kind: 'decision';
      readonly door: 'tool' | 'network' | 'file' | 'limit';
      readonly subject: string;
      readonly allow: boolean;
      readonly reason: string;
      readonly detail?: Readonly<Record<string, unknown>>;
    });

export type AuditEventKind = AuditEventBody['kind'];

/** Every kind, for the checks that refuse any other (chain.ts, store.ts). */
export const AUDIT_KINDS = ['sandbox.created', 'sandbox.destroyed', 'run.started', 'run.ended', 'decision', 'warrant.issued'] as const satisfies readonly AuditEventKind[];

/** What a sink stores: the body plus when it happened (the caller's clock, not the policy's). */
export type AuditEvent = AuditEventBody & { readonly v: 1; readonly at: string };

/**
 * Where events go. `append` queues in order; `flush` resolves once everything appended so far is
 * durable (a run's result is returned only after its events are flushed). A sink that can't make
 * an event durable rejects `flush`, and the run is reported as failed.
 */
export interface AuditSink {
  append(event: AuditEventBody): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}
