/**
 * The guest's `fetch`, present only when the policy grants network routes. It is guest-side code
 * (evaluated into the snapshot with the bootstrap): it turns fetch(input, init) into plain JSON for
 * the bridge's reserved `@fetch` door, and the host's answer into a small Response-like object of
 * copied data. The host's egress gateway decides and audits every request.
 */
export const GUEST_FETCH = String.raw`
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const fromBase64 = (function fromBase64(s) {
  const out = new Uint8Array(Math.floor(s.length * 3 / 4));
  let n = 0, bits = 0, acc = 0;
  for (let i = 0; i < s.length; i++) {
    const v = B64.indexOf(s[i]);
    if (v < 0) continue;
    acc = (acc << 6) | v; bits += 6;
    if (bits >= 8) { bits -= 8; out[n++] = (acc >> bits) & 255; }
  }
  return out.slice(0, n);
});
const headerPairs = (function headerPairs(h) {
  if (h == null) return [];
  const pairs = [];
  if (Array.isArray(h)) { for (const p of h) pairs.push([Str(p[0]), Str(p[1])]); return pairs; }
  for (const k of Object.keys(h)) pairs.push([Str(k), Str(h[k])]);
  return pairs;
});
const guestFetch = (async function guestFetch(input, init) {
  const url = Str(typeof input === 'object' && input !== null && 'url' in input ? input.url : input);
  const req = { method: Str(init?.method ?? 'GET').toUpperCase(), url, headers: headerPairs(init?.headers) };
  const body = init?.body;
  if (typeof body === 'string') req.bodyText = body;
  else if (body != null) req.bodyBytes = Array.from(body instanceof ArrayBuffer ? new Uint8Array(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
  const reply = parse(await callHost('@fetch', stringify(req)));
  if (reply[0] !== 'ok') { const e = new TypeErr('fetch ' + url + ': ' + reply[2]); e.code = reply[1]; throw e; }
  const res = parse(reply[1]);
  const lower = res.headers.map((p) => [p[0].toLowerCase(), p[1]]);
  const headers = freeze({
    get: (n) => { const k = Str(n).toLowerCase(); const v = lower.filter((p) => p[0] === k).map((p) => p[1]); return v.length ? v.join(', ') : null; },
    has: (n) => lower.some((p) => p[0] === Str(n).toLowerCase()),
    entries: () => lower.map((p) => [p[0], p[1]])[Symbol.iterator](),
  });
  return freeze({
    status: res.status, ok: res.status >= 200 && res.status < 300, url, headers,
    text: async () => res.text,
    json: async () => parse(res.text),
    arrayBuffer: async () => fromBase64(res.base64).buffer,
  });
});
`;
