/**
 * What a run holds beyond its policy — a warrant and an information-flow label — as the doors see
 * it. The implementation lives in src/authority/ (run-authority.ts); enforcement code (the tool
 * bridge, the egress gateway) only holds this interface, and decide() combines its verdict with
 * the policy's, so every door still has one decision point.
 *
 * Order at a tool call: the policy decides first (a tool the policy does not grant never reaches
 * the warrant or the labels); then `judge` (the warrant: tool, operation, resources, where; then
 * the labels, for a sink: audience against readers, control arguments against integrity); the
 * handler runs; then `observe` raises the run's label with what the result revealed.
 */
import type { ErrorCode } from '../core/errors.ts';
import type { LabelAtom } from '../core/result.ts';

/** The authority's answer on one call: allowed, or a coded denial with a message a model can act on. */
export type AuthorityVerdict =
  /** `ticket`: what the authority needs back in `observe` for this call (a sink's content label). */
  | {
      readonly allow: true;
      readonly ticket?: unknown;
      /** The arguments the call goes on with, when they differ from the guest's (its handles replaced by their values). */
      readonly args?: unknown;
    }
  | { readonly allow: false; readonly code: ErrorCode; readonly message: string; readonly detail?: Readonly<Record<string, unknown>> };

export const AUTHORITY_ALLOWS: AuthorityVerdict = Object.freeze({ allow: true });

/** What the audit records of a run's warrant (run.started). */
export interface WarrantRecord {
  readonly id: string;
  readonly chainHash: string;
  readonly depth: number;
  readonly holder: string;
  /** ISO time. */
  readonly expiresAt: string;
}

export interface CallAuthority {
  /** The warrant for the audit: its id, chain hash, depth, leaf holder's key id and expiry (null without one). */
  readonly warrant: WarrantRecord | null;
  /** The warrant's and the labels' verdict on a tool call the policy allows. */
  judge(tool: string, args: unknown): Promise<AuthorityVerdict>;
  /** The call was allowed and its handler runs now (`args` as the handler gets them). */
  commit(tool: string, args: unknown, verdict: AuthorityVerdict): void;
  /** The tool returned `result`: the run's label joins what it revealed (and a sink's write is stored with its label). */
  observe(tool: string, args: unknown, result: unknown, verdict: AuthorityVerdict): void;
  /** The warrant's verdict on an egress request (a route is a resource: net:https://host:port/path). */
  route(request: { readonly scheme: 'http' | 'https'; readonly host: string; readonly port: number; readonly path: string; readonly method: string }): AuthorityVerdict;
  /**
   * An egress request was admitted: what it answers is read by the run, so the run's label joins
   * an atom for it (`web:page/<url>`, untrusted: the web is no trusted author; readable by anyone
   * for a plain route, by the run's user alone for a credentialed one, whose answer may be private).
   */
  received(request: { readonly scheme: 'http' | 'https'; readonly host: string; readonly port: number; readonly path: string }, access: 'public' | 'credentialed'): void;
  /** The run's label now, canonical (for the result and run.ended); null when labels are not kept. */
  label(): readonly LabelAtom[] | null;
}
