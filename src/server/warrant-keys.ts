/**
 * The warrant material a server holds, handed to it by whoever starts it (the CLI reads it from
 * $AIRLOCK_HOME/warrants): the root keys it trusts, the revoked ids, and the private keys it may
 * sign with. Read at each use, so a key trusted or revoked with `airlock warrant` counts at once.
 *
 * @example
 *   startServer({ warrants: { trustedKeys, revoked }, warrantSigning: { kids: () => [...], key: (kid) => readSigningKey(dirs, kid) } });
 */
import type { KeyObject } from 'node:crypto';
import { KID } from '../authority/envelope.ts';
import type { SigningKey } from '../authority/keys.ts';
import { AirlockError } from '../core/errors.ts';
import type { WarrantOptions } from '../runtime/authority-host.ts';

/** The private keys the server may sign warrants with. */
export interface WarrantSigning {
  /** The key ids held. */
  kids(): readonly string[];
  /** The private key of `kid`, one of kids(). */
  key(kid: string): SigningKey;
}

export interface WarrantKeys {
  trusted(): ReadonlyMap<string, KeyObject>;
  revoked(): ReadonlySet<string>;
  /** The key to sign a root warrant with: `kid`, or the one key held and trusted; refused otherwise. */
  rootSigner(kid: string | undefined): SigningKey;
  /** The held private key of `kid`, if the server holds it. */
  held(kid: string): SigningKey | undefined;
}

const NONE: ReadonlySet<string> = new Set();

export function warrantKeys(verify: WarrantOptions | undefined, signing: WarrantSigning | undefined): WarrantKeys {
  const trusted = (): ReadonlyMap<string, KeyObject> => {
    const keys = verify?.trustedKeys;
    return keys === undefined ? new Map() : typeof keys === 'function' ? keys() : keys;
  };
  const heldIds = (): readonly string[] => (signing === undefined ? [] : signing.kids().filter((kid) => KID.test(kid)));
  return {
    trusted,
    revoked: () => verify?.revoked?.() ?? NONE,
    rootSigner(kid) {
      const trustedIds = trusted();
      const usable = heldIds().filter((id) => trustedIds.has(id));
      const chosen = kid ?? (usable.length === 1 ? usable[0] : undefined);
      if (chosen === undefined) {
        throw new AirlockError(
          usable.length === 0 ? 'WARRANT_KEY_UNTRUSTED' : 'INVALID_REQUEST',
          usable.length === 0 ? 'this server holds no trusted root key to sign with: run `airlock warrant keygen --trust` where it runs, then restart it' : `name the root key to sign with ("key"): one of ${usable.join(', ')}`,
        );
      }
      if (signing === undefined || !usable.includes(chosen)) throw new AirlockError('WARRANT_KEY_UNTRUSTED', `this server holds no trusted root key ${chosen}: name one of ${usable.join(', ') || '(none)'}`);
      return signing.key(chosen);
    },
    held(kid) {
      return signing !== undefined && heldIds().includes(kid) ? signing.key(kid) : undefined;
    },
  };
}
