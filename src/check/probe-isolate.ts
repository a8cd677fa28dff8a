/**
 * The isolate tier's probe: a module run in a real isolate with the policy under check. An isolate
 * has no sockets, files or environment, so it reports what its global object offers, tries the
 * network through `fetch` when there is one, and looks for a second tenant's marks on its globals.
 */

export const ISOLATE_PROBE = String.raw`
export default async function probe(plan) {
  const out = { globals: Object.getOwnPropertyNames(globalThis).sort(), has: {}, imports: null, http: [], marks: [], planted: false };
  for (const name of ['fetch', 'XMLHttpRequest', 'WebSocket', 'require', 'process', 'Deno', 'Bun', 'navigator', 'setTimeout', 'SharedArrayBuffer', 'Buffer']) {
    out.has[name] = typeof globalThis[name];
  }
  try { await (0, eval)('import("node:fs")'); out.imports = 'node:fs imported'; } catch (e) { out.imports = String(e && e.message || e).slice(0, 160); }
  if (typeof fetch === 'function') {
    for (const t of plan.http) {
      try {
        const r = await fetch(t.url, { method: t.method });
        out.http.push({ label: t.label, url: t.url, status: r.status, body: (await r.text()).slice(0, 200) });
      } catch (e) {
        out.http.push({ label: t.label, url: t.url, code: e && e.code || null, error: String(e && e.message || e).slice(0, 200) });
      }
    }
  }
  const name = plan.mark.name;
  if (plan.mark.plant !== null) {
    globalThis[name] = plan.mark.plant;
    Object.prototype[name] = plan.mark.plant;
    out.planted = true;
  } else {
    for (const [where, v] of [['globalThis', globalThis[name]], ['Object.prototype', ({})[name]]]) if (v !== undefined) out.marks.push({ path: where, content: String(v) });
    for (const k of Object.getOwnPropertyNames(Object.prototype)) if (k.startsWith(name)) out.marks.push({ path: 'Object.prototype.' + k, content: String(Object.prototype[k]) });
  }
  return out;
}
`;

export interface IsolateReport {
  readonly globals: readonly string[];
  readonly has: Readonly<Record<string, string>>;
  readonly imports: string | null;
  readonly http: readonly { readonly label: string; readonly url: string; readonly status?: number; readonly body?: string; readonly code?: string | null; readonly error?: string }[];
  readonly marks: readonly { readonly path: string; readonly content: string }[];
  readonly planted: boolean;
}
