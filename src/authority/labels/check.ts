/**
 * The check at a sink call. Content = the run's label ∪ the labels of handles passed in ∪ each
 * carried object's label (current and stored). Confidentiality: every audience principal (the
 * run's user never counts) must be a reader of every atom, unless the warrant's rules or a host
 * declassifier's release for this call let that atom's source reach that principal. Integrity:
 * when what could have chosen the control arguments holds an untrusted atom — the run's label
 * (everything the run read), or a handle passed in a control argument (its value is the choice) —
 * every control argument's value must be endorsed, or the argument waived. A carried object, or a
 * handle in another argument, is content the run never saw: it is checked for confidentiality
 * only, so forwarding an outside sender's mail to its readers needs no endorsement.
 * Pure: the caller resolves objects first (resolve.ts).
 *
 * @example
 *   const d = checkSink({ tool: 'mail.send', run, handles: [], carried: Label.empty(), facts, audience, who, rules });
 *   if (!d.allow) throw new AirlockError(d.code, d.message, { atoms: d.atoms });
 */
import { Label, mayRead, type Atom, type AtomJson } from './label.ts';
import type { FlowRules, Scalar } from './flow-rules.ts';
import type { RunPrincipals } from './principals.ts';
import type { ControlValues } from './sink.ts';

/** A host declassifier's release for one call: data of `source` may reach `to`. */
export interface Release {
  readonly source: string;
  readonly to: readonly string[];
}

export interface HandleUse {
  /** The top-level argument the handle was passed in. */
  readonly argument: string;
  readonly label: Label;
}

export interface SinkCheck {
  readonly tool: string;
  /** The run's label now. */
  readonly run: Label;
  /** Handles found in the arguments (HandleTable.usesIn), with the top-level argument each sits in. */
  readonly handles: readonly HandleUse[];
  /** The carried objects' labels, current and stored (resolve.ts). */
  readonly carried: Label;
  /** Every principal who will observe the call (resolve.ts): `*` for everyone. */
  readonly audience: readonly string[];
  /** Control arguments' values as the handler will get them (a handle's value, not its id). */
  readonly controls: readonly ControlValues[];
  readonly who: RunPrincipals;
  readonly rules: FlowRules;
  /** Releases a host declassifier granted for this call only. */
  readonly releases?: readonly Release[];
}

export interface Blocked {
  readonly source: string;
  readonly readers: '*' | readonly string[];
  readonly principals: readonly string[];
}

export interface Unendorsed {
  readonly argument: string;
  readonly value: unknown;
}

export type LabelDecision =
  | { readonly allow: true; readonly code: 'LABEL_ALLOWED'; readonly content: Label }
  | {
      readonly allow: false;
      readonly code: 'LABEL_CONFIDENTIALITY' | 'LABEL_INTEGRITY';
      readonly message: string;
      readonly content: Label;
      /** The atoms involved: those that blocked, or the untrusted ones behind an integrity denial. */
      readonly atoms: readonly AtomJson[];
      readonly blocked: readonly Blocked[];
      readonly unendorsed: readonly Unendorsed[];
    };

const LIST = 5;
function list(items: readonly string[]): string {
  const shown = items.slice(0, LIST).join(', ');
  return items.length > LIST ? `${shown} and ${items.length - LIST} more` : shown;
}
const atomJson = (a: Atom): AtomJson => ({ source: a.source, readers: a.readers === '*' ? '*' : [...a.readers].sort(), integrity: a.integrity });

/** A value in a message: JSON, cut short (an attacker's value could be long). */
function show(value: unknown): string {
  const text = (JSON.stringify(value) as string | undefined) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function isScalar(v: unknown): v is Scalar {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** The content label a sink call carries. */
export function contentLabel(check: Pick<SinkCheck, 'run' | 'handles' | 'carried'>): Label {
  let content = check.run.join(check.carried);
  for (const h of check.handles) content = content.join(h.label);
  return content;
}

export function checkSink(check: SinkCheck): LabelDecision {
  const content = contentLabel(check);
  const audience = [...new Set(check.audience)].filter((p) => !check.who.user.has(p));
  const released = (source: string, p: string): boolean =>
    check.rules.releases(source, p) || (check.releases?.some((r) => r.source === source && r.to.includes(p)) ?? false);

  // 1. Confidentiality: every audience principal reads every atom, or its source is released to them.
  const blocked: Blocked[] = [];
  const blockedAtoms: AtomJson[] = [];
  if (audience.length > 0) {
    for (const atom of content.each()) {
      const out = audience.filter((p) => !mayRead(atom.readers, p) && !released(atom.source, p));
      if (out.length > 0) {
        const json = atomJson(atom);
        blocked.push({ source: atom.source, readers: json.readers, principals: out });
        blockedAtoms.push(json);
      }
    }
  }

  // 2. Integrity: when untrusted data could have chosen them, control arguments must be endorsed or waived.
  const unendorsed: Unendorsed[] = [];
  const controlArgs = new Set(check.controls.map((c) => c.argument));
  let chooser = check.run;
  for (const h of check.handles) if (controlArgs.has(h.argument)) chooser = chooser.join(h.label);
  const untrusted = [...chooser.each()].filter((a) => a.integrity === 'untrusted');
  if (untrusted.length > 0) {
    for (const c of check.controls) {
      if (check.rules.waives(check.tool, c.argument)) continue;
      if (c.malformed) unendorsed.push({ argument: c.argument, value: '(not the declared shape)' });
      for (const v of c.values) if (!isScalar(v) || !check.rules.endorses(check.tool, c.argument, v)) unendorsed.push({ argument: c.argument, value: v });
    }
  }

  if (blocked.length > 0) {
    blocked.sort((a, b) => (a.source < b.source ? -1 : 1));
    const who = [...new Set(blocked.flatMap((b) => b.principals))];
    const why = blocked.slice(0, LIST).map((b) => `source ${b.source} is readable by ${b.readers === '*' ? 'everyone' : b.readers.length === 0 ? 'the user only' : list(b.readers)}`);
    const message =
      `\`${check.tool}\` to ${list(who)} is not allowed by the data's readers: ${why.join('; ')}${blocked.length > LIST ? ` (and ${blocked.length - LIST} more sources)` : ''}. ` +
      `Send it only to readers of that data, leave that data out of this run, or have the warrant declassify ${list(blocked.map((b) => b.source))} to ${list(who)}`;
    return { allow: false, code: 'LABEL_CONFIDENTIALITY', message, content, atoms: blockedAtoms, blocked, unendorsed };
  }
  if (unendorsed.length > 0) {
    const args = [...new Set(unendorsed.map((u) => u.argument))];
    const shown = unendorsed.slice(0, LIST).map((u) => `${u.argument} = ${show(u.value)}`);
    const message =
      `\`${check.tool}\` with ${list(shown)} is not allowed: the run has read untrusted data (${list(untrusted.map((a) => a.source).sort())}), which may have chosen ${args.length === 1 ? 'that value' : 'those values'}. ` +
      `Have the warrant endorse the value${unendorsed.length === 1 ? '' : 's'} for ${list(args.map((a) => `${check.tool}.${a}`))} or waive that check, or make this call from a run that has not read untrusted data`;
    return { allow: false, code: 'LABEL_INTEGRITY', message, content, atoms: untrusted.map(atomJson), blocked, unendorsed };
  }
  return { allow: true, code: 'LABEL_ALLOWED', content };
}
