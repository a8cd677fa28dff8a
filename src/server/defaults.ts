/** `airlock serve`'s defaults, apart from the server itself so the CLI can name them without loading it. */
export const SERVE_DEFAULTS = { hostname: '127.0.0.1', port: 7878, maxBodyBytes: 2 * 1024 * 1024, ratePerMinute: 600, drainMs: 30_000, streamsPerKey: 8 } as const;
