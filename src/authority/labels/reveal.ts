/**
 * The label of a tool's result, from its declaration: for each kind of object the result reveals,
 * one atom per object (its source, readers and authors found by path in the returned data). Reads
 * are never denied by labels; what cannot be labelled is labelled as restrictively as it can be
 * (`unknownLabel`), so a malformed or oversized result never lowers the run's label.
 *
 * The caller joins what the label store holds for each source (LabelStore.withStored), so data
 * written earlier with its label comes back with it.
 *
 * @example
 *   const label = revealLabel(compiled, await handler(args), who);
 *   runLabel = runLabel.join(store.withStored(tenant, label));
 */
import type { CompiledReveal, CompiledToolLabels } from './declaration.ts';
import { sourceOf } from './declaration.ts';
import { Label, type Atom, type Readers } from './label.ts';
import { extract, scalarText } from './path.ts';
import { integrityOf, readerFromData, unknownLabel, type RunPrincipals } from './principals.ts';

const MAX_ID_CHARS = 256;

function objectAtom(r: CompiledReveal, object: unknown, who: RunPrincipals): Atom | null {
  const ids = extract(r.id, object);
  const id = ids.values.length === 1 ? scalarText(ids.values[0]) : null;
  if (id === null || id === '' || id.length > MAX_ID_CHARS) return null;
  let readers: Readers;
  if (r.publicReaders) {
    readers = '*';
  } else {
    const set = new Set<string>();
    // A reader path that comes up short only leaves readers out: more restrictive, still sound.
    for (const p of r.readerPaths) for (const v of extract(p, object).values) {
      const principal = readerFromData(v);
      if (principal !== null) set.add(principal);
    }
    readers = set;
  }
  const authors: unknown[] = [];
  let incomplete = false;
  for (const p of r.authorPaths) {
    const got = extract(p, object);
    incomplete ||= got.incomplete;
    authors.push(...got.values);
  }
  return { source: sourceOf(r.kind, id), readers, integrity: integrityOf(authors, r.authorMarkers, incomplete, who) };
}

export function revealLabel(tool: CompiledToolLabels, result: unknown, who: RunPrincipals): Label {
  if (tool.reveals === null) return unknownLabel(tool.tool);
  const atoms: Atom[] = [];
  let unknown = false;
  for (const r of tool.reveals) {
    const objects = extract(r.at, result);
    if (objects.incomplete) unknown = true;
    for (const object of objects.values) {
      const atom = objectAtom(r, object, who);
      if (atom === null) unknown = true;
      else atoms.push(atom);
    }
  }
  const label = Label.of(atoms);
  return unknown ? label.join(unknownLabel(tool.tool)) : label;
}
