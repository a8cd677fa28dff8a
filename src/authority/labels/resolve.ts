/**
 * The steps around a tool call, in order, for the host bridge to call:
 *   1. before a sink runs: `checkSinkCall` resolves what the call names (audience objects' current
 *      readers, carried objects' current and stored labels, handles in the arguments) and checks;
 *   2. as an allowed sink is about to run: `reserveSinkWrite` joins the content label into the
 *      object it names (its write may be seen before it returns); after it runs, `recordSinkWrite`
 *      stores the content label with what it wrote, by the declared mode;
 *   3. after any tool returns: `labelToolResult` labels the result (declaration + store), and the
 *      caller joins it into the run's label.
 * Lookups that fail or find nothing answer restrictively: an audience of everyone, an object
 * only the user may read, untrusted.
 *
 * @example
 *   const { decision } = await checkSinkCall({ registry, store, tenant, tool: 'mail.send', args, run, who, rules, handles });
 */
import { checkSink, type HandleUse, type LabelDecision, type Release } from './check.ts';
import type { CompiledToolLabels } from './declaration.ts';
import { sourceOf } from './declaration.ts';
import type { FlowRules } from './flow-rules.ts';
import type { HandleTable } from './handles.ts';
import { Label } from './label.ts';
import { extract, scalarText } from './path.ts';
import { atomFromFacts, unknownLabel, type ObjectFacts, type RunPrincipals } from './principals.ts';
import type { LabelRegistry } from './registry.ts';
import { revealLabel } from './reveal.ts';
import { describeSinkCall, EVERYONE, type SinkCallFacts } from './sink.ts';
import type { LabelStore } from './store.ts';

async function facts(registry: LabelRegistry, kind: string, id: string): Promise<ObjectFacts | undefined> {
  try {
    return await registry.lookup(kind)?.currentLabel(id);
  } catch {
    return undefined;
  }
}

export interface SinkCallInput {
  readonly registry: LabelRegistry;
  readonly store: LabelStore;
  readonly tenant: string;
  readonly tool: string;
  readonly args: unknown;
  readonly run: Label;
  readonly who: RunPrincipals;
  readonly rules: FlowRules;
  readonly handles: HandleTable;
  /** The handles the guest passed (found before they were replaced by their values); default: found in `args`. */
  readonly uses?: readonly HandleUse[];
  readonly releases?: readonly Release[];
}

/** Undefined decision: the tool is not a sink (it declared none). */
export async function checkSinkCall(input: SinkCallInput): Promise<{ readonly decision: LabelDecision | undefined; readonly facts?: SinkCallFacts }> {
  const sink = input.registry.tool(input.tool)?.sink ?? null;
  if (sink === null) return { decision: undefined };
  const described = describeSinkCall(sink, input.args);
  const audience = [...described.principals];
  for (const o of described.audienceObjects) {
    const f = await facts(input.registry, o.kind, o.id);
    if (f === undefined || f.readers === '*') audience.push(EVERYONE);
    else audience.push(...f.readers);
  }
  let carried = Label.empty();
  for (const o of described.carried) {
    if (o === null) {
      carried = carried.join(unknownLabel(input.tool));
      continue;
    }
    const f = await facts(input.registry, o.kind, o.id);
    const current = f === undefined ? Label.of([{ source: o.source, readers: new Set(), integrity: 'untrusted' }]) : Label.of([atomFromFacts(o.source, f, input.who)]);
    carried = carried.join(input.store.withStored(input.tenant, current));
  }
  const decision = checkSink({
    tool: input.tool,
    run: input.run,
    handles: input.uses ?? input.handles.usesIn(input.args),
    carried,
    audience,
    controls: described.controls,
    who: input.who,
    rules: input.rules,
    ...(input.releases === undefined ? {} : { releases: input.releases }),
  });
  return { decision, facts: described };
}

/**
 * Stores the content label of an allowed sink call with the object it wrote. Returns the source
 * written, or why nothing could be (the caller audits that: the write's label is then not kept).
 */
export function recordSinkWrite(input: {
  readonly tool: CompiledToolLabels;
  readonly store: LabelStore;
  readonly tenant: string;
  readonly args: unknown;
  readonly result: unknown;
  readonly content: Label;
}): { readonly source: string; readonly label: Label } | { readonly source: null; readonly reason: string } {
  const stores = input.tool.sink?.stores ?? null;
  if (stores === null) return { source: null, reason: `${input.tool.tool} declares no stores` };
  const got = extract(stores.id.path, stores.id.in === 'argument' ? input.args : input.result);
  const id = got.values.length === 1 && !got.malformed ? scalarText(got.values[0]) : null;
  if (id === null || id === '') return { source: null, reason: `${input.tool.tool}'s ${stores.id.in} did not hold one id at the declared path` };
  const source = sourceOf(stores.kind, id);
  return { source, label: input.store.write(input.tenant, source, input.content, stores.mode) };
}

/**
 * Before an allowed sink's handler runs: joins the content label into what the store keeps for the
 * object the call names in its arguments. Why: the handler's write can be visible to other runs
 * before it returns (a store commits, then the handler still works), and a run that reads the
 * object in that window must get the content's label back; `recordSinkWrite` settles it by the
 * declared mode after the handler. If the handler then fails, the object keeps the joined label:
 * more restrictive, never less. An object whose id comes from the result can't be named before.
 */
export function reserveSinkWrite(input: { readonly tool: CompiledToolLabels; readonly store: LabelStore; readonly tenant: string; readonly args: unknown; readonly content: Label }): void {
  const stores = input.tool.sink?.stores ?? null;
  if (stores?.id.in !== 'argument' || input.content.size === 0) return;
  const got = extract(stores.id.path, input.args);
  const id = got.values.length === 1 && !got.malformed ? scalarText(got.values[0]) : null;
  if (id === null || id === '') return;
  input.store.write(input.tenant, sourceOf(stores.kind, id), input.content, 'join');
}

/** The label of a tool's result: what its declaration reveals, joined with what the store kept. */
export function labelToolResult(input: { readonly registry: LabelRegistry; readonly store: LabelStore; readonly tenant: string; readonly tool: string; readonly result: unknown; readonly who: RunPrincipals }): Label {
  const compiled = input.registry.tool(input.tool);
  const revealed = compiled === undefined ? unknownLabel(input.tool) : revealLabel(compiled, input.result, input.who);
  return input.store.withStored(input.tenant, revealed);
}
