/**
 * Warrants over HTTP, within the key's tenant: read a token's chain (POST /v1/warrants/inspect),
 * and make one (POST /v1/warrants) as `airlock warrant issue|attenuate` does, signed only with keys
 * the server holds. Every warrant made here is recorded (warrant.issued) before it is answered.
 */
import { createRoute } from '@hono/zod-openapi';
import { attenuateWarrant, mintWarrant } from '../../authority/mint.ts';
import { verifyWarrant, type VerifiedWarrant } from '../../authority/verify.ts';
import { AirlockError } from '../../core/errors.ts';
import { inspectWarrant, payloads } from '../warrant-view.ts';
import { inspectBodySchema, inspectSchema, madeWarrantSchema, warrantBodySchema } from '../warrant-schemas.ts';
import { ERRORS, json, SECURITY, type App, type RouteParts } from './common.ts';

const tags = ['warrants'];

const inspect = createRoute({
  method: 'post',
  path: '/v1/warrants/inspect',
  tags,
  summary: "A warrant's chain, level by level, and whether it verifies here for the key's tenant",
  security: SECURITY,
  request: { body: { required: true, content: json(inspectBodySchema) } },
  responses: { 200: { description: 'The inspection (valid false, with its error, when it does not verify)', content: json(inspectSchema) }, ...ERRORS },
});

const make = createRoute({
  method: 'post',
  path: '/v1/warrants',
  tags,
  summary: "Issue a root warrant for the key's tenant, or attenuate one of its bearer warrants (what `airlock warrant issue|attenuate` does)",
  description: 'Signed only with the keys the server holds under $AIRLOCK_HOME/warrants; recorded in the audit log (warrant.issued) before it is answered.',
  security: SECURITY,
  request: { body: { required: true, content: json(warrantBodySchema) } },
  responses: { 201: { description: 'The new warrant', content: json(madeWarrantSchema) }, ...ERRORS },
});

/** The same refusal for a token rooted in any other tenant, naming none. */
const notYours = (): AirlockError => new AirlockError('WARRANT_INVALID', "the warrant is not for your tenant: attenuate only warrants issued for your API key's tenant");

export function warrantRoutes(app: App, parts: RouteParts): void {
  const keys = parts.warrants;

  app.openapi(inspect, (c) => {
    const { token } = c.req.valid('json');
    return c.json(inspectWarrant(token, { trustedKeys: keys.trusted(), revoked: keys.revoked(), now: Date.now(), tenant: c.var.caller.tenant }), 200);
  });

  app.openapi(make, async (c) => {
    const body = c.req.valid('json');
    const { tenant, keyId } = c.var.caller;
    const now = Date.now();
    const verifyAs = { trustedKeys: keys.trusted(), now, revoked: keys.revoked(), tenant };
    let token: string;
    let parent: VerifiedWarrant | null = null;
    if ('issue' in body) {
      const o = body.issue;
      token = mintWarrant({
        signer: keys.rootSigner(o.key),
        tenant,
        grants: o.grants,
        now,
        expiresAt: now + o.ttlMs,
        ...(o.flow !== undefined && { flow: o.flow }),
        ...(o.maxDepth !== undefined && { maxDepth: o.maxDepth }),
      });
    } else {
      const o = body.attenuate;
      if (payloads(o.token)[0]?.tenant !== tenant) throw notYours();
      parent = verifyWarrant(o.token, verifyAs);
      // A bearer token carries its holder's key; a bound one is attenuated only if the server holds that key.
      const signer = parent.bearer === null ? keys.held(parent.holder.kid) : undefined;
      token = attenuateWarrant(parent, {
        now,
        expiresAt: o.ttlMs === undefined ? parent.expiresAt : now + o.ttlMs,
        ...(signer !== undefined && { signer }),
        ...(o.grants !== undefined && { grants: o.grants }),
        ...(o.flow !== undefined && { flow: o.flow }),
        ...(o.maxDepth !== undefined && { maxDepth: o.maxDepth }),
      });
    }
    const made = verifyWarrant(token, verifyAs);
    const stated = 'issue' in body ? body.issue.grants : body.attenuate.grants;
    parts.airlock.audit.append({
      kind: 'warrant.issued',
      tenant,
      sandbox: `api:${keyId}`,
      op: parent === null ? 'issue' : 'attenuate',
      warrant: { id: made.id, chainHash: made.chainHash, depth: made.depth, rootKid: made.rootKid, expiresAt: new Date(made.expiresAt).toISOString() },
      ...(parent === null ? {} : { parent: parent.chainHash }),
      ...(stated === undefined ? {} : { grants: stated.map((g) => ({ ...g })) }),
    });
    // Durable before the token leaves: a warrant nobody can find in the log is not handed out.
    await parts.airlock.audit.flush();
    return c.json({ token, id: made.id, chainHash: made.chainHash, depth: made.depth, expires: new Date(made.expiresAt).toISOString() }, 201);
  });
}
