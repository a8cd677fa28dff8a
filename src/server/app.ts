/**
 * The HTTP API as one Hono app, its doors in order: Host and Origin (every path), then for /v1 the
 * API key, its rate and the body size; then the routes, each its schema plus a handler that turns
 * the request into the library's call. `/openapi.json` is generated from the routes' schemas.
 *
 * @example
 *   const app = buildApp({ parts, keys, rate, hosts: { hosts: ['127.0.0.1:7878'], origins: [] }, maxBodyBytes: 2 << 20 });
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { AirlockError } from '../core/errors.ts';
import { consoleRoutes, CONSOLE_PATH } from './console/routes.ts';
import { errorResponse } from './errors.ts';
import { apiKeyGuard, hostGuard, rateGuard, type HostRules, type ServerEnv } from './guard.ts';
import type { KeyStore } from './keys.ts';
import type { RateLimiter } from './rate.ts';
import { auditRoutes } from './routes/audit.ts';
import { checkRoutes } from './routes/check.ts';
import type { RouteParts } from './routes/common.ts';
import { fileRoutes } from './routes/files.ts';
import { runRoutes } from './routes/runs.ts';
import { policyRoutes } from './routes/policies.ts';
import { sandboxRoutes } from './routes/sandboxes.ts';
import { warrantRoutes } from './routes/warrants.ts';

export interface AppOptions {
  readonly parts: RouteParts;
  readonly keys: KeyStore;
  readonly rate: RateLimiter;
  readonly hosts: HostRules;
  readonly maxBodyBytes: number;
  /** Where uncoded errors are logged. */
  readonly log: (line: string) => void;
}

export function buildApp(options: AppOptions): OpenAPIHono<ServerEnv> {
  const { log } = options;
  const app = new OpenAPIHono<ServerEnv>({
    // A request that fails its schema is INVALID_REQUEST (INVALID_POLICY for the policy), naming each field.
    defaultHook: (result, c) => {
      if (result.success) return undefined;
      const issues = result.error.issues;
      const code = issues.every((i) => i.path[0] === 'policy') && result.target === 'json' ? 'INVALID_POLICY' : 'INVALID_REQUEST';
      const list = issues.map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : `(${result.target})`}: ${i.message}`).join('; ');
      return errorResponse(c, new AirlockError(code, `the request's ${result.target} is invalid: ${list}`));
    },
  });
  app.onError((error, c) => errorResponse(c, error, log));
  app.notFound((c) => errorResponse(c, new AirlockError('NOT_FOUND', `no route ${c.req.method} ${new URL(c.req.url).pathname}: GET /openapi.json lists them`)));

  app.use('*', hostGuard({ ...options.hosts, ownPages: [CONSOLE_PATH] }));
  app.use(
    '/v1/*',
    apiKeyGuard(options.keys),
    rateGuard(options.rate),
    bodyLimit({
      maxSize: options.maxBodyBytes,
      onError: (c) => errorResponse(c, new AirlockError('REQUEST_TOO_LARGE', `the request body is over ${options.maxBodyBytes} bytes: send less, or start the server with a larger --max-body`)),
    }),
  );

  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', { type: 'http', scheme: 'bearer', description: 'An API key from `airlock keys create --tenant T`; every route acts within its tenant.' });
  runRoutes(app, options.parts);
  sandboxRoutes(app, options.parts);
  fileRoutes(app, options.parts);
  auditRoutes(app, options.parts);
  policyRoutes(app, options.parts, checkRoutes(app, options.parts));
  warrantRoutes(app, options.parts);
  // The web console: pages that read through the routes above, as the signed-in key.
  consoleRoutes(app);
  // Generated from the routes once, on first asking (it takes milliseconds to build; it never changes).
  const doc: { json?: string } = {};
  app.get('/openapi.json', (c) => {
    doc.json ??= JSON.stringify(app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'airlock', version: '1', description: 'Run code nobody trusts: default deny, grant by name, everything recorded.' } }));
    return c.body(doc.json, 200, { 'content-type': 'application/json' });
  });
  return app;
}
