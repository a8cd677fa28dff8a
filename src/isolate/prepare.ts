/**
 * Boundary checks before any isolate exists: size, UTF-8, TypeScript types stripped, and a full
 * parse as an ES module, so a syntax error is reported with its line and column and costs no
 * sandbox. The parsed module is then turned into one async function (module-to-function.ts).
 */
import { createRequire } from 'node:module';
import { parse, type Node } from 'acorn';
import { AirlockError } from '../core/errors.ts';
import { moduleToFunction } from './module-to-function.ts';

export interface PreparedCode {
  readonly kind: 'module' | 'wasm';
  /** A script evaluating to the guest's async main function, or base64 WebAssembly bytes. */
  readonly code: string;
  /** The code as the caller gave it, for the audit log. */
  readonly original: string;
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/**
 * amaro (what Node's own type stripping runs) is loaded at the first TypeScript run, not at start:
 * it costs a one-shot CLI run of JavaScript a quarter of a second. require() keeps it loaded.
 */
const load = createRequire(import.meta.url);
function stripTypes(text: string): string {
  const amaro = load('amaro') as typeof import('amaro');
  return amaro.transformSync(text, { mode: 'strip-only' }).code;
}

function asText(code: string | Uint8Array, maxBytes: number): string {
  const bytes = typeof code === 'string' ? Buffer.byteLength(code) : code.byteLength;
  if (bytes > maxBytes) {
    throw new AirlockError('CODE_TOO_LARGE', `the code is ${bytes} bytes, over the limit of ${maxBytes}: send less, or raise policy.limits.codeBytes`);
  }
  if (typeof code === 'string') {
    if (!code.isWellFormed()) throw new AirlockError('CODE_NOT_UTF8', 'the code has unpaired surrogates: send it as well-formed UTF-8 text');
    return code;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(code);
  } catch {
    throw new AirlockError('CODE_NOT_UTF8', 'the code is not valid UTF-8: send it as UTF-8 text');
  }
}

export function prepareCode(code: string | Uint8Array, language: 'js' | 'ts' | 'wasm', maxBytes: number): PreparedCode {
  if (language === 'wasm') {
    const bytes = typeof code === 'string' ? Buffer.from(code, 'base64') : code;
    if (bytes.byteLength > maxBytes) throw new AirlockError('CODE_TOO_LARGE', `the module is ${bytes.byteLength} bytes, over the limit of ${maxBytes}`);
    if (!WASM_MAGIC.every((b, i) => bytes[i] === b)) throw new AirlockError('SYNTAX_ERROR', 'not a WebAssembly module: it does not start with \\0asm');
    const b64 = Buffer.from(bytes).toString('base64');
    return { kind: 'wasm', code: b64, original: b64 };
  }
  const text = asText(code, maxBytes);
  let js = text;
  if (language === 'ts') {
    try {
      // amaro is what Node's own type stripping runs; called directly it prints no ExperimentalWarning.
      js = stripTypes(text);
    } catch (error) {
      throw new AirlockError('SYNTAX_ERROR', `TypeScript could not be stripped: ${(error as Error).message}. Use only erasable type syntax`);
    }
  }
  let program: Node;
  try {
    program = parse(js, { ecmaVersion: 'latest', sourceType: 'module', locations: true });
  } catch (error) {
    const loc = (error as { loc?: { line: number; column: number } }).loc;
    const where = loc === undefined ? '' : ` at line ${loc.line}, column ${loc.column + 1}`;
    throw new AirlockError('SYNTAX_ERROR', `syntax error${where}: ${(error as Error).message.replace(/ \(\d+:\d+\)$/, '')}`, loc === undefined ? undefined : { line: loc.line, column: loc.column + 1 });
  }
  return { kind: 'module', code: moduleToFunction(js, program), original: text };
}
