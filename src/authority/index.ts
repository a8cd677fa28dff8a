/** Warrants (docs/warrant-format.md): what the rest of airlock imports from the authority layer. */
export { authorize, authorizeFlow, type Authorization } from './authorize.ts';
export { WarrantCache, type WarrantCacheOptions } from './cache.ts';
export type { FlowItem } from './flow.ts';
export type { WarrantCall } from './grants.ts';
export { generateSigningKey, keyFromPem, keyPem, publicRef, signingKey, type PublicKeyRef, type SigningKey } from './keys.ts';
export { attenuateWarrant, mintWarrant, type AttenuateOptions, type MintOptions } from './mint.ts';
export type { FlowDoc, GrantDoc } from './payload.ts';
export { proveHolder, type HolderProof } from './proof.ts';
export { compileResourceTemplate, escapeResourceValue, resolveResources, routeResource, type ResourceTemplate } from './resources.ts';
export { verifyWarrant, VerifiedWarrant, type RevocationSet, type VerifyOptions, type WarrantLevel } from './verify.ts';
