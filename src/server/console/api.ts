/**
 * How the console reads: through the server's own /v1 routes, in-process, as the signed-in key.
 * There is no second path to the store: every answer the console shows passed the same key check,
 * tenant scoping, rate limit and schemas an API client's would. The request is made fresh: only the
 * Host (already checked by the host guard) and the key go in, never the browser's cookies or Origin.
 *
 * @example
 *   const api = new ConsoleApi({ fetch: app.fetch, key: session.key, host: c.req.header('host') });
 *   const r = await api.get<{ sandboxes: Sandbox[] }>('/v1/sandboxes');   // r.ok ? r.body : r.error
 */

export type Fetcher = (request: Request) => Response | Promise<Response>;

export interface ApiError {
  readonly code: string;
  readonly message: string;
  /** The error table's one line on what to do about it. */
  readonly hint?: string;
}

export type ApiAnswer<T> = { readonly ok: true; readonly status: number; readonly body: T } | { readonly ok: false; readonly status: number; readonly error: ApiError };

export interface ConsoleApiOptions {
  readonly fetch: Fetcher;
  readonly key: string;
  /** The Host the browser's request carried (the host guard let it through). */
  readonly host: string;
  /** Aborted when the browser goes away (for streams). */
  readonly signal?: AbortSignal;
}

export class ConsoleApi {
  readonly #options: ConsoleApiOptions;

  constructor(options: ConsoleApiOptions) {
    this.#options = options;
  }

  /** The raw response (for streams); the caller reads or cancels its body. */
  async raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    if (!path.startsWith('/v1/')) throw new Error(`the console reads /v1 routes only, not ${path}`);
    const init: RequestInit = {
      method,
      headers: {
        host: this.#options.host,
        authorization: `Bearer ${this.#options.key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(this.#options.signal === undefined ? {} : { signal: this.#options.signal }),
    };
    return this.#options.fetch(new Request(`http://${this.#options.host}${path}`, init));
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const res = await this.raw(method, path, body);
    const text = await res.text();
    const parsed = parse(text);
    if (res.ok) return { ok: true, status: res.status, body: parsed as T };
    const error = (parsed as { error?: ApiError } | null)?.error;
    return { ok: false, status: res.status, error: typeof error?.code === 'string' ? error : { code: `HTTP_${res.status}`, message: text.slice(0, 500) } };
  }

  get<T>(path: string): Promise<ApiAnswer<T>> {
    return this.call<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<ApiAnswer<T>> {
    return this.call<T>('POST', path, body);
  }

  delete(path: string): Promise<ApiAnswer<null>> {
    return this.call<null>('DELETE', path);
  }
}

function parse(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
