/**
 * The console's sign-in sessions. The API key a person signs in with is kept here, on the server,
 * under a random session id: the browser holds only that id, in a cookie the page's scripts can't
 * read (HttpOnly), that no other site's request carries (SameSite=Strict) and that only /console
 * paths receive. A session ends on sign-out, after IDLE_MS without a request, or ABSOLUTE_MS after
 * sign-in, whichever is first. Each session has its own CSRF token for the forms it posts.
 *
 * One store per app instance (made by consoleRoutes), never module state: two servers in one
 * process share nothing.
 *
 * @example
 *   const sessions = new SessionStore({ now: Date.now });
 *   const s = sessions.create(key);          // set-cookie s.id
 *   sessions.get(idFromCookie)?.key;         // the key to call /v1 with
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** A session left alone this long ends. */
export const IDLE_MS = 30 * 60_000;
/** No session lives longer than this after sign-in. */
export const ABSOLUTE_MS = 8 * 60 * 60_000;
/** At most this many live sessions; the one used least recently goes first. */
const MAX_SESSIONS = 1000;

export const COOKIE = 'airlock_console';
const ID = /^[A-Za-z0-9_-]{43}$/;

export interface Session {
  readonly id: string;
  /** The tenant API key, sent only to this server's own /v1 routes. */
  readonly key: string;
  /** Echoed by every form this session posts; compared in constant time. */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
  /** The last check report per policy name, shown until the next re-run. */
  readonly checks: Map<string, unknown>;
}

export interface SessionOptions {
  /** The clock (tests and the store agree on it); default Date.now. */
  readonly now?: () => number;
}

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #now: () => number;

  constructor(options: SessionOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  create(key: string): Session {
    this.#sweep();
    const now = this.#now();
    const session: Session = { id: randomBytes(32).toString('base64url'), key, csrf: randomBytes(32).toString('base64url'), createdAt: now, lastSeen: now, checks: new Map() };
    this.#sessions.set(session.id, session);
    // Map order is insertion order and get() re-inserts: the first entry is the least recently used.
    while (this.#sessions.size > MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
    return session;
  }

  /** The live session with this id (its idle clock restarts), or undefined. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined || !ID.test(id)) return undefined;
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    const now = this.#now();
    if (now - session.lastSeen > IDLE_MS || now - session.createdAt > ABSOLUTE_MS) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.lastSeen = now;
    this.#sessions.delete(id);
    this.#sessions.set(id, session);
    return session;
  }

  end(id: string): void {
    this.#sessions.delete(id);
  }

  /** Seconds the cookie may live: the session's absolute end (the idle end is the server's to enforce). */
  static cookieMaxAge(): number {
    return Math.floor(ABSOLUTE_MS / 1000);
  }

  #sweep(): void {
    const now = this.#now();
    for (const [id, s] of this.#sessions) {
      if (now - s.lastSeen > IDLE_MS || now - s.createdAt > ABSOLUTE_MS) this.#sessions.delete(id);
    }
  }
}

/** Whether a posted CSRF token is this session's (constant time; any other shape is a no). */
export function csrfMatches(session: Session, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}
