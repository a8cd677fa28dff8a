/**
 * `--cordons FILE` (serve, check): the host's trust cordons as JSON, `{ "<cordon>": ["<tenant>", …] }`
 * (isolate/cordons.ts). Only the host's own file names them: nothing a request carries can.
 *
 * @example
 *   // cordons.json: { "free-tier": ["t1", "t2"], "partners": ["acme", "globex"] }
 *   // airlock serve --cordons cordons.json
 */
import { AirlockError } from '../core/errors.ts';
import type { AirlockOptions } from '../runtime/options.ts';
import { readBounded } from './read-bounded.ts';

type CordonMap = NonNullable<NonNullable<AirlockOptions['isolate']>['cordons']>;

const MAX_BYTES = 16 << 20;

export function readCordons(path: string): CordonMap {
  let text: string;
  try {
    text = readBounded(path, MAX_BYTES, { code: 'INVALID_REQUEST', message: `--cordons ${path} is over ${MAX_BYTES} bytes: keep the cordon map smaller` }).toString('utf8');
  } catch (error) {
    if (error instanceof AirlockError) throw error;
    throw new AirlockError('INVALID_REQUEST', `--cordons ${path} could not be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): give a JSON file { "<cordon>": ["<tenant>", …] }`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AirlockError('INVALID_REQUEST', `--cordons ${path} is not JSON: give { "<cordon>": ["<tenant>", …] }`);
  }
  const ok = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => Array.isArray(v) && v.every((t) => typeof t === 'string'));
  if (!ok) throw new AirlockError('INVALID_REQUEST', `--cordons ${path} must map each cordon name to a list of tenant ids: { "<cordon>": ["<tenant>", …] }`);
  // Names and ids are checked when the airlock is made (isolate/cordons.ts).
  return value as CordonMap;
}
