/**
 * Live updates for the runs view: the browser's EventSource reads /console/events, which is
 * GET /v1/runs/events for the session's key, passed through as it streams (run.started and
 * run.ended, the tenant's only). The browser's Last-Event-ID goes along, so a reconnect resumes.
 * When the browser goes away, the inner request is aborted and the API's stream ends.
 */
import type { Context } from 'hono';
import { ConsoleApi, type Fetcher } from './api.ts';
import type { ConsoleEnv } from './guard.ts';

const LAST_ID = /^\d{1,15}$/;

export async function runEvents(c: Context<ConsoleEnv>, fetch: Fetcher): Promise<Response> {
  const api = new ConsoleApi({ fetch, key: c.var.session.key, host: c.req.header('host') ?? '', signal: c.req.raw.signal });
  const last = c.req.header('last-event-id');
  const upstream = await api.raw('GET', '/v1/runs/events', undefined, last !== undefined && LAST_ID.test(last) ? { 'last-event-id': last } : {});
  if (!upstream.ok || upstream.body === null) {
    await upstream.body?.cancel();
    // Not an event stream: EventSource stops instead of retrying.
    return c.text(`live updates are not available (${upstream.status})`, 502);
  }
  return new Response(upstream.body, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' } });
}
