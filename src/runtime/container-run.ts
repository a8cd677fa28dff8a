/**
 * What a one-shot container run runs: the file its code is written to in the workspace and the
 * command that runs it. Checked before any sandbox is made.
 */
import { AirlockError } from '../core/errors.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { Language } from '../policy/request.ts';

export interface ContainerEntry {
  readonly file: string;
  readonly argv: readonly string[];
}

const ENTRY: Partial<Record<Language, ContainerEntry>> = {
  python: { file: 'main.py', argv: ['python3', 'main.py'] },
  sh: { file: 'main.sh', argv: ['sh', 'main.sh'] },
  js: { file: 'main.mjs', argv: ['node', 'main.mjs'] },
};

/** Throws UNSUPPORTED_LANGUAGE or CODE_TOO_LARGE. */
export function containerEntry(language: Language, code: string | Uint8Array, policy: CompiledPolicy): ContainerEntry {
  const entry = ENTRY[language];
  if (entry === undefined) {
    throw new AirlockError('UNSUPPORTED_LANGUAGE', `${language} does not run on the container tier: use python, sh or js there (ts and wasm run on the isolate tier)`);
  }
  const bytes = typeof code === 'string' ? Buffer.byteLength(code) : code.byteLength;
  if (bytes > policy.limits.codeBytes) {
    throw new AirlockError('CODE_TOO_LARGE', `the code is ${bytes} bytes, over the limit of ${policy.limits.codeBytes}: send less, or raise policy.limits.codeBytes`);
  }
  return entry;
}
